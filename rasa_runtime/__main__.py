"""`python -m rasa_runtime run …`: `rasa run …` with the fixes of `rasa_runtime` installed.

The API token and the CORS origin come from the settings, not the command line (rasa_runtime/arguments.py).
"""
import os
import sys

from rasa_runtime import install

install()

from rasa.__main__ import main  # noqa: E402  (after install: nothing has used Rasa yet)

if __name__ == "__main__":
    os.umask(0o077)  # the tracker's SQLite file (and its journals) and anything else Rasa writes stay private
    if sys.argv[1:2] == ["run"]:
        from bot.config import load_settings
        from rasa_runtime.arguments import run_arguments

        sys.argv[1:] = run_arguments(sys.argv[1:], load_settings())
    main()
