"""`python -m rasa_runtime run …`: `rasa run …` with the fixes of `rasa_runtime` installed."""
from rasa_runtime import install

install()

from rasa.__main__ import main  # noqa: E402  (after install: nothing has used Rasa yet)

if __name__ == "__main__":
    main()
