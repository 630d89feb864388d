"""The arguments `python -m rasa_runtime run` adds to Rasa's own, from settings, so no command line holds a secret.

`rasa run --auth-token <token>` put the HTTP API's token in every `ps` listing, and a token beginning
with "-" was read by argparse as an option ("expected one argument"). The token is read from the
settings (RASA_API_TOKEN, or the one generated into `var/`) inside the process instead, and passed
as `--auth-token=<token>`, which argparse reads whatever the token's first character. Changing
`sys.argv` changes what Rasa parses, not the process's command line that `ps` shows.

CORS: Rasa's HTTP routes answer browsers from the web app's origin only (PUBLIC_BASE_URL), not "*"
(Rasa sets CORS_SUPPORTS_CREDENTIALS). The widget's socket.io connection is a WebSocket, which
CORS does not govern, so it keeps working from any page the lender embeds it in.
"""
from __future__ import annotations

from bot.config import Settings


def _given(argv: list[str], long: str, short: str | None = None) -> bool:
    for argument in argv:
        if argument == long or argument.startswith(long + "="):
            return True
        if short and argument.startswith(short) and not argument.startswith("--"):
            return True
    return False


def run_arguments(argv: list[str], settings: Settings) -> list[str]:
    """`argv` (Rasa's arguments) with the API token and the CORS origin added, for `rasa run` of the server only.

    What the caller gave explicitly stays; other commands (`rasa run actions`, `rasa train`, …) are left as they are.
    """
    if argv[:1] != ["run"] or argv[1:2] == ["actions"]:
        return list(argv)
    added = []
    if not _given(argv, "--auth-token", "-t"):
        added.append(f"--auth-token={settings.rasa_api_token}")
    if not _given(argv, "--cors"):
        added += ["--cors", settings.public_origin]
    return [*argv, *added]
