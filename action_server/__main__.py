"""`python -m action_server`: the guarded action server on ACTION_HOST:ACTION_PORT, from settings."""
from __future__ import annotations

import logging
import os

from rasa_sdk import utils
from rasa_sdk.plugin import plugin_manager

from action_server import create_app
from bot.config import load_settings


def main() -> None:
    os.umask(0o077)  # anything this process creates (SQLite journals included) is private
    utils.configure_colored_logging(None)
    utils.update_sanic_log_level()
    settings = load_settings()
    app = create_app(settings.action_server_token, settings.action_max_request_bytes)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)  # as rasa_sdk's own `run`
    logging.getLogger(__name__).info("action server on http://%s:%s", settings.action_host, settings.action_port)
    app.run(settings.action_host, settings.action_port, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()
