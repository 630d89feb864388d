"""Money properties that must hold for every account, hardship and budget, not just the worked cases."""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.unit.negotiation_factories import annuity_position
from bot.negotiation import (
    AccountPosition,
    Authority,
    Concession,
    CounterOfferStatus,
    Finances,
    Hardship,
    History,
    Offer,
    affordable_instalment,
    dominated,
    due_date,
    evaluate_counter_offer,
    load_policy,
    propose_offers,
)

POLICY = load_policy(Path(__file__).resolve().parents[2] / "policy.yml")
CLEAN_HISTORY = History(renegotiations_last_12_months=0, broken_promises=0, open_promises=0)
CENT = Decimal("0.01")
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@st.composite
def positions(draw) -> AccountPosition:
    """Consistent books for an annuity loan: missed instalments, fees and what is still to come."""
    annual_rate = draw(st.sampled_from(["0", "0.06", "0.099", "0.156", "0.18", "0.24", "0.36"]))
    instalment = Decimal(draw(st.integers(min_value=300, max_value=6000))) + Decimal(
        draw(st.integers(min_value=0, max_value=99))
    ) / 100
    missed = draw(st.integers(min_value=0, max_value=8))
    remaining = draw(st.integers(min_value=0, max_value=48))
    assume(missed + remaining >= 1)
    fees = Decimal(draw(st.integers(min_value=0, max_value=150_000))) / 100
    penalty = Decimal(draw(st.integers(min_value=0, max_value=50_000))) / 100
    return annuity_position(annual_rate=Decimal(annual_rate), instalment=instalment, missed=missed,
                            remaining=remaining, fees=fees, penalty=penalty, days_past_due=30 * missed)


hardships = st.one_of(
    st.just(Hardship(cause=None, temporary=None, recovery_months=None)),
    st.just(Hardship(cause="medical_bills", temporary=False, recovery_months=None)),
    st.builds(
        Hardship,
        cause=st.just("job_loss"),
        temporary=st.just(True),
        recovery_months=st.integers(min_value=0, max_value=8),
    ),
)


@st.composite
def finances(draw) -> Finances:
    costs = Decimal(draw(st.integers(min_value=0, max_value=20_000)))
    income = Decimal(draw(st.integers(min_value=0, max_value=30_000)))
    other = Decimal(draw(st.sampled_from([0, 0, 0, 500, 2000])))
    return Finances(net_income=income, essential_costs=costs, other_unsecured_debt_payments=other)


todays = st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31))
authorities = st.sampled_from(list(Authority))
declines = st.integers(min_value=0, max_value=4)
LADDER = list(Concession)


def balance_of(position: AccountPosition) -> Decimal:
    return (
        position.outstanding_principal
        + position.overdue_interest
        + position.fees
        + position.penalty_interest
    )


def assert_within_limits(offer: Offer, position: AccountPosition, hardship: Hardship, affordable: Decimal):
    """Every limit of the authority the offer claims, checked from the outside."""
    caps = POLICY.concessions
    role = offer.authority
    assert offer.extension_months == max(0, offer.grace_months + offer.months - position.remaining_instalments)
    assert offer.extension_months <= caps.term_extension.cap(role)
    assert offer.interest_waived_months <= caps.interest_waiver.cap(role)
    assert offer.grace_months <= caps.grace_period.cap(role)
    assert offer.waived_fees <= caps.fee_waiver.cap(role)
    assert offer.waived_fees <= position.fees + position.penalty_interest
    assert offer.grace_months + offer.months <= POLICY.plan.max_months
    assert offer.policy_version == POLICY.version
    if offer.written_off:
        share = offer.written_off / (balance_of(position) - offer.waived_fees)
        cap = max(caps.settlement_discount.cap(role), caps.write_down.cap(role))
        assert share <= cap

    if offer.months > 1:
        repaid = offer.balance - offer.down_payment - (offer.good_faith_amount if offer.grace_months else 0)
        floor = max(POLICY.instalment_floor.min_amount, repaid * POLICY.instalment_floor.min_share_of_balance)
        assert offer.monthly >= cents(floor)
        if offer.interest_accrues and offer.interest_waived_months == 0 and offer.grace_months == 0:
            assert offer.monthly > repaid * position.annual_rate / 12
    grace_covered = (
        offer.grace_months > 0
        and hardship.temporary is True
        and hardship.recovery_months is not None
        and offer.grace_months >= hardship.recovery_months
    )
    ceiling = max(affordable, position.contractual_instalment) if grace_covered else affordable
    assert max(instalment.amount for instalment in offer.schedule) <= ceiling


def assert_schedule_adds_up(offer: Offer):
    amounts = [instalment.amount for instalment in offer.schedule]
    assert sum(amounts) == offer.total_paid
    assert all(amount > 0 and amount == amount.quantize(CENT) for amount in amounts)
    assert all(instalment.principal + instalment.interest == instalment.amount for instalment in offer.schedule)
    assert all(instalment.principal >= 0 and instalment.interest >= 0 for instalment in offer.schedule)
    assert sum(instalment.principal for instalment in offer.schedule) == offer.balance
    assert [instalment.number for instalment in offer.schedule] == list(range(1, len(offer.schedule) + 1))
    dues = [instalment.due for instalment in offer.schedule]
    assert dues == sorted(dues) and len(set(dues)) == len(dues)
    assert len(offer.schedule) == offer.months + (1 if offer.down_payment or offer.grace_months else 0)
    assert all(instalment.amount <= offer.monthly for instalment in offer.schedule[1:-1])


def assert_good_faith_payment(offer: Offer, today: date):
    """A plan is activated by a payment due within the good-faith days; a grace plan's is the policy token."""
    days = timedelta(days=POLICY.plan.good_faith_first_payment_days)
    first = offer.schedule[0]
    if Concession.PROMISE_TO_PAY in offer.concessions:
        assert (offer.good_faith_amount, offer.good_faith_due) == (Decimal("0"), None)
        return
    assert (offer.good_faith_amount, offer.good_faith_due) == (first.amount, first.due)
    assert today <= offer.good_faith_due <= today + days
    assert offer.first_payment == offer.good_faith_due
    if offer.grace_months:
        assert offer.good_faith_amount == POLICY.plan.grace_good_faith_amount
        assert first.principal == offer.good_faith_amount and first.interest == 0
        # then the grace months, with nothing else to pay
        assert offer.schedule[1].due == due_date(offer.good_faith_due, offer.grace_months)
    assert sum(instalment.amount for instalment in offer.schedule) == offer.total_paid


@PROPERTY_SETTINGS
@given(
    position=positions(),
    hardship=hardships,
    budget=finances(),
    today=todays,
    authority=authorities,
    declined=declines,
)
def test_no_offer_breaks_a_limit_of_the_authority_it_claims(position, hardship, budget, today, authority, declined):
    proposal = propose_offers(
        position, hardship, budget, CLEAN_HISTORY, POLICY, today, authority=authority, declined=declined
    )
    affordable = affordable_instalment(budget, POLICY, position.contractual_instalment)

    offers = list(proposal.offers) + ([proposal.nearest] if proposal.nearest else [])
    for offer in proposal.offers:
        assert offer.authority.rank <= authority.rank
    for offer in offers:
        assert_within_limits(offer, position, hardship, affordable)
        assert offer.balance == balance_of(position) - offer.waived_fees - offer.written_off
        assert today <= offer.first_payment
        if not offer.down_payment:
            assert offer.first_payment <= today + timedelta(days=POLICY.plan.good_faith_first_payment_days)
        assert_good_faith_payment(offer, today)
    if not proposal.offers:
        assert proposal.reason in {
            "nothing_owed", "needs_agent", "needs_supervisor", "no_sustainable_plan", "ladder_exhausted"
        }
        if proposal.nearest is not None:
            assert proposal.nearest.authority.rank > authority.rank


@PROPERTY_SETTINGS
@given(
    position=positions(),
    hardship=hardships,
    budget=finances(),
    today=todays,
    authority=authorities,
    declined=declines,
)
def test_every_schedule_sums_to_the_total_to_the_cent_and_repays_the_balance_exactly(
    position, hardship, budget, today, authority, declined
):
    proposal = propose_offers(
        position, hardship, budget, CLEAN_HISTORY, POLICY, today, authority=authority, declined=declined
    )

    for offer in list(proposal.offers) + ([proposal.nearest] if proposal.nearest else []):
        assert_schedule_adds_up(offer)


@PROPERTY_SETTINGS
@given(
    position=positions(),
    budget=finances(),
    cut=st.integers(min_value=1, max_value=10_000),
    today=todays,
)
def test_a_lower_surplus_never_yields_a_larger_first_offer_payment(position, budget, cut, today):
    # A grace period covering a temporary hardship is sized on the contractual instalment
    # (what the borrower paid before), so monotonicity is asked of budget-sized plans only.
    hardship = Hardship(cause="medical_bills", temporary=None, recovery_months=None)
    poorer = Finances(
        net_income=budget.net_income - cut,
        essential_costs=budget.essential_costs,
        other_unsecured_debt_payments=budget.other_unsecured_debt_payments,
    )

    def heaviest_first_payment(finances: Finances):
        proposal = propose_offers(position, hardship, finances, CLEAN_HISTORY, POLICY, today)
        offer = proposal.offers[0] if proposal.offers else proposal.nearest
        return None if offer is None else max(instalment.amount for instalment in offer.schedule)

    richer_payment = heaviest_first_payment(budget)
    poorer_payment = heaviest_first_payment(poorer)
    if richer_payment is None:
        assert poorer_payment is None
    elif poorer_payment is not None:
        assert poorer_payment <= richer_payment


@PROPERTY_SETTINGS
@given(
    position=positions(),
    hardship=hardships,
    budget=finances(),
    amount=st.integers(min_value=1, max_value=20_000),
    today=todays,
)
def test_an_accepted_counter_offer_charges_exactly_what_the_borrower_offered(
    position, hardship, budget, amount, today
):
    offered = Decimal(amount)

    result = evaluate_counter_offer(offered, position, hardship, budget, CLEAN_HISTORY, POLICY, today)

    if result.status is CounterOfferStatus.ACCEPTABLE:
        offer = result.offer
        assert offer.monthly == offered
        regular = offer.schedule[1:] if offer.grace_months else offer.schedule
        assert all(instalment.amount == offered for instalment in regular[:-1])
        assert offer.schedule[-1].amount <= offered
        assert offer.authority is Authority.BOT
        assert_schedule_adds_up(offer)
        assert offer.extension_months <= POLICY.concessions.term_extension.cap(Authority.BOT)
        assert offer.grace_months + offer.months <= POLICY.plan.max_months
    else:
        assert result.offer is None
        assert result.reason
    if result.nearest is not None:
        assert_schedule_adds_up(result.nearest)
    for offer in (result.offer, result.nearest):
        if offer is not None:
            assert_good_faith_payment(offer, today)


def same_rung_terms(offer: Offer) -> tuple:
    """What a rung fixes: everything conceded except how long the plan runs."""
    return (offer.waived_fees, offer.grace_months, offer.interest_waived_months, offer.written_off,
            offer.down_payment, offer.interest_accrues)


@settings(max_examples=150, deadline=None)
@given(position=positions(), hardship=hardships, budget=finances(), today=todays, authority=authorities)
def test_the_ladder_is_climbed_one_rung_at_a_time_with_undominated_alternatives(
    position, hardship, budget, today, authority
):
    affordable = affordable_instalment(budget, POLICY, position.contractual_instalment)
    proposals = [
        propose_offers(position, hardship, budget, CLEAN_HISTORY, POLICY, today, authority=authority, declined=k)
        for k in range(5)
    ]

    for declined, proposal in enumerate(proposals):
        offers = proposal.offers
        # (b) at most two options
        assert len(offers) <= 2
        # (a) no option another proposed option beats on every count
        for offer in offers:
            assert not any(dominated(offer, by=other) for other in offers if other is not offer)
        if len(offers) == 2:
            assert offers[0] != offers[1]
            assert offers[0].monthly > offers[1].monthly
        # (c) all options on one rung: the rung's concession, the same concessions granted
        if offers:
            assert proposal.rung is not None and proposal.reason is None
            assert all(proposal.rung in offer.concessions for offer in offers)
            assert len({same_rung_terms(offer) for offer in offers}) == 1
            assert len({max(LADDER.index(c) for c in offer.concessions) for offer in offers}) == 1
        else:
            assert proposal.rung is None and proposal.more_rungs is False
        # (e) every limit, for every option and the nearest deal
        for offer in list(offers) + ([proposal.nearest] if proposal.nearest else []):
            assert_within_limits(offer, position, hardship, affordable)
            assert_schedule_adds_up(offer)
            assert_good_faith_payment(offer, today)
        if declined:
            before = proposals[declined - 1]
            # (d) strictly later on the ladder; more_rungs says whether this step would come
            assert before.more_rungs == bool(offers)
            if offers:
                assert LADDER.index(proposal.rung) > LADDER.index(before.rung)
            elif before.offers or before.reason == "ladder_exhausted":
                assert proposal.reason == "ladder_exhausted"
                if before.reason == "ladder_exhausted":
                    assert proposal.nearest == before.nearest
            else:
                assert proposal.reason == before.reason and proposal.nearest == before.nearest
