"""The contact policy with a controllable clock: quiet hours (DST, zones, midnight wrap), unknown zones,
caps, every refusal rule and the retry time each one gives."""
from __future__ import annotations

import dataclasses
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.negotiation.policy import JurisdictionRules, load_policy
from bot.outreach.rules import ContactFacts, Decision, NoCommonHours, decide, is_quiet, next_allowed
from tests.conftest import PROJECT_ROOT

RULES = load_policy(PROJECT_ROOT / "policy.yml").outreach
CLEAR = ContactFacts(attempts=(), opted_out=False, handoff_open=False, dispute_or_complaint_open=False,
                     vulnerable=False, hold=None, own_verified_chat=True)
UTC = timezone.utc


def at(zone: str, *args: int, fold: int = 0) -> datetime:
    """A local wall time in `zone` as a naive UTC datetime (how the database stores times)."""
    return datetime(*args, tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC).replace(tzinfo=None)


def local(moment: datetime, zone: str) -> datetime:
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def rules_with(**changes) -> object:
    return dataclasses.replace(RULES, **changes)


def quiet_everywhere(start: str, end: str):
    hours = JurisdictionRules(time.fromisoformat(start), time.fromisoformat(end), 0)
    return rules_with(jurisdictions={code: hours for code in RULES.jurisdictions})


def ask(now, zone="Asia/Shanghai", jurisdiction="CN", facts=CLEAR, rules=RULES) -> Decision:
    return decide(now=now, time_zone=zone, jurisdiction=jurisdiction, facts=facts, rules=rules)


# -- quiet hours -------------------------------------------------------------------------------------
def test_daytime_in_the_borrowers_zone_is_sent():
    assert ask(at("Asia/Shanghai", 2026, 5, 4, 10, 0)) == Decision(True, None, None)


@pytest.mark.parametrize("zone, jurisdiction, wall, retry_wall", [
    ("Asia/Shanghai", "CN", (2026, 5, 4, 22, 0), (2026, 5, 5, 8, 0)),     # starts at quiet_from
    ("Asia/Shanghai", "CN", (2026, 5, 4, 23, 59), (2026, 5, 5, 8, 0)),    # before midnight
    ("Asia/Shanghai", "CN", (2026, 5, 5, 0, 30), (2026, 5, 5, 8, 0)),     # after the wrap
    ("Asia/Shanghai", "CN", (2026, 5, 5, 7, 59), (2026, 5, 5, 8, 0)),
    ("America/Los_Angeles", "US", (2026, 5, 4, 21, 0), (2026, 5, 5, 8, 0)),
    ("Asia/Kolkata", "CN", (2026, 5, 4, 22, 15), (2026, 5, 5, 8, 0)),     # half-hour offset zone
    ("Europe/London", "UK", (2026, 12, 31, 23, 0), (2027, 1, 1, 8, 0)),   # across a year end
])
def test_quiet_hours_wrap_midnight_and_retry_at_the_local_end(zone, jurisdiction, wall, retry_wall):
    decision = ask(at(zone, *wall), zone, jurisdiction)
    assert decision.send is False and decision.rule == f"quiet_hours:{jurisdiction}"
    assert local(decision.retry_at, zone) == datetime(*retry_wall)


def test_jurisdictions_quiet_hours_differ_at_the_same_local_hour():
    assert ask(at("Asia/Shanghai", 2026, 5, 4, 21, 30), jurisdiction="CN").send is True
    assert ask(at("Asia/Shanghai", 2026, 5, 4, 21, 30), jurisdiction="US").rule == "quiet_hours:US"


def test_quiet_window_not_wrapping_midnight():
    rules = quiet_everywhere("12:00", "14:00")
    assert ask(at("Asia/Shanghai", 2026, 5, 4, 11, 59), rules=rules).send
    decision = ask(at("Asia/Shanghai", 2026, 5, 4, 12, 0), rules=rules)
    assert local(decision.retry_at, "Asia/Shanghai") == datetime(2026, 5, 4, 14, 0)
    assert ask(at("Asia/Shanghai", 2026, 5, 4, 14, 0), rules=rules).send


def test_the_same_utc_instant_is_quiet_in_one_zone_and_not_another():
    now = datetime(2026, 5, 4, 13, 0)  # 21:00 Shanghai, 14:00 London, 09:00 New York, 18:30 Kolkata
    assert ask(now, "Asia/Shanghai", "US").rule == "quiet_hours:US"
    assert ask(now, "Europe/London", "US").send
    assert ask(now, "America/New_York", "US").send
    assert ask(now, "Asia/Kolkata", "US").send


# -- daylight saving ---------------------------------------------------------------------------------
def test_new_york_spring_forward_quiet_ends_at_eight_daylight_time():
    # 2026-03-08: 02:00 EST becomes 03:00 EDT; the night is an hour shorter
    now = at("America/New_York", 2026, 3, 7, 22, 0)
    decision = ask(now, "America/New_York", "US")
    assert decision.retry_at == datetime(2026, 3, 8, 12, 0)  # 08:00 EDT = 12:00 UTC (not 13:00)
    assert decision.retry_at - now == timedelta(hours=9)


def test_london_fall_back_quiet_ends_at_eight_winter_time():
    # 2026-10-25: 02:00 BST becomes 01:00 GMT; the night is an hour longer
    now = at("Europe/London", 2026, 10, 24, 21, 0)
    decision = ask(now, "Europe/London", "UK")
    assert decision.retry_at == datetime(2026, 10, 25, 8, 0)  # 08:00 GMT
    assert decision.retry_at - now == timedelta(hours=12)


def test_quiet_end_in_a_skipped_hour_is_the_transition():
    # 02:30 does not exist in New York on 2026-03-08: the first instant past it is 03:00 EDT
    rules = quiet_everywhere("01:00", "02:30")
    decision = ask(at("America/New_York", 2026, 3, 8, 1, 15), "America/New_York", "US", rules=rules)
    assert decision.retry_at == datetime(2026, 3, 8, 7, 0)
    assert local(decision.retry_at, "America/New_York") == datetime(2026, 3, 8, 3, 0)


def test_a_repeated_local_hour_is_judged_each_time_it_occurs():
    # London 2026-10-25: 01:00-02:00 happens twice (BST, then GMT). Quiet 00:00-01:30.
    rules = quiet_everywhere("00:00", "01:30")
    first_0145 = at("Europe/London", 2026, 10, 25, 1, 45, fold=0)
    second_0115 = at("Europe/London", 2026, 10, 25, 1, 15, fold=1)
    assert ask(first_0145, "Europe/London", "UK", rules=rules).send
    decision = ask(second_0115, "Europe/London", "UK", rules=rules)
    assert decision.rule == "quiet_hours:UK"
    assert decision.retry_at == at("Europe/London", 2026, 10, 25, 1, 30, fold=1)  # 01:30 GMT
    assert decision.retry_at - second_0115 == timedelta(minutes=15)


def test_quiet_end_in_a_repeated_hour_is_its_first_occurrence():
    rules = quiet_everywhere("23:00", "01:30")
    decision = ask(at("Europe/London", 2026, 10, 24, 23, 30), "Europe/London", "UK", rules=rules)
    assert decision.retry_at == at("Europe/London", 2026, 10, 25, 1, 30, fold=0)  # 00:30 UTC


def test_new_york_fall_back_and_los_angeles_spring_forward():
    ny = ask(at("America/New_York", 2026, 11, 1, 0, 30), "America/New_York", "US")
    assert local(ny.retry_at, "America/New_York") == datetime(2026, 11, 1, 8, 0)
    assert ny.retry_at == datetime(2026, 11, 1, 13, 0)  # EST again
    la = ask(at("America/Los_Angeles", 2026, 3, 8, 1, 30), "America/Los_Angeles", "US")
    assert la.retry_at == datetime(2026, 3, 8, 15, 0)  # 08:00 PDT


def test_next_allowed_is_now_outside_quiet_hours_and_keeps_the_form_of_now():
    now = datetime(2026, 5, 4, 4, 0, tzinfo=UTC)  # 12:00 Shanghai
    assert next_allowed(now, "Asia/Shanghai", "CN", RULES) == now
    late = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)  # 23:00 Shanghai
    assert next_allowed(late, "Asia/Shanghai", "CN", RULES) == datetime(2026, 5, 5, 0, 0, tzinfo=UTC)
    assert next_allowed(late.replace(tzinfo=None), "Asia/Shanghai", None, RULES) == datetime(2026, 5, 5, 0, 0)


# -- unknown time zone -------------------------------------------------------------------------------
SERVED = rules_with(served_time_zones=("Asia/Shanghai", "Europe/London", "America/New_York"))


@pytest.mark.parametrize("zone", [None, "", "Mars/Olympus_Mons"])
def test_unknown_zone_only_at_hours_quiet_in_no_served_zone(zone):
    # CN hours 08-22 local: Shanghai 00-14 UTC, London 08-22 UTC (winter), New York 13-03 UTC: common 13-14 UTC
    assert ask(datetime(2026, 1, 12, 13, 30), zone, "CN", rules=SERVED).send
    decision = ask(datetime(2026, 1, 12, 10, 0), zone, "CN", rules=SERVED)
    assert decision.rule == "quiet_hours:CN" and decision.retry_at == datetime(2026, 1, 12, 13, 0)
    after = ask(datetime(2026, 1, 12, 14, 0), zone, "CN", rules=SERVED)
    assert after.retry_at == datetime(2026, 1, 13, 13, 0)


def test_unknown_zone_with_no_common_hours_is_dropped():
    rules = rules_with(served_time_zones=("Asia/Shanghai", "Europe/London", "America/Los_Angeles"))
    assert ask(datetime(2026, 1, 12, 13, 30), None, "CN", rules=rules) == Decision(False, "no_common_hours", None)
    with pytest.raises(NoCommonHours):
        next_allowed(datetime(2026, 1, 12, 13, 30), None, "CN", rules)


def test_unknown_zone_with_the_default_served_zone_follows_shanghai():
    decision = ask(at("Asia/Shanghai", 2026, 5, 4, 23, 0), None, None)
    assert local(decision.retry_at, "Asia/Shanghai") == datetime(2026, 5, 5, 8, 0)


# -- caps --------------------------------------------------------------------------------------------
def facts_with(*attempts: datetime) -> ContactFacts:
    return dataclasses.replace(CLEAR, attempts=attempts)


def test_one_attempt_today_in_local_time_moves_the_next_to_tomorrow_morning():
    earlier = at("America/New_York", 2026, 5, 4, 9, 0)
    decision = ask(at("America/New_York", 2026, 5, 4, 15, 0), "America/New_York", "US", facts_with(earlier))
    assert decision.rule == "cap:per_day"
    assert local(decision.retry_at, "America/New_York") == datetime(2026, 5, 5, 8, 0)


def test_the_day_is_the_borrowers_local_day_not_the_utc_day():
    # 23:00 UTC on 4 May is 07:00 on 5 May in Shanghai: a different local day from 01:00 UTC on 4 May
    first = datetime(2026, 5, 4, 1, 0)   # 09:00 on 4 May, Shanghai
    second = datetime(2026, 5, 5, 0, 30)  # 08:30 on 5 May, Shanghai; same UTC-ish day apart
    assert ask(second, facts=facts_with(first)).send
    same_utc_day_other = datetime(2026, 5, 4, 13, 0)  # 21:00 on 4 May, Shanghai
    assert ask(same_utc_day_other, facts=facts_with(first)).rule == "cap:per_day"


def test_three_in_seven_days_wait_for_the_oldest_to_leave_the_window():
    zone = "Europe/London"
    sent = (at(zone, 2026, 5, 1, 10, 0), at(zone, 2026, 5, 3, 10, 0), at(zone, 2026, 5, 5, 10, 0))
    decision = ask(at(zone, 2026, 5, 6, 10, 0), zone, "UK", facts_with(*sent))
    assert decision.rule == "cap:per_7_days"
    assert decision.retry_at == sent[0] + timedelta(days=7)
    assert ask(sent[0] + timedelta(days=7), zone, "UK", facts_with(*sent)).send


def test_a_cap_retry_that_lands_in_quiet_hours_moves_to_the_morning():
    zone = "Asia/Shanghai"
    sent = (at(zone, 2026, 5, 1, 21, 30), at(zone, 2026, 5, 3, 10, 0), at(zone, 2026, 5, 5, 10, 0))
    decision = ask(at(zone, 2026, 5, 6, 10, 0), zone, "CN", facts_with(*sent))
    assert decision.rule == "cap:per_7_days"
    # 21:30 on 8 May frees the window, but that is 21:30 (allowed under CN, quiet from 22:00)
    assert local(decision.retry_at, zone) == datetime(2026, 5, 8, 21, 30)
    us = ask(at(zone, 2026, 5, 6, 10, 0), zone, "US", facts_with(*sent))
    assert local(us.retry_at, zone) == datetime(2026, 5, 9, 8, 0)  # quiet from 21:00 under US hours


def test_quiet_hours_name_the_refusal_when_both_apply():
    zone = "Asia/Shanghai"
    decision = ask(at(zone, 2026, 5, 4, 23, 0), zone, "CN", facts_with(at(zone, 2026, 5, 4, 9, 0)))
    assert decision.rule == "quiet_hours:CN"
    assert local(decision.retry_at, zone) == datetime(2026, 5, 5, 8, 0)


def test_attempts_older_than_seven_days_do_not_count_and_aware_times_are_accepted():
    now = datetime(2026, 5, 12, 4, 0, tzinfo=UTC)
    old = tuple(now - timedelta(days=7, hours=h) for h in (0, 1, 2))
    assert ask(now, facts=facts_with(*old)).send


def test_cap_per_day_with_a_higher_limit():
    rules = rules_with(max_per_day=2)
    zone = "Asia/Kolkata"
    one = at(zone, 2026, 5, 4, 9, 0)
    assert ask(at(zone, 2026, 5, 4, 12, 0), zone, "CN", facts_with(one), rules=rules).send
    two = ask(at(zone, 2026, 5, 4, 15, 0), zone, "CN", facts_with(one, at(zone, 2026, 5, 4, 12, 0)), rules=rules)
    assert two.rule == "cap:per_day"


# -- refusals that drop --------------------------------------------------------------------------------
@pytest.mark.parametrize("change, rule", [
    ({"opted_out": True}, "opted_out"),
    ({"own_verified_chat": False}, "not_own_chat"),
    ({"vulnerable": True}, "vulnerable"),
    ({"handoff_open": True, "dispute_or_complaint_open": True}, "dispute_open"),
    ({"handoff_open": True}, "handoff_open"),
    ({"hold": "breathing_space"}, "hold:breathing_space"),
    ({"hold": "agent_pause"}, "hold:agent_pause"),
])
def test_each_stop_rule_drops_even_in_daytime(change, rule):
    decision = ask(at("Asia/Shanghai", 2026, 5, 4, 10, 0), facts=dataclasses.replace(CLEAR, **change))
    assert decision == Decision(False, rule, None)


def test_opt_out_outranks_everything_else():
    facts = dataclasses.replace(CLEAR, opted_out=True, handoff_open=True, vulnerable=True, hold="agent_pause")
    assert ask(at("Asia/Shanghai", 2026, 5, 4, 23, 0), facts=facts).rule == "opted_out"


def test_unknown_jurisdiction_uses_the_default():
    assert ask(at("Asia/Shanghai", 2026, 5, 4, 21, 30), jurisdiction="XX").send  # CN: quiet from 22:00


# -- properties -----------------------------------------------------------------------------------------
ZONES = ["Asia/Shanghai", "Europe/London", "America/New_York", "America/Los_Angeles", "Asia/Kolkata",
         "Australia/Lord_Howe", None]
CLOCKS = st.times().map(lambda t: t.replace(microsecond=0, second=0))


@settings(max_examples=300, deadline=None)
@given(now=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)),
       zone=st.sampled_from(ZONES), start=CLOCKS, end=CLOCKS,
       gaps=st.lists(st.integers(1, 60 * 24 * 6), max_size=4))
def test_any_send_or_retry_instant_is_outside_quiet_hours_and_within_caps(now, zone, start, end, gaps):
    rules = dataclasses.replace(quiet_everywhere(start.isoformat(), end.isoformat()),
                                served_time_zones=("Asia/Shanghai", "Asia/Kolkata"))
    attempts = tuple(now - timedelta(minutes=g) for g in gaps)
    decision = ask(now, zone, "CN", facts_with(*attempts), rules=rules)
    if decision.rule == "no_common_hours":
        return
    moment = now if decision.send else decision.retry_at
    assert moment >= now
    zones = [zone] if zone else list(rules.served_time_zones)
    hours = rules.jurisdictions["CN"]
    for name in zones:
        assert not is_quiet(local(moment, name).time(), hours)
    cap_zone = zones[0]
    assert sum(1 for a in attempts if local(a, cap_zone).date() == local(moment, cap_zone).date()) < rules.max_per_day
    assert sum(1 for a in attempts if moment - timedelta(days=7) < a <= moment) < rules.max_per_7_days
    if not decision.send:  # nothing earlier would have done: one minute before is refused too
        earlier = moment - timedelta(minutes=1)
        if earlier >= now:
            assert not ask(earlier, zone, "CN", facts_with(*attempts), rules=rules).send
