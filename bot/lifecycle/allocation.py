"""Applying payments to a loan's books by the policy's rule. Pure: plain data in, shares out.

The rule (policy.yml `payments`): payments are taken in the order they were made; each pays the
instalment it names first, if any, then the oldest unpaid instalment, then the next. Within an
instalment the parts are paid in the policy's order (default: fees, interest, principal), where an
instalment's fees are the live late fees and penalty interest charged from its due date until the
next instalment's. What is left once everything is paid is kept as unapplied credit. Failed and
returned payments pay nothing, so a returned payment re-flows every later one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Hashable, Sequence

ZERO = Decimal("0.00")
UNAPPLIED = "unapplied"


@dataclass(frozen=True)
class DueInstalment:
    key: Hashable
    due: date
    principal: Decimal
    interest: Decimal


@dataclass(frozen=True)
class DueCharge:
    key: Hashable
    kind: str  # late_fee | penalty_interest
    amount: Decimal
    charged_on: date


@dataclass(frozen=True)
class Receipt:
    """A succeeded payment as allocation sees it."""

    key: Hashable
    amount: Decimal
    paid_on: date
    instalment: Hashable | None = None  # the instalment the payer named, if any


@dataclass(frozen=True)
class Share:
    """The part of one payment that went to one component of one instalment or one charge."""

    payment: Hashable
    component: str  # late_fee | penalty_interest | interest | principal | unapplied
    amount: Decimal
    instalment: Hashable | None = None
    charge: Hashable | None = None


@dataclass
class _Bucket:
    component: str
    owed: Decimal
    instalment: Hashable | None
    charge: Hashable | None = None


def _buckets(instalments: Sequence[DueInstalment], charges: Sequence[DueCharge], order: Sequence[str]
             ) -> list[tuple[Hashable | None, list[_Bucket]]]:
    """Per instalment (oldest due first), what it owes in payment order; charges before the first
    instalment's date belong to the first instalment, and with no schedule they stand alone."""
    ordered = sorted(instalments, key=lambda line: line.due)
    fees: dict[int, list[DueCharge]] = {}
    for charge in sorted(charges, key=lambda c: c.charged_on):
        index = max((i for i, line in enumerate(ordered) if line.due <= charge.charged_on), default=0)
        fees.setdefault(index, []).append(charge)
    groups: list[tuple[Hashable | None, list[_Bucket]]] = []
    for index, line in enumerate(ordered):
        buckets: list[_Bucket] = []
        for part in order:
            if part == "fees":
                buckets += [_Bucket(c.kind, c.amount, line.key, c.key) for c in fees.get(index, [])]
            elif part == "interest":
                buckets.append(_Bucket("interest", line.interest, line.key))
            else:
                buckets.append(_Bucket("principal", line.principal, line.key))
        groups.append((line.key, buckets))
    if not ordered and charges:
        groups.append((None, [_Bucket(c.kind, c.amount, None, c.key) for c in fees.get(0, [])]))
    return groups


def allocate(receipts: Sequence[Receipt], instalments: Sequence[DueInstalment], charges: Sequence[DueCharge],
             order: Sequence[str] = ("fees", "interest", "principal")) -> list[Share]:
    """Every receipt split into shares; the shares of a receipt add up to its amount exactly."""
    groups = _buckets(instalments, charges, order)
    by_instalment = {key: buckets for key, buckets in groups if key is not None}
    queue = [bucket for _, buckets in groups for bucket in buckets]
    shares: list[Share] = []
    for receipt in sorted(receipts, key=lambda r: (r.paid_on, str(r.key))):
        left = receipt.amount
        named = by_instalment.get(receipt.instalment, []) if receipt.instalment is not None else []
        for bucket in [*named, *queue]:
            if left <= ZERO:
                break
            part = min(left, bucket.owed)
            if part > ZERO:
                bucket.owed -= part
                left -= part
                shares.append(Share(receipt.key, bucket.component, part, bucket.instalment, bucket.charge))
        if left > ZERO:
            shares.append(Share(receipt.key, UNAPPLIED, left))
    return shares
