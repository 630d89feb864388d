"""The agent queue's races on a real PostgreSQL, where claims really run in parallel."""
from __future__ import annotations

import pytest

from tests.handoff.races import assert_one_claim_won, assert_one_close_won, claim_race, close_race

pytestmark = pytest.mark.slow


def test_of_many_agents_claiming_at_once_exactly_one_wins_on_postgres(pg_database):
    race, holder = claim_race(pg_database, agents=16)
    assert_one_claim_won(race, holder)


def test_of_a_hand_back_and_a_close_at_once_exactly_one_wins_on_postgres(pg_database):
    race, final = close_race(pg_database)
    assert_one_close_won(race, final)
