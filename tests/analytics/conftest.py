"""The hand-built desk of `dataset`, in a migrated SQLite database plus a separate tracker-store file.

`desk`/`analytics` are per test (for tests that change data); `shared_analytics` is built once per
module for the many tests that only read it (migrating a database takes seconds)."""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.analytics.service import Analytics
from bot.storage import Database
from bot.storage.schema import migrate
from tests.analytics.dataset import write_books, write_tracker


def make_tracker(directory: Path) -> str:
    url = f"sqlite:///{directory / 'tracker.db'}"
    engine = sa.create_engine(url, future=True)
    with engine.begin() as connection:
        write_tracker(connection.execution_options(schema_translate_map={"tracker": None}))
    engine.dispose()
    return url


@pytest.fixture
def tracker_url(tmp_path) -> str:
    return make_tracker(tmp_path)


@pytest.fixture
def desk(database, tracker_url):
    with database.unit_of_work() as session:
        write_books(session)
    return database


@pytest.fixture
def analytics(desk, tracker_url):
    service = Analytics(desk.url, tracker_url)
    yield service
    service.dispose()


@pytest.fixture(scope="module")
def shared_analytics(tmp_path_factory):
    directory = tmp_path_factory.mktemp("desk")
    url = f"sqlite:///{directory / 'app.db'}"
    migrate(url)
    database = Database(url)
    with database.unit_of_work() as session:
        write_books(session)
    service = Analytics(url, make_tracker(directory))
    yield service
    service.dispose()
    database.dispose()
