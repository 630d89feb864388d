"""policy.yml is loaded once into frozen limits, and a bad value is rejected with its key named."""

from dataclasses import FrozenInstanceError
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.negotiation import Authority, PolicyError, load_policy, policy_from_mapping

POLICY_FILE = Path(__file__).resolve().parents[2] / "policy.yml"


@pytest.fixture()
def policy_data() -> dict:
    """A fresh, mutable copy of the project's policy.yml for each test."""
    return yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8"))


def with_value(data: dict, key_path: str, value) -> dict:
    node = data
    *parents, leaf = key_path.split(".")
    for key in parents:
        node = node[key]
    node[leaf] = value
    return data


def test_project_policy_loads_with_a_version_and_the_documented_defaults():
    policy = load_policy(POLICY_FILE)

    assert policy.version == "2026.12-4"
    assert policy.affordability.surplus_share == Decimal("0.7")
    assert policy.instalment_floor.min_amount == Decimal("200.00")
    assert policy.instalment_floor.min_share_of_balance == Decimal("0.02")
    assert policy.plan.max_months == 60
    assert policy.plan.good_faith_first_payment_days == 7
    assert policy.promise_to_pay.horizon_days == 14
    assert policy.anti_stalling.renegotiations_per_12_months == 1
    assert policy.anti_stalling.broken_promises_limit == 2
    assert policy.concessions.term_extension.cap(Authority.BOT) == 6
    assert policy.concessions.term_extension.cap(Authority.AGENT) == 12
    assert policy.concessions.term_extension.cap(Authority.SUPERVISOR) == 24
    assert policy.concessions.interest_waiver.cap(Authority.BOT) == 3
    assert policy.concessions.fee_waiver.cap(Authority.BOT) == Decimal("200.00")
    assert policy.concessions.write_down.cap(Authority.AGENT) == Decimal("0")


def test_loaded_policy_is_frozen():
    policy = load_policy(POLICY_FILE)

    with pytest.raises(FrozenInstanceError):
        policy.version = "tampered"  # type: ignore[misc]


def test_money_in_policy_is_decimal_never_float():
    policy = load_policy(POLICY_FILE)

    assert isinstance(policy.affordability.surplus_share, Decimal)
    assert isinstance(policy.concessions.fee_waiver.cap(Authority.AGENT), Decimal)


def test_negative_term_extension_names_the_key_path_and_value(policy_data):
    with_value(policy_data, "concessions.term_extension.bot_max_months", -1)

    with pytest.raises(PolicyError) as error:
        policy_from_mapping(policy_data, source="policy.yml")

    assert str(error.value) == (
        "policy.yml: concessions.term_extension.bot_max_months = -1: "
        "must be an integer between 0 and 60"
    )


@pytest.mark.parametrize(
    ("key_path", "value", "expected"),
    [
        ("affordability.surplus_share", 1.5, "must be a number between 0 and 1"),
        ("affordability.surplus_share", "lots", "must be a number between 0 and 1"),
        ("instalment_floor.min_amount", 200.005, "at most 2 decimal places"),
        ("plan.max_months", True, "must be an integer"),
        ("plan.max_months", 0, "must be an integer between 1 and 360"),
        ("promise_to_pay.horizon_days", 2.5, "must be an integer"),
        ("concessions.interest_waiver.agent_max_months", 1, "at least bot_max_months (3)"),
        ("concessions.spread_arrears.enabled", "yes", "must be true or false"),
        ("version", "", "must be a non-empty string"),
    ],
)
def test_invalid_values_are_rejected_with_the_key_named(policy_data, key_path, value, expected):
    with_value(policy_data, key_path, value)

    with pytest.raises(PolicyError) as error:
        policy_from_mapping(policy_data, source="policy.yml")

    message = str(error.value)
    assert message.startswith(f"policy.yml: {key_path} = ")
    assert expected in message


def test_missing_key_is_named(policy_data):
    del policy_data["concessions"]["grace_period"]["bot_max_months"]

    with pytest.raises(PolicyError, match=r"concessions\.grace_period\.bot_max_months: missing"):
        policy_from_mapping(policy_data, source="policy.yml")


def test_unknown_key_is_named_so_typos_do_not_silently_fall_back(policy_data):
    policy_data["concessions"]["term_extension"]["bot_max_month"] = 6

    with pytest.raises(PolicyError, match=r"concessions\.term_extension\.bot_max_month: unknown key"):
        policy_from_mapping(policy_data, source="policy.yml")


def test_load_policy_reports_the_file_it_read(tmp_path, policy_data):
    broken = tmp_path / "strict.yml"
    broken.write_text(
        yaml.safe_dump(with_value(policy_data, "plan.good_faith_first_payment_days", -3)),
        encoding="utf-8",
    )

    with pytest.raises(PolicyError, match=r"^strict\.yml: plan\.good_faith_first_payment_days = -3"):
        load_policy(broken)


def test_a_file_that_is_not_a_mapping_is_rejected(tmp_path):
    broken = tmp_path / "policy.yml"
    broken.write_text("- just\n- a list\n", encoding="utf-8")

    with pytest.raises(PolicyError, match="must be a mapping"):
        load_policy(broken)


INTEGER_MONTH_KEYS = [
    "concessions.term_extension.bot_max_months",
    "concessions.interest_waiver.bot_max_months",
    "concessions.grace_period.bot_max_months",
    "plan.good_faith_first_payment_days",
    "promise_to_pay.horizon_days",
    "anti_stalling.broken_promises_limit",
]


@settings(max_examples=60, deadline=None)
@given(
    key_path=st.sampled_from(INTEGER_MONTH_KEYS),
    value=st.one_of(
        st.integers(max_value=-1),
        st.integers(min_value=10_000),
        st.text(max_size=5),
        st.floats().filter(lambda number: not number.is_integer()),
        st.booleans(),
        st.none(),
    ),
)
def test_any_invalid_integer_limit_is_rejected_with_its_key_named(key_path, value):
    data = yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8"))
    with_value(data, key_path, value)

    with pytest.raises(PolicyError) as error:
        policy_from_mapping(data, source="policy.yml")

    assert str(error.value).startswith(f"policy.yml: {key_path} = ")


def test_desk_hours_are_read_in_the_desk_time_zone():
    from datetime import datetime
    desk = load_policy(POLICY_FILE).desk
    assert desk.time_zone == "Asia/Shanghai" and desk.open_days == (0, 1, 2, 3, 4)
    assert desk.first_reply_minutes == {1: 5, 2: 15, 3: 60, 4: 240}
    # Tuesday 2026-12-01 01:00 UTC is 09:00 in Shanghai: open; 10:00 UTC is 18:00 there: closed.
    assert desk.is_open(datetime(2026, 12, 1, 1, 0))
    assert not desk.is_open(datetime(2026, 12, 1, 0, 59))
    assert not desk.is_open(datetime(2026, 12, 1, 10, 0))
    # Saturday 2026-12-05 03:00 UTC is 11:00 on a Saturday in Shanghai: closed.
    assert not desk.is_open(datetime(2026, 12, 5, 3, 0))


def test_desk_closing_before_opening_is_refused():
    import yaml
    data = yaml.safe_load(POLICY_FILE.read_text())
    data["desk"]["closes"] = "08:00"
    with pytest.raises(PolicyError, match="desk.closes"):
        policy_from_mapping(data)


def test_a_desk_staffed_around_the_clock_closes_at_24_00():
    from datetime import datetime
    import yaml
    data = yaml.safe_load(POLICY_FILE.read_text())
    data["desk"].update(open_days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"], opens="00:00", closes="24:00")
    desk = policy_from_mapping(data).desk
    assert desk.is_open(datetime(2026, 12, 1, 15, 59, 59))  # 23:59:59 in Shanghai
    assert desk.is_open(datetime(2026, 12, 1, 16, 0))       # midnight
