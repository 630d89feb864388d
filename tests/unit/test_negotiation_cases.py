"""Acceptance cases: the worked cases of the domain brief, as the engine must answer them.

These become conversation scenarios later, so each test states the numbers a
borrower or an agent would see.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.unit.negotiation_factories import annuity_position
from bot.negotiation import (
    AccountPosition,
    Authority,
    Concession,
    CounterOfferStatus,
    Finances,
    Hardship,
    History,
    affordable_instalment,
    evaluate_counter_offer,
    load_policy,
    monthly_surplus,
    promise_to_pay_allowed,
    propose_offers,
    stalling_check,
)

POLICY = load_policy(Path(__file__).resolve().parents[2] / "policy.yml")
TODAY = date(2026, 11, 20)
CLEAN_HISTORY = History(renegotiations_last_12_months=0, broken_promises=0, open_promises=0)


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def contract_position(
    *,
    annual_rate: str,
    instalment: str,
    missed: int,
    remaining: int,
    fees: str = "0",
    penalty: str = "0",
    days_past_due: int,
) -> AccountPosition:
    """The books of the brief's loans, from their contract terms (see negotiation_factories)."""
    return annuity_position(annual_rate=Decimal(annual_rate), instalment=Decimal(instalment), missed=missed,
                            remaining=remaining, fees=Decimal(fees), penalty=Decimal(penalty),
                            days_past_due=days_past_due)


ALEX = contract_position(
    annual_rate="0.18", instalment="1250.00", missed=3, remaining=14, fees="180.00", days_past_due=75
)
ALEX_HARDSHIP = Hardship(cause="medical_bills", temporary=None, recovery_months=None)
ALEX_FINANCES = Finances(net_income=Decimal("9000"), essential_costs=Decimal("7200"))

WANG = contract_position(annual_rate="0.156", instalment="1200.00", missed=2, remaining=18, days_past_due=45)
WANG_HARDSHIP = Hardship(cause="job_loss", temporary=True, recovery_months=2)
WANG_FINANCES = Finances(net_income=Decimal("0"), essential_costs=Decimal("3500"))


def test_the_fixture_positions_match_the_books_in_the_brief():
    assert ALEX.outstanding_principal == Decimal("18634.56")
    assert ALEX.overdue_interest == Decimal("794.67")
    assert ALEX.arrears == Decimal("3930.00")
    assert WANG.outstanding_principal == Decimal("21014.35")
    assert WANG.overdue_interest == Decimal("534.33")
    assert WANG.arrears == Decimal("2400.00")


# Case 1: Alex Morgan, medical bills.


def test_alex_can_afford_seventy_percent_of_an_1800_surplus():
    assert monthly_surplus(ALEX_FINANCES, POLICY) == Decimal("1800.00")
    assert affordable_instalment(ALEX_FINANCES, POLICY) == Decimal("1260.00")


def test_alex_is_first_offered_a_bot_term_extension_with_the_arrears_spread():
    proposal = propose_offers(ALEX, ALEX_HARDSHIP, ALEX_FINANCES, CLEAN_HISTORY, POLICY, TODAY)

    assert proposal.reason is None
    first = proposal.offers[0]
    assert Concession.TERM_EXTENSION in first.concessions
    assert Concession.SPREAD_ARREARS in first.concessions
    assert first.extension_months <= 6
    assert first.months == ALEX.remaining_instalments + first.extension_months
    assert first.monthly <= Decimal("1260.00")
    assert first.authority is Authority.BOT
    assert first.rule == "concessions.term_extension(bot_max_months=6)"
    assert first.policy_version == "2026.11-1"
    assert (first.months, first.monthly, first.total_paid) == (18, Decimal("1251.19"), Decimal("22521.26"))
    assert first.total_paid == sum(instalment.amount for instalment in first.schedule)
    assert first.first_payment == date(2026, 11, 27)
    assert first.interest_accrues is True


def test_alex_offers_come_cheapest_concession_first_and_all_within_bot_limits():
    proposal = propose_offers(ALEX, ALEX_HARDSHIP, ALEX_FINANCES, CLEAN_HISTORY, POLICY, TODAY)

    ladder = list(Concession)
    ranks = [max(ladder.index(concession) for concession in offer.concessions) for offer in proposal.offers]
    assert ranks == sorted(ranks)
    assert 1 <= len(proposal.offers) <= 3
    assert all(offer.authority is Authority.BOT for offer in proposal.offers)
    assert all(offer.monthly <= Decimal("1260.00") for offer in proposal.offers)


# Case 2: Wang Fang, lost her job, expects to recover in two months.


def test_wang_gets_a_grace_period_with_interest_waived_then_no_more_than_her_old_instalment():
    proposal = propose_offers(WANG, WANG_HARDSHIP, WANG_FINANCES, CLEAN_HISTORY, POLICY, TODAY)

    assert proposal.reason is None
    first = proposal.offers[0]
    assert Concession.GRACE_PERIOD in first.concessions
    assert Concession.INTEREST_WAIVER in first.concessions
    assert 2 <= first.grace_months <= 3
    assert 1 <= first.interest_waived_months <= 3
    assert first.waived_interest > 0
    assert first.monthly <= WANG.contractual_instalment
    assert first.extension_months <= 6
    assert first.authority is Authority.BOT
    assert first.schedule[0].due == date(2027, 1, 27)


def test_wang_with_an_unknown_recovery_gets_no_grace_and_goes_to_a_person():
    open_ended = Hardship(cause="job_loss", temporary=None, recovery_months=None)

    proposal = propose_offers(WANG, open_ended, WANG_FINANCES, CLEAN_HISTORY, POLICY, TODAY)

    assert proposal.offers == ()
    assert proposal.reason == "no_sustainable_plan"


# Case 3: Alex counter-offers.


def test_alex_offering_500_a_month_is_refused_with_the_limit_and_the_nearest_bot_deal():
    result = evaluate_counter_offer(
        Decimal("500"), ALEX, ALEX_HARDSHIP, ALEX_FINANCES, CLEAN_HISTORY, POLICY, TODAY
    )

    assert result.status in (CounterOfferStatus.BELOW_FLOOR, CounterOfferStatus.TOO_LONG)
    assert result.status is CounterOfferStatus.TOO_LONG
    assert result.reason == "too_long"
    assert result.max_months == ALEX.remaining_instalments + 6
    assert result.floor == Decimal("392.19")
    assert result.offer is None
    nearest = result.nearest
    assert nearest is not None and nearest.authority is Authority.BOT
    assert nearest.months + nearest.grace_months <= result.max_months
    assert nearest.monthly <= affordable_instalment(ALEX_FINANCES, POLICY)
    assert result.promise_to_pay_available is True


def test_alex_offering_1300_a_month_is_accepted_and_the_term_derived_from_it():
    result = evaluate_counter_offer(
        Decimal("1300"), ALEX, ALEX_HARDSHIP, ALEX_FINANCES, CLEAN_HISTORY, POLICY, TODAY
    )

    assert result.status is CounterOfferStatus.ACCEPTABLE
    offer = result.offer
    assert offer.monthly == Decimal("1300.00")
    assert offer.months == 18
    assert all(instalment.amount == Decimal("1300.00") for instalment in offer.schedule[:-1])
    assert Decimal("0") < offer.schedule[-1].amount <= Decimal("1300.00")
    assert offer.authority is Authority.BOT
    assert Concession.TERM_EXTENSION in offer.concessions


def test_a_counter_offer_below_the_floor_names_the_floor():
    result = evaluate_counter_offer(
        Decimal("150"), ALEX, ALEX_HARDSHIP, ALEX_FINANCES, CLEAN_HISTORY, POLICY, TODAY
    )

    assert result.status is CounterOfferStatus.BELOW_FLOOR
    assert result.reason == "below_floor"
    assert result.floor == Decimal("392.19")
    assert result.nearest is not None


def test_a_counter_offer_above_the_whole_surplus_is_not_accepted():
    result = evaluate_counter_offer(
        Decimal("2500"), ALEX, ALEX_HARDSHIP, ALEX_FINANCES, CLEAN_HISTORY, POLICY, TODAY
    )

    assert result.status is CounterOfferStatus.UNAFFORDABLE
    assert result.nearest is not None
    assert result.nearest.monthly <= Decimal("1260.00")


def test_a_counter_offer_too_long_for_the_bot_says_which_role_could_accept_it():
    result = evaluate_counter_offer(
        Decimal("1000"), ALEX, ALEX_HARDSHIP, ALEX_FINANCES, CLEAN_HISTORY, POLICY, TODAY
    )

    assert result.status is CounterOfferStatus.TOO_LONG
    assert result.authority_needed is Authority.AGENT


# Case 4: anti-stalling.


def test_a_second_renegotiation_within_twelve_months_is_stalling():
    history = History(renegotiations_last_12_months=1, broken_promises=0, open_promises=0)

    assert stalling_check(history, POLICY) == "renegotiation_limit"
    proposal = propose_offers(ALEX, ALEX_HARDSHIP, ALEX_FINANCES, history, POLICY, TODAY)
    assert proposal.offers == ()
    assert proposal.reason == "stalling"
    assert proposal.stalling_rule == "renegotiation_limit"


def test_two_broken_promises_is_stalling():
    history = History(renegotiations_last_12_months=0, broken_promises=2, open_promises=0)

    assert stalling_check(history, POLICY) == "broken_promises"
    proposal = propose_offers(ALEX, ALEX_HARDSHIP, ALEX_FINANCES, history, POLICY, TODAY)
    assert proposal.offers == ()
    assert proposal.stalling_rule == "broken_promises"


def test_one_broken_promise_is_not_yet_stalling():
    history = History(renegotiations_last_12_months=0, broken_promises=1, open_promises=0)

    assert stalling_check(history, POLICY) is None


def test_a_stalling_counter_offer_is_not_evaluated():
    history = History(renegotiations_last_12_months=0, broken_promises=2, open_promises=0)

    result = evaluate_counter_offer(
        Decimal("1300"), ALEX, ALEX_HARDSHIP, ALEX_FINANCES, history, POLICY, TODAY
    )

    assert result.status is CounterOfferStatus.STALLING
    assert result.reason == "broken_promises"
    assert result.offer is None and result.nearest is None


# Promise to pay.


@pytest.mark.parametrize(
    ("amount", "days_ahead", "history", "expected"),
    [
        ("3930.00", 14, CLEAN_HISTORY, (True, "within_policy")),
        ("1250.00", 7, CLEAN_HISTORY, (True, "within_policy")),
        ("1249.99", 7, CLEAN_HISTORY, (False, "below_minimum")),
        ("3930.00", 15, CLEAN_HISTORY, (False, "beyond_horizon")),
        ("3930.00", -1, CLEAN_HISTORY, (False, "date_in_past")),
        ("3930.00", 3, History(0, 0, 1), (False, "open_promise_limit")),
        ("3930.00", 3, History(0, 2, 0), (False, "broken_promises")),
    ],
)
def test_promise_to_pay_needs_one_instalment_by_a_date_within_fourteen_days(
    amount, days_ahead, history, expected
):
    promised_on = date.fromordinal(TODAY.toordinal() + days_ahead)

    assert promise_to_pay_allowed(Decimal(amount), promised_on, ALEX, history, POLICY, TODAY) == expected


def test_a_small_arrears_can_be_promised_in_full_even_below_one_instalment():
    small = contract_position(annual_rate="0.18", instalment="1250.00", missed=0, remaining=14, days_past_due=3)
    small = AccountPosition(**{**small.__dict__, "fees": Decimal("60.00"), "arrears": Decimal("60.00")})

    assert promise_to_pay_allowed(Decimal("60.00"), TODAY, small, CLEAN_HISTORY, POLICY, TODAY) == (
        True,
        "within_policy",
    )


def test_a_borrower_who_can_clear_the_arrears_is_first_offered_to_pay_now():
    comfortable = Finances(net_income=Decimal("20000"), essential_costs=Decimal("10000"))

    proposal = propose_offers(ALEX, ALEX_HARDSHIP, comfortable, CLEAN_HISTORY, POLICY, TODAY)

    first = proposal.offers[0]
    assert first.concessions == (Concession.PAY_NOW,)
    assert first.down_payment == ALEX.arrears
    assert first.schedule[0].amount == ALEX.arrears and first.schedule[0].due == TODAY
    assert first.months == ALEX.remaining_instalments
    assert proposal.offers[1].concessions == (Concession.PROMISE_TO_PAY,)


def test_an_agent_sees_deals_the_bot_may_not_grant():
    tight = Finances(net_income=Decimal("9000"), essential_costs=Decimal("7600"))

    bot = propose_offers(ALEX, ALEX_HARDSHIP, tight, CLEAN_HISTORY, POLICY, TODAY)
    agent = propose_offers(ALEX, ALEX_HARDSHIP, tight, CLEAN_HISTORY, POLICY, TODAY, authority=Authority.AGENT)

    assert bot.offers == ()
    assert bot.reason == "needs_agent"
    assert bot.nearest.authority is Authority.AGENT
    assert agent.offers[0] == bot.nearest


def test_an_account_with_nothing_owed_gets_no_plan():
    nothing = Decimal("0")
    settled = AccountPosition(
        **{
            **ALEX.__dict__,
            "outstanding_principal": nothing,
            "overdue_interest": nothing,
            "fees": nothing,
            "arrears": nothing,
            "remaining_instalments": 0,
        }
    )

    proposal = propose_offers(settled, ALEX_HARDSHIP, ALEX_FINANCES, CLEAN_HISTORY, POLICY, TODAY)

    assert proposal.offers == () and proposal.reason == "nothing_owed"
