"""Repayment plans within the lender's policy: the concession ladder, counter-offers and promises to pay.

Given what the books say, why the borrower fell behind, what they can afford
and their history, the engine climbs the concession ladder one rung at a time,
cheapest first: each proposal is on one rung and holds at most two genuine
alternatives (the rung's shortest sustainable plan and its lowest instalment),
never one that another proposed option beats on every count. Every offer
states the lowest role allowed to grant it and the policy rule that did.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum
from itertools import islice
from typing import Iterator

from bot.negotiation.affordability import (
    Finances,
    Hardship,
    affordable_instalment,
    grace_months_needed,
    monthly_surplus,
)
from bot.negotiation.money import CENT, ZERO, cents_down, cents_up, level_instalment, monthly_rate, to_cents
from bot.negotiation.policy import Authority, Policy, RoleCaps
from bot.negotiation.schedule import Instalment, PlanDoesNotRepay, Schedule, due_date, instalment_schedule
from bot.negotiation.stalling import History, stalling_check

NO_LIMIT = Decimal("Infinity")


@dataclass(frozen=True)
class AccountPosition:
    """What the lender's books say about the loan today."""

    currency: str
    annual_rate: Decimal
    contractual_instalment: Decimal
    outstanding_principal: Decimal
    overdue_interest: Decimal
    fees: Decimal
    penalty_interest: Decimal
    arrears: Decimal
    remaining_instalments: int
    days_past_due: int

    @property
    def restructure_balance(self) -> Decimal:
        """Everything a new plan must repay before any concession: principal, overdue interest, fees, penalty."""
        return self.outstanding_principal + self.overdue_interest + self.fees + self.penalty_interest


class Concession(str, Enum):
    """Rungs of the concession ladder, cheapest for the lender first."""

    PAY_NOW = "pay_now"
    PROMISE_TO_PAY = "promise_to_pay"
    SPREAD_ARREARS = "spread_arrears"
    FEE_WAIVER = "fee_waiver"
    GRACE_PERIOD = "grace_period"
    TERM_EXTENSION = "term_extension"
    INTEREST_WAIVER = "interest_waiver"
    SETTLEMENT_DISCOUNT = "settlement_discount"
    WRITE_DOWN = "write_down"


@dataclass(frozen=True)
class Offer:
    """A priced, dated repayment plan the lender may put to the borrower, recorded as offered."""

    concessions: tuple[Concession, ...]  # cheapest first
    monthly: Decimal  # regular instalment after any grace period; the last one may be smaller
    months: int  # number of regular instalments
    grace_months: int  # months with no payment before the first regular instalment
    interest_waived_months: int  # months from the start of the plan charged no interest
    waived_fees: Decimal  # late fees and penalty interest forgiven
    waived_interest: Decimal  # interest the waived months did not charge
    first_payment: date
    total_paid: Decimal  # == sum of the schedule's amounts
    interest_accrues: bool  # False when the plan freezes interest altogether
    schedule: tuple[Instalment, ...]
    authority: Authority  # lowest role allowed to grant it
    rule: str  # the policy rule(s) that allowed it
    policy_version: str
    down_payment: Decimal  # the arrears paid first (pay now, promise to pay), else 0
    extension_months: int  # months the plan (grace included) runs past the remaining term
    written_off: Decimal  # settlement discount or write-down forgiven
    balance: Decimal  # restructured balance after waivers: what the principal parts repay
    # The payment that shows good faith and activates the plan: with grace, the policy's token
    # (schedule row 1, it reduces the balance); else the first payment of the schedule. A promise
    # to pay has none (0, None): the promise is its own commitment, dated by promise_to_pay.
    good_faith_amount: Decimal = ZERO
    good_faith_due: date | None = None


@dataclass(frozen=True)
class Proposal:
    """What the engine proposes: one rung's alternatives (at most two), or why there are none."""

    offers: tuple[Offer, ...]  # one rung; shortest plan first, then the lower instalment; none dominated
    reason: str | None  # None, "stalling", "nothing_owed", "needs_agent", "needs_supervisor",
    #                     "no_sustainable_plan", "ladder_exhausted"
    stalling_rule: str | None
    nearest: Offer | None  # with "needs_*"/"ladder_exhausted": the first deal a higher role could approve
    affordable: Decimal
    rung: Concession | None = None  # the ladder rung `offers` are on
    more_rungs: bool = False  # whether declining these brings another rung for this role


def payments(offer: Offer) -> int:
    """How many payments the borrower makes under the offer (good-faith and down payments included)."""
    return len(offer.schedule)


def dominated(offer: Offer, by: Offer) -> bool:
    """Whether `by` is at least as good for the borrower on every count and better on one.

    The counts are the monthly instalment, the number of payments and the total
    paid: `by` is <= on all three and < on at least one. A borrower shown both
    would never choose `offer`.
    """
    mine = (offer.monthly, payments(offer), offer.total_paid)
    theirs = (by.monthly, payments(by), by.total_paid)
    return all(t <= m for t, m in zip(theirs, mine)) and theirs != mine


class CounterOfferStatus(str, Enum):
    """The answer to a monthly amount the borrower proposes."""

    ACCEPTABLE = "acceptable"
    BELOW_FLOOR = "below_floor"
    TOO_LONG = "too_long"
    UNAFFORDABLE = "unaffordable"
    STALLING = "stalling"


@dataclass(frozen=True)
class CounterOfferResult:
    """A counter-offer's verdict, the figures behind it and the nearest deal the role can make."""

    status: CounterOfferStatus
    reason: str | None  # "below_floor", "too_long", "above_surplus" or the stalling rule
    offer: Offer | None  # the recomputed plan when acceptable
    floor: Decimal  # smallest instalment the policy accepts on this balance
    max_months: int  # longest plan (grace included) the role may agree
    nearest: Offer | None
    promise_to_pay_available: bool
    authority_needed: Authority | None  # lowest role that could accept the amount as offered


@dataclass(frozen=True)
class _Terms:
    """The shape of one candidate plan before it is priced."""

    base: Concession
    limit: Decimal  # the most any payment may be
    min_term: int
    max_term: int  # regular instalments
    waived_fees: Decimal = ZERO
    written_off: Decimal = ZERO
    written_off_share: Decimal = ZERO
    grace_months: int = 0
    interest_free_months: int = 0
    interest_accrues: bool = True
    down_payment: Decimal = ZERO
    down_payment_due: date | None = None


@dataclass(frozen=True)
class _SustainableRung:
    """A rung the role can offer: its terms and its shortest sustainable plan."""

    rung: Concession
    terms: _Terms
    shortest: Offer


class _Negotiation:
    """One account's facts and the policy, with the arithmetic every rung shares."""

    def __init__(
        self,
        position: AccountPosition,
        hardship: Hardship,
        finances: Finances,
        history: History,
        policy: Policy,
        today: date,
    ) -> None:
        self.position = position
        self.hardship = hardship
        self.history = history
        self.policy = policy
        self.today = today
        self.rate = monthly_rate(position.annual_rate)
        self.balance = position.restructure_balance
        self.surplus = monthly_surplus(finances, policy)
        self.affordable = affordable_instalment(finances, policy, position.contractual_instalment)
        self.recovery_months = grace_months_needed(hardship)
        self.caps = policy.concessions
        self.plan_start = today + timedelta(days=policy.plan.good_faith_first_payment_days)

    def floor(self, repaid: Decimal, start_balance: Decimal, charges_interest_at_once: bool) -> Decimal:
        """The smallest regular instalment: policy minimum, share of the balance, more than a month's interest."""
        rules = self.policy.instalment_floor
        parts = [rules.min_amount, repaid * rules.min_share_of_balance]
        if charges_interest_at_once:
            parts.append(start_balance * self.rate + CENT)
        return cents_up(max(parts))

    def grace(self, role: Authority) -> tuple[int, int]:
        """Grace months and interest-frozen months this role can give the hardship; (0, 0) when none."""
        months = self.recovery_months
        if months < 1 or months > self.caps.grace_period.cap(role):
            return 0, 0
        frozen = months if self.caps.grace_period.interest_frozen else 0
        if frozen > self.caps.interest_waiver.cap(role):
            return 0, 0
        return months, frozen

    def good_faith(self, terms: _Terms) -> Decimal:
        """The token paid before a grace period (it repays balance); 0 for plans without grace."""
        return self.policy.plan.grace_good_faith_amount if terms.grace_months > 0 else ZERO

    def paid_first(self, terms: _Terms) -> Decimal:
        """What is paid before the regular instalments: the arrears (pay now, promise) or the token."""
        return terms.down_payment + self.good_faith(terms)

    def grace_limit(self) -> Decimal:
        """After a grace period covering the recovery, the borrower is taken to afford the old instalment again."""
        return max(self.affordable, self.position.contractual_instalment)

    def longest_plan(self, role: Authority, grace_months: int) -> int:
        """Most regular instalments the role may agree after `grace_months`."""
        plan = min(
            self.position.remaining_instalments + self.caps.term_extension.cap(role),
            self.policy.plan.max_months,
        )
        return plan - grace_months

    def within_term(self, grace_months: int) -> int:
        """Most regular instalments that keep the plan within the remaining term."""
        plan = min(self.position.remaining_instalments, self.policy.plan.max_months)
        return plan - grace_months


def propose_offers(
    position: AccountPosition,
    hardship: Hardship,
    finances: Finances,
    history: History,
    policy: Policy,
    today: date,
    authority: Authority = Authority.BOT,
    *,
    declined: int = 0,
) -> Proposal:
    """The alternatives `authority` may offer on the next rung of the ladder, or why there are none.

    `declined` is how many sustainable rungs the borrower has already declined
    in this conversation: 0 proposes the cheapest rung (for the lender) on which
    the borrower can sustain a plan, 1 the next such rung, and so on; rungs with
    no sustainable plan are skipped. A rung's options are its shortest plan whose
    payments fit what the borrower can afford (or, after a grace period that
    covers a temporary hardship, the contractual instalment) and, when it is a
    real alternative, the same terms at the rung's longest term (the lowest
    instalment the rung allows, never below the floor): at most two, none
    dominated by the other. When the role has no rung left ("ladder_exhausted")
    or none at all ("needs_agent", "needs_supervisor"), the first deal a higher
    role could approve and this role could not comes back as `nearest`.
    """
    if declined < 0:
        raise ValueError(f"declined must be 0 or more, not {declined}")
    negotiation = _Negotiation(position, hardship, finances, history, policy, today)
    stalled = stalling_check(history, policy)
    if stalled:
        return Proposal((), "stalling", stalled, None, negotiation.affordable)
    if negotiation.balance <= 0:
        return Proposal((), "nothing_owed", None, None, negotiation.affordable)
    rungs = list(islice(_sustainable_rungs(negotiation, authority), declined + 2))
    if len(rungs) > declined:
        current = rungs[declined]
        return Proposal(
            _alternatives(negotiation, current, authority),
            None,
            None,
            None,
            negotiation.affordable,
            rung=current.rung,
            more_rungs=len(rungs) > declined + 1,
        )
    for higher in Authority:
        if higher.rank > authority.rank:
            nearest = _first_beyond(negotiation, higher, authority)
            if nearest:
                reason = "ladder_exhausted" if rungs else f"needs_{higher.value}"
                return Proposal((), reason, None, nearest, negotiation.affordable)
    reason = "ladder_exhausted" if rungs else "no_sustainable_plan"
    return Proposal((), reason, None, None, negotiation.affordable)


def evaluate_counter_offer(
    amount: Decimal,
    position: AccountPosition,
    hardship: Hardship,
    finances: Finances,
    history: History,
    policy: Policy,
    today: date,
    authority: Authority = Authority.BOT,
) -> CounterOfferResult:
    """Whether `authority` can agree to the borrower paying `amount` a month, and if not why and what instead.

    An acceptable amount is recomputed into a plan that charges exactly that
    amount each month, as many months as it takes (the last one smaller), on
    the cheapest rung whose term limits it fits. An amount above the borrower's
    whole surplus is refused as unaffordable; one below the floor or needing a
    longer plan than the role may agree comes back with the figures used and
    the nearest deal the role can make (its lowest instalment).
    """
    negotiation = _Negotiation(position, hardship, finances, history, policy, today)
    promise_available = promise_to_pay_allowed(
        promise_minimum(position, policy),
        today + timedelta(days=policy.promise_to_pay.horizon_days),
        position,
        history,
        policy,
        today,
    )[0]
    balance = negotiation.balance
    floor = negotiation.floor(balance, balance, negotiation.rate > 0)
    grace_months, _ = negotiation.grace(authority)
    max_months = grace_months + negotiation.longest_plan(authority, grace_months)
    verdict = _Verdict(floor, max_months, promise_available)

    stalled = stalling_check(history, policy)
    if stalled:
        return verdict.refuse(CounterOfferStatus.STALLING, stalled, None)
    offered = to_cents(amount)
    if offered < floor:
        return verdict.refuse(CounterOfferStatus.BELOW_FLOOR, "below_floor", _lowest_offer(negotiation, authority))
    ceiling = negotiation.surplus
    if negotiation.grace(authority)[0]:
        ceiling = max(ceiling, position.contractual_instalment)
    if offered > ceiling:
        first = next(_sustainable_rungs(negotiation, authority), None)
        return verdict.refuse(CounterOfferStatus.UNAFFORDABLE, "above_surplus", first.shortest if first else None)
    accepted = _first_fixed_offer(negotiation, authority, offered)
    if accepted:
        return CounterOfferResult(
            CounterOfferStatus.ACCEPTABLE,
            None,
            accepted,
            floor,
            max_months,
            None,
            promise_available,
            accepted.authority,
        )
    needed = next(
        (
            higher
            for higher in Authority
            if higher.rank > authority.rank and _first_fixed_offer(negotiation, higher, offered)
        ),
        None,
    )
    return replace(
        verdict.refuse(CounterOfferStatus.TOO_LONG, "too_long", _lowest_offer(negotiation, authority)),
        authority_needed=needed,
    )


@dataclass(frozen=True)
class _Verdict:
    """The figures every refused counter-offer reports."""

    floor: Decimal
    max_months: int
    promise_available: bool

    def refuse(self, status: CounterOfferStatus, reason: str, nearest: Offer | None) -> CounterOfferResult:
        return CounterOfferResult(
            status, reason, None, self.floor, self.max_months, nearest, self.promise_available, None
        )


def promise_to_pay_allowed(
    amount: Decimal,
    promised_on: date,
    position: AccountPosition,
    history: History,
    policy: Policy,
    today: date,
) -> tuple[bool, str]:
    """Whether the borrower may promise to pay `amount` on `promised_on`, with the reason code.

    The date must fall between today and the policy horizon (14 days by
    default); the amount must cover the full arrears or at least
    `promise_to_pay.min_instalments` contractual instalments, whichever is
    smaller. No promise is taken after too many broken ones, or while too many
    are still open. Reasons: "within_policy", "broken_promises",
    "open_promise_limit", "date_in_past", "beyond_horizon", "below_minimum".
    """
    rules = policy.promise_to_pay
    if history.broken_promises >= policy.anti_stalling.broken_promises_limit:
        return False, "broken_promises"
    if history.open_promises >= policy.anti_stalling.open_promises_limit:
        return False, "open_promise_limit"
    if promised_on < today:
        return False, "date_in_past"
    if promised_on > today + timedelta(days=rules.horizon_days):
        return False, "beyond_horizon"
    if amount <= 0 or amount < promise_minimum(position, policy):
        return False, "below_minimum"
    return True, "within_policy"


def promise_minimum(position: AccountPosition, policy: Policy) -> Decimal:
    """The least a promise to pay must cover: the arrears, or the policy's number of instalments if less."""
    instalments = position.contractual_instalment * policy.promise_to_pay.min_instalments
    return min(position.arrears, instalments)


def _sustainable_rungs(negotiation: _Negotiation, role: Authority) -> Iterator[_SustainableRung]:
    """The rungs the role can price into a sustainable level plan, cheapest first (lazily)."""
    for rung, variants in _rungs(negotiation, role, fixed_monthly=None):
        for terms in variants:
            shortest = _price_level(negotiation, terms, role)
            if shortest:
                yield _SustainableRung(rung, terms, shortest)
                break


def _alternatives(negotiation: _Negotiation, current: _SustainableRung, role: Authority) -> tuple[Offer, ...]:
    """The rung's shortest plan and, when it is a real trade-off, the same terms over the rung's
    longest term (lowest instalment, not below the floor); duplicates and dominated options dropped."""
    terms = current.terms
    longest = _price_level(negotiation, replace(terms, min_term=max(terms.min_term, terms.max_term)), role)
    return _undominated([current.shortest] + ([longest] if longest else []))


def _undominated(offers: list[Offer]) -> tuple[Offer, ...]:
    """The offers no other one dominates, the first of any with identical counts, at most two."""
    kept: list[Offer] = []
    for offer in offers:
        if any(dominated(offer, by=other) for other in offers if other is not offer):
            continue
        if any(_same_counts(offer, each) for each in kept):
            continue
        kept.append(offer)
    return tuple(kept[:2])


def _same_counts(one: Offer, other: Offer) -> bool:
    return (one.monthly, payments(one), one.total_paid) == (other.monthly, payments(other), other.total_paid)


def _first_beyond(negotiation: _Negotiation, higher: Authority, role: Authority) -> Offer | None:
    """The first deal on `higher`'s ladder that needs more authority than `role` has."""
    for current in _sustainable_rungs(negotiation, higher):
        for offer in _alternatives(negotiation, current, higher):
            if offer.authority.rank > role.rank:
                return offer
    return None


def _first_fixed_offer(negotiation: _Negotiation, role: Authority, monthly: Decimal) -> Offer | None:
    """The cheapest rung on which paying `monthly` each month fits the role's term limits."""
    for _, variants in _rungs(negotiation, role, fixed_monthly=monthly):
        for terms in variants:
            offer = _price_fixed(negotiation, terms, role, monthly)
            if offer:
                return offer
    return None


def _lowest_offer(negotiation: _Negotiation, role: Authority) -> Offer | None:
    """The lowest instalment the role can agree: every waiver and the longest term it may grant."""
    caps = negotiation.caps
    grace_months, frozen = negotiation.grace(role)
    terms = _Terms(
        base=Concession.SPREAD_ARREARS,
        limit=NO_LIMIT,
        min_term=negotiation.longest_plan(role, grace_months),
        max_term=negotiation.longest_plan(role, grace_months),
        waived_fees=_fee_waiver(negotiation, role),
        grace_months=grace_months,
        interest_free_months=max(frozen, caps.interest_waiver.cap(role)) if negotiation.rate else 0,
    )
    if terms.max_term < 1:
        return None
    return _price_level(negotiation, terms, role)


def _fee_waiver(negotiation: _Negotiation, role: Authority) -> Decimal:
    position = negotiation.position
    return min(position.fees + position.penalty_interest, negotiation.caps.fee_waiver.cap(role))


Rung = Iterator[_Terms]


def _rungs(
    negotiation: _Negotiation, role: Authority, fixed_monthly: Decimal | None
) -> Iterator[tuple[Concession, Rung]]:
    """The concession ladder for one role, cheapest rung first, each named by its concession and
    listing its variants cheapest first.

    With `fixed_monthly` (a counter-offer) only the plan rungs apply, and the
    borrower's amount is the limit.
    """
    position, caps = negotiation.position, negotiation.caps
    affordable = negotiation.affordable if fixed_monthly is None else fixed_monthly
    remaining = position.remaining_instalments
    arrears = position.arrears
    if fixed_monthly is None:
        can_clear_arrears = 0 < arrears < negotiation.balance and arrears <= affordable and remaining >= 1
        if caps.pay_now and can_clear_arrears:
            yield Concession.PAY_NOW, iter([_resume_contract(negotiation, Concession.PAY_NOW, negotiation.today)])
        promised_on = negotiation.today + timedelta(days=negotiation.policy.promise_to_pay.horizon_days)
        promise_ok = promise_to_pay_allowed(
            arrears, promised_on, position, negotiation.history, negotiation.policy, negotiation.today
        )[0]
        if caps.promise_to_pay and can_clear_arrears and promise_ok:
            yield Concession.PROMISE_TO_PAY, iter([_resume_contract(negotiation, Concession.PROMISE_TO_PAY, promised_on)])

    spread = _Terms(
        base=Concession.SPREAD_ARREARS,
        limit=affordable,
        min_term=1,
        max_term=negotiation.within_term(0),
    )
    if caps.spread_arrears:
        yield Concession.SPREAD_ARREARS, iter([spread])
    fee_waiver = _fee_waiver(negotiation, role)
    if fee_waiver > 0:
        yield Concession.FEE_WAIVER, iter([replace(spread, waived_fees=fee_waiver)])

    grace_months, frozen = negotiation.grace(role)
    base = spread
    if grace_months:
        base = replace(
            spread,
            limit=max(affordable, position.contractual_instalment) if fixed_monthly is None else fixed_monthly,
            max_term=negotiation.within_term(grace_months),
            grace_months=grace_months,
            interest_free_months=frozen,
        )
        yield Concession.GRACE_PERIOD, iter([base])
    longest = negotiation.longest_plan(role, grace_months)
    if caps.term_extension.cap(role) > 0:
        extension = replace(base, min_term=max(1, negotiation.within_term(grace_months) + 1), max_term=longest)
        yield Concession.TERM_EXTENSION, iter([extension])
    if negotiation.rate > 0:
        yield Concession.INTEREST_WAIVER, (
            replace(base, max_term=longest, interest_free_months=months)
            for months in range(frozen + 1, caps.interest_waiver.cap(role) + 1)
        )
    frozen_plan = replace(base, interest_accrues=False, interest_free_months=0)
    settlement = caps.settlement_discount
    settlement_term = min(longest, settlement.max_months - grace_months)
    settle = replace(frozen_plan, base=Concession.SETTLEMENT_DISCOUNT, max_term=settlement_term)
    yield Concession.SETTLEMENT_DISCOUNT, _discounts(negotiation, settle, settlement, role)
    write_down = replace(frozen_plan, base=Concession.WRITE_DOWN, max_term=longest)
    yield Concession.WRITE_DOWN, _discounts(negotiation, write_down, caps.write_down, role)


def _discounts(negotiation: _Negotiation, terms: _Terms, caps: RoleCaps, role: Authority) -> Rung:
    """Variants forgiving 1%, 2%, ... of the balance up to the role's cap, starting where one could fit."""
    if terms.max_term < 1 or caps.cap(role) <= 0 or negotiation.balance <= 0:
        return
    hundredths = int(caps.cap(role) * 100)
    start = 1
    if terms.limit.is_finite():
        needed = 1 - terms.limit * terms.max_term / negotiation.balance
        start = max(1, int(cents_up(needed) * 100))
    for percent in range(start, hundredths + 1):
        share = Decimal(percent) / 100
        yield replace(terms, written_off=cents_down(negotiation.balance * share), written_off_share=share)


def _resume_contract(negotiation: _Negotiation, kind: Concession, paid_on: date) -> _Terms:
    """The arrears paid in one go on `paid_on`, then the remaining instalments as the contract has them."""
    remaining = negotiation.position.remaining_instalments
    return _Terms(
        base=kind,
        limit=negotiation.affordable,
        min_term=remaining,
        max_term=min(remaining, negotiation.policy.plan.max_months),
        down_payment=negotiation.position.arrears,
        down_payment_due=paid_on,
    )


def _price_level(negotiation: _Negotiation, terms: _Terms, role: Authority) -> Offer | None:
    """The shortest level plan on these terms whose instalment fits the limit and the floor."""
    if negotiation.paid_first(terms) > terms.limit:
        return None
    repaid, start_balance, free_after_grace = _repayment(negotiation, terms)
    if repaid <= 0:
        return None
    floor = negotiation.floor(repaid, start_balance, terms.interest_accrues and free_after_grace == 0)
    rate = negotiation.rate if terms.interest_accrues else ZERO
    for months in range(max(1, terms.min_term), terms.max_term + 1):
        monthly = cents_up(level_instalment(start_balance, rate, months, free_after_grace))
        if monthly > terms.limit:
            continue
        if months > 1 and monthly < floor:
            if floor > terms.limit:
                return None
            return _price_fixed(negotiation, terms, role, floor)
        while monthly <= terms.limit:
            try:
                schedule = _schedule(negotiation, terms, monthly, months)
            except PlanDoesNotRepay:
                break
            if schedule.instalments[-1].amount <= monthly:
                return _offer(negotiation, terms, role, monthly, months, schedule)
            monthly += CENT
    return None


def _price_fixed(negotiation: _Negotiation, terms: _Terms, role: Authority, monthly: Decimal) -> Offer | None:
    """The plan on these terms that charges `monthly` until paid, if it ends within the term limit."""
    repaid, start_balance, free_after_grace = _repayment(negotiation, terms)
    if repaid <= 0 or terms.max_term < 1:
        return None
    if monthly < negotiation.floor(repaid, start_balance, terms.interest_accrues and free_after_grace == 0):
        return None
    try:
        schedule = _schedule(negotiation, terms, monthly, None, max_months=terms.max_term)
    except PlanDoesNotRepay:
        return None
    months = len(schedule.instalments) - (1 if negotiation.paid_first(terms) else 0)
    return _offer(negotiation, terms, role, monthly, months, schedule)


def _repayment(negotiation: _Negotiation, terms: _Terms) -> tuple[Decimal, Decimal, int]:
    """What the regular instalments repay: the balance after waivers and down payment, that balance
    grown by any interest charged during grace, and the interest-free months left after grace."""
    repaid = negotiation.balance - terms.waived_fees - terms.written_off - negotiation.paid_first(terms)
    charged_grace = max(0, terms.grace_months - terms.interest_free_months) if terms.interest_accrues else 0
    start_balance = repaid * (1 + negotiation.rate) ** charged_grace
    return repaid, start_balance, max(0, terms.interest_free_months - terms.grace_months)


def _schedule(
    negotiation: _Negotiation, terms: _Terms, monthly: Decimal, months: int | None, max_months: int = 600
) -> Schedule:
    if terms.down_payment:
        first_due, paid_first_due = due_date(terms.down_payment_due, 1), terms.down_payment_due
    else:
        # a grace plan's token is due when a plan without grace would start paying
        first_due, paid_first_due = due_date(negotiation.plan_start, terms.grace_months), negotiation.plan_start
    return instalment_schedule(
        balance=negotiation.balance - terms.waived_fees - terms.written_off,
        rate=negotiation.rate,
        monthly=monthly,
        months=months,
        first_due=first_due,
        grace_months=terms.grace_months,
        interest_free_months=terms.interest_free_months if terms.interest_accrues else 0,
        interest_accrues=terms.interest_accrues,
        down_payment=negotiation.paid_first(terms),
        down_payment_due=paid_first_due,
        max_months=max_months,
    )


def _offer(
    negotiation: _Negotiation, terms: _Terms, role: Authority, monthly: Decimal, months: int, schedule: Schedule
) -> Offer | None:
    """Record a priced plan as an offer, with the lowest role whose caps it fits and the rules used."""
    caps = negotiation.caps
    extension = max(0, terms.grace_months + months - negotiation.position.remaining_instalments)
    waived_months = terms.interest_free_months if terms.interest_accrues else 0
    used: list[tuple[Concession, RoleCaps, Decimal | int]] = []
    if terms.waived_fees:
        used.append((Concession.FEE_WAIVER, caps.fee_waiver, terms.waived_fees))
    if terms.grace_months:
        used.append((Concession.GRACE_PERIOD, caps.grace_period, terms.grace_months))
    if extension:
        used.append((Concession.TERM_EXTENSION, caps.term_extension, extension))
    if waived_months:
        used.append((Concession.INTEREST_WAIVER, caps.interest_waiver, waived_months))
    if terms.base is Concession.SETTLEMENT_DISCOUNT:
        used.append((Concession.SETTLEMENT_DISCOUNT, caps.settlement_discount, terms.written_off_share))
    if terms.base is Concession.WRITE_DOWN:
        used.append((Concession.WRITE_DOWN, caps.write_down, terms.written_off_share))

    authority = Authority.BOT
    for _, role_caps, value in used:
        lowest = role_caps.lowest_role_for(value)
        if lowest is None:
            return None
        authority = max(authority, lowest, key=lambda each: each.rank)
    if authority.rank > role.rank or terms.grace_months + months > negotiation.policy.plan.max_months:
        return None

    kinds = {concession for concession, _, _ in used}
    kinds.add(Concession.SPREAD_ARREARS if not terms.down_payment else terms.base)
    ladder = list(Concession)
    first = schedule.instalments[0]
    good_faith_amount, good_faith_due = (first.amount, first.due)
    if terms.base is Concession.PROMISE_TO_PAY:
        good_faith_amount, good_faith_due = ZERO, None
    if used:
        rule = " + ".join(role_caps.rule(authority) for _, role_caps, _ in used)
    else:
        rule = _base_rule(negotiation, terms.base)
    return Offer(
        concessions=tuple(sorted(kinds, key=ladder.index)),
        monthly=monthly,
        months=months,
        grace_months=terms.grace_months,
        interest_waived_months=waived_months,
        waived_fees=terms.waived_fees,
        waived_interest=schedule.waived_interest,
        first_payment=schedule.instalments[0].due,
        total_paid=schedule.total,
        interest_accrues=terms.interest_accrues and negotiation.rate > 0,
        schedule=schedule.instalments,
        authority=authority,
        rule=rule,
        policy_version=negotiation.policy.version,
        down_payment=terms.down_payment,
        extension_months=extension,
        written_off=terms.written_off,
        balance=negotiation.balance - terms.waived_fees - terms.written_off,
        good_faith_amount=good_faith_amount,
        good_faith_due=good_faith_due,
    )


def _base_rule(negotiation: _Negotiation, base: Concession) -> str:
    if base is Concession.PAY_NOW:
        return "concessions.pay_now(enabled=true)"
    if base is Concession.PROMISE_TO_PAY:
        return f"promise_to_pay(horizon_days={negotiation.policy.promise_to_pay.horizon_days})"
    return f"concessions.spread_arrears(remaining_instalments={negotiation.position.remaining_instalments})"
