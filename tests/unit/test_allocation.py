"""Payments applied by the policy's rule: oldest instalment first, within it fees, interest, principal."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings, strategies as st

from bot.lifecycle.allocation import UNAPPLIED, DueCharge, DueInstalment, Receipt, allocate

D = Decimal
JAN = date(2026, 1, 15)


def schedule(count: int = 3) -> list[DueInstalment]:
    return [DueInstalment(n, JAN + timedelta(days=30 * (n - 1)), D("90.00"), D("10.00")) for n in range(1, count + 1)]


def test_a_payment_naming_no_instalment_pays_the_oldest_fees_then_interest_then_principal():
    fee = DueCharge("fee-1", "late_fee", D("25.00"), JAN + timedelta(days=3))
    shares = allocate([Receipt("p1", D("60.00"), JAN + timedelta(days=10))], schedule(), [fee])
    assert [(s.component, s.instalment, s.charge, s.amount) for s in shares] == [
        ("late_fee", 1, "fee-1", D("25.00")), ("interest", 1, None, D("10.00")), ("principal", 1, None, D("25.00")),
    ]


def test_the_policy_order_decides_within_an_instalment():
    fee = DueCharge("fee-1", "late_fee", D("25.00"), JAN + timedelta(days=3))
    shares = allocate([Receipt("p1", D("95.00"), JAN)], schedule(), [fee], order=("principal", "interest", "fees"))
    assert [(s.component, s.amount) for s in shares] == [("principal", D("90.00")), ("interest", D("5.00"))]


def test_a_fee_belongs_to_the_instalment_that_fell_due_before_it():
    late = DueCharge("fee-2", "late_fee", D("25.00"), JAN + timedelta(days=35))  # after instalment 2's date
    shares = allocate([Receipt("p1", D("130.00"), JAN + timedelta(days=40))], schedule(), [late])
    assert [(s.component, s.instalment) for s in shares] == [
        ("interest", 1), ("principal", 1), ("late_fee", 2), ("interest", 2)]


def test_a_named_instalment_is_paid_first_and_the_rest_flows_to_the_oldest():
    shares = allocate([Receipt("p1", D("150.00"), JAN, instalment=2)], schedule(), [])
    assert [(s.instalment, s.component, s.amount) for s in shares] == [
        (2, "interest", D("10.00")), (2, "principal", D("90.00")),
        (1, "interest", D("10.00")), (1, "principal", D("40.00"))]


def test_payments_are_taken_in_the_order_they_were_made_and_overpayment_is_kept_as_credit():
    later = Receipt("b", D("250.00"), JAN + timedelta(days=1))
    earlier = Receipt("a", D("100.00"), JAN)
    shares = allocate([later, earlier], schedule(), [])
    assert shares[0].payment == "a" and shares[0].instalment == 1
    assert shares[-1] == type(shares[-1])("b", UNAPPLIED, D("50.00"))


amounts = st.decimals(min_value=D("0.01"), max_value=D("500.00"), places=2)


@settings(max_examples=200, deadline=None)
@given(
    payments=st.lists(st.tuples(amounts, st.integers(0, 120), st.one_of(st.none(), st.integers(1, 4))), max_size=8),
    fees=st.lists(st.tuples(amounts, st.integers(-10, 120)), max_size=4),
    order=st.permutations(["fees", "interest", "principal"]),
)
def test_allocation_conserves_money_and_never_overpays_a_part(payments, fees, order):
    instalments = schedule(4)
    charges = [DueCharge(f"c{i}", "late_fee", amount, JAN + timedelta(days=day)) for i, (amount, day) in enumerate(fees)]
    receipts = [Receipt(f"p{i}", amount, JAN + timedelta(days=day), named)
                for i, (amount, day, named) in enumerate(payments)]
    shares = allocate(receipts, instalments, charges, order)
    for receipt in receipts:  # every cent of every payment is placed, none invented
        assert sum((s.amount for s in shares if s.payment == receipt.key), D("0")) == receipt.amount
    assert all(s.amount > 0 for s in shares)
    owed = {(i.key, "interest"): i.interest for i in instalments} | {(i.key, "principal"): i.principal
                                                                     for i in instalments}
    owed |= {(c.key, "late_fee"): c.amount for c in charges}
    placed: dict = {}
    for s in shares:
        if s.component != UNAPPLIED:
            key = (s.charge if s.charge is not None else s.instalment, s.component)
            placed[key] = placed.get(key, D("0")) + s.amount
    assert all(placed[key] <= owed[key] for key in placed)
    total_owed = sum(owed.values(), D("0"))
    total_paid = sum((r.amount for r in receipts), D("0"))
    credit = sum((s.amount for s in shares if s.component == UNAPPLIED), D("0"))
    assert credit == max(D("0"), total_paid - total_owed)  # credit only once everything is paid


@settings(max_examples=100, deadline=None)
@given(amount=amounts)
def test_unnamed_payments_never_touch_a_later_instalment_while_an_earlier_one_is_unpaid(amount):
    shares = allocate([Receipt("p", amount, JAN)], schedule(4), [])
    reached = [s.instalment for s in shares if s.component != UNAPPLIED]
    assert reached == sorted(reached)
    for number in set(reached) - {max(reached)}:
        assert sum(s.amount for s in shares if s.instalment == number) == D("100.00")
