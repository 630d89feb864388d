"""Acceptance cases: the worked cases of the domain brief, as the engine must answer them.

These become conversation scenarios later, so each test states the numbers a
borrower or an agent would see.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import yaml

from tests.unit.negotiation_factories import annuity_position
from bot.negotiation import (
    AccountPosition,
    Authority,
    Concession,
    CounterOfferStatus,
    Finances,
    Hardship,
    History,
    PolicyError,
    affordable_instalment,
    dominated,
    evaluate_counter_offer,
    load_policy,
    monthly_surplus,
    policy_from_mapping,
    promise_to_pay_allowed,
    propose_offers,
    stalling_check,
)

POLICY_FILE = Path(__file__).resolve().parents[2] / "policy.yml"
POLICY = load_policy(POLICY_FILE)
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
    assert first.policy_version == "2026.12-4"
    assert (first.months, first.monthly, first.total_paid) == (18, Decimal("1251.19"), Decimal("22521.26"))
    assert first.total_paid == sum(instalment.amount for instalment in first.schedule)
    assert first.first_payment == date(2026, 11, 27)
    assert first.interest_accrues is True


def test_alex_is_shown_two_real_alternatives_on_the_term_extension_rung_only():
    proposal = propose_offers(ALEX, ALEX_HARDSHIP, ALEX_FINANCES, CLEAN_HISTORY, POLICY, TODAY)

    assert proposal.rung is Concession.TERM_EXTENSION
    assert proposal.more_rungs is True
    sooner, lower = proposal.offers
    # sooner and cheaper in total, against a lower instalment over the longest term the bot may agree
    assert (sooner.months, sooner.monthly, sooner.total_paid) == (18, Decimal("1251.19"), Decimal("22521.26"))
    assert (lower.months, lower.monthly, lower.total_paid) == (20, Decimal("1142.16"), Decimal("22843.07"))
    assert lower.extension_months == 6
    assert not dominated(sooner, by=lower) and not dominated(lower, by=sooner)
    assert all(Concession.INTEREST_WAIVER not in offer.concessions for offer in proposal.offers)
    assert all(offer.authority is Authority.BOT for offer in proposal.offers)
    assert all(offer.monthly <= Decimal("1260.00") for offer in proposal.offers)


def test_alex_is_offered_an_interest_waiver_only_after_declining_the_term_extension():
    proposal = propose_offers(ALEX, ALEX_HARDSHIP, ALEX_FINANCES, CLEAN_HISTORY, POLICY, TODAY, declined=1)

    assert proposal.rung is Concession.INTEREST_WAIVER
    assert proposal.more_rungs is False
    sooner, lower = proposal.offers
    # the option that dominated the term extension in issue 11, now shown only after a refusal
    assert (sooner.months, sooner.monthly, sooner.total_paid) == (18, Decimal("1232.70"), Decimal("22188.43"))
    assert sooner.interest_waived_months == lower.interest_waived_months == 1
    assert lower.monthly < sooner.monthly and lower.months > sooner.months


def test_when_alex_has_declined_every_bot_rung_the_ladder_is_exhausted_with_an_agent_deal():
    proposal = propose_offers(ALEX, ALEX_HARDSHIP, ALEX_FINANCES, CLEAN_HISTORY, POLICY, TODAY, declined=2)

    assert proposal.offers == ()
    assert proposal.reason == "ladder_exhausted"
    assert proposal.rung is None and proposal.more_rungs is False
    nearest = proposal.nearest
    assert nearest.authority is Authority.AGENT
    assert nearest.rule == "concessions.term_extension(agent_max_months=12)"
    assert (nearest.months, nearest.monthly) == (26, Decimal("916.38"))


def test_a_negative_number_of_declined_rungs_is_refused():
    with pytest.raises(ValueError, match="declined"):
        propose_offers(ALEX, ALEX_HARDSHIP, ALEX_FINANCES, CLEAN_HISTORY, POLICY, TODAY, declined=-1)


def test_dominated_means_no_worse_on_every_count_and_better_on_one():
    proposal = propose_offers(ALEX, ALEX_HARDSHIP, ALEX_FINANCES, CLEAN_HISTORY, POLICY, TODAY)
    extension = proposal.offers[0]
    waiver = propose_offers(
        ALEX, ALEX_HARDSHIP, ALEX_FINANCES, CLEAN_HISTORY, POLICY, TODAY, declined=1
    ).offers[0]

    # issue 11: the interest waiver beats the term extension on monthly and total, ties on payments
    assert dominated(extension, by=waiver)
    assert not dominated(waiver, by=extension)
    assert not dominated(extension, by=extension)


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
    assert len(proposal.offers) <= 2


def test_wang_shows_good_faith_with_a_100_token_in_a_week_then_nothing_until_the_grace_ends():
    proposal = propose_offers(WANG, WANG_HARDSHIP, WANG_FINANCES, CLEAN_HISTORY, POLICY, TODAY)

    for offer in proposal.offers:
        token, first_regular = offer.schedule[0], offer.schedule[1]
        assert (offer.good_faith_amount, offer.good_faith_due) == (Decimal("100.00"), date(2026, 11, 27))
        assert (token.amount, token.due, token.principal) == (Decimal("100.00"), date(2026, 11, 27), Decimal("100.00"))
        assert offer.first_payment == date(2026, 11, 27)
        assert first_regular.due == date(2027, 1, 27)
        assert len(offer.schedule) == offer.months + 1
        assert offer.total_paid == sum(instalment.amount for instalment in offer.schedule)
        assert sum(instalment.principal for instalment in offer.schedule) == offer.balance


def test_a_plan_without_grace_takes_its_first_instalment_as_the_good_faith_payment():
    first = propose_offers(ALEX, ALEX_HARDSHIP, ALEX_FINANCES, CLEAN_HISTORY, POLICY, TODAY).offers[0]

    assert (first.good_faith_amount, first.good_faith_due) == (Decimal("1251.19"), date(2026, 11, 27))


def test_the_good_faith_token_is_a_positive_amount_in_the_policy():
    assert POLICY.plan.grace_good_faith_amount == Decimal("100.00")
    for bad, problem in [(0, "must be a positive amount"), (-5, "must be a non-negative amount"),
                         (10.005, "at most 2 decimal places"), ("some", "must be a non-negative amount")]:
        data = yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8"))
        data["plan"]["grace_good_faith_amount"] = bad
        with pytest.raises(PolicyError, match=r"^policy\.yml: plan\.grace_good_faith_amount = ") as error:
            policy_from_mapping(data, source="policy.yml")
        assert problem in str(error.value)
    data = yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8"))
    del data["plan"]["grace_good_faith_amount"]
    with pytest.raises(PolicyError, match=r"plan\.grace_good_faith_amount: missing"):
        policy_from_mapping(data, source="policy.yml")


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
    assert (first.good_faith_amount, first.good_faith_due) == (ALEX.arrears, TODAY)
    # one plan on this rung: nothing to trade off
    assert len(proposal.offers) == 1 and proposal.rung is Concession.PAY_NOW

    promise = propose_offers(ALEX, ALEX_HARDSHIP, comfortable, CLEAN_HISTORY, POLICY, TODAY, declined=1)
    assert promise.rung is Concession.PROMISE_TO_PAY
    assert [offer.concessions for offer in promise.offers] == [(Concession.PROMISE_TO_PAY,)]
    assert (promise.offers[0].good_faith_amount, promise.offers[0].good_faith_due) == (Decimal("0"), None)


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
