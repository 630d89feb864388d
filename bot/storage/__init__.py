"""Database plumbing: declarative base, engine and unit-of-work sessions, migrations."""
from bot.storage.base import Base
from bot.storage.session import Database

__all__ = ["Base", "Database"]
