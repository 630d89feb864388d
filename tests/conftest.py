"""Shared fixtures: each test gets its own migrated SQLite database."""
from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

from bot.config import loan_reference_format  # noqa: E402
from bot.demo.seed import seed_demo_data  # noqa: E402
from bot.storage import Database  # noqa: E402
from bot.storage.schema import migrate  # noqa: E402
from tests.integration.require import pytest_runtest_makereport  # noqa: E402,F401  (no skip under REQUIRE_INTEGRATION=1)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 28)


@pytest.fixture
def database(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    migrate(url)
    db = Database(url)
    yield db
    db.dispose()


@pytest.fixture
def demo_database(database: Database) -> Database:
    with database.unit_of_work() as session:
        seed_demo_data(session, TODAY)
    return database


@pytest.fixture
def reference_format(monkeypatch):
    """Set LOAN_REFERENCE_FORMAT for this test: `reference_format("LN/######")`. Parsers, prompts and
    import all read the new format; the default is back after the test."""
    def use(template: str) -> None:
        monkeypatch.setenv("LOAN_REFERENCE_FORMAT", template)
        loan_reference_format.cache_clear()

    yield use
    loan_reference_format.cache_clear()
