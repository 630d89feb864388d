"""The whole schema in one place: importing this module registers every table."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

import bot.accounts.models  # noqa: F401  (registers tables)
import bot.verification.models  # noqa: F401
import bot.handoff.models  # noqa: F401
import bot.agreements.models  # noqa: F401
import bot.lifecycle.models  # noqa: F401
import bot.outreach.models  # noqa: F401
import bot.risk.models  # noqa: F401
import bot.analytics.models  # noqa: F401
from bot.storage.base import Base

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

metadata = Base.metadata


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def migrate(database_url: str) -> None:
    """Create or upgrade the application schema to the newest migration."""
    command.upgrade(alembic_config(database_url), "head")
