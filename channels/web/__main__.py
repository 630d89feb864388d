"""`python -m channels.web`: serve the web app on WEB_PORT."""
from __future__ import annotations

import uvicorn

from bot.config import load_settings
from channels.web.app import create_app


def main() -> None:
    settings = load_settings()
    # Rasa pins an old `websockets`; the web app needs no websockets (the console polls).
    uvicorn.run(create_app(settings), host="0.0.0.0", port=settings.web_port, log_level="warning", ws="none")


if __name__ == "__main__":
    main()
