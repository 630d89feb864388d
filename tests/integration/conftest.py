"""PostgreSQL and Redis from Debian packages (started by scripts/integration_services.sh).

Locally, without those services, the tests skip; with REQUIRE_INTEGRATION=1 (as in CI)
a missing service is a failure, so CI can never pass by skipping them.
"""
from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text

from bot.storage import Database
from bot.storage.schema import migrate
from tests.integration.require import require


def _service_url(name: str) -> str:
    url = os.environ.get(name, "")
    require(bool(url), f"{name} not set (run: eval \"$(bash scripts/integration_services.sh)\")")
    return url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return _service_url("TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def redis_url() -> str:
    return _service_url("TEST_REDIS_URL")


def reset_schema(url: str) -> None:
    engine = create_engine(url, future=True)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def pg_database(postgres_url: str) -> Database:
    reset_schema(postgres_url)
    migrate(postgres_url)
    db = Database(postgres_url)
    yield db
    db.dispose()
