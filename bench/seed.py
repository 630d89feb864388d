"""Bench-only borrowers: clones of the demo borrower Alex Morgan (HCF-1001) under their own references.

Every simulated borrower negotiates on a loan of its own, so one borrower's agreement never trips the
anti-stalling rule (renegotiations per 12 months) or a verification lock-out for another.

References are ``HCF-70001`` ... (``HCF-7xxxx``): with the default LOAN_REFERENCE_FORMAT the assistant
only recognises ``HCF`` followed by 4-8 digits (bot/language/references.py), so a letter in the reference
(``HCF-B0001``) would never be understood. These rows live only in the bench's temporary database.
"""
from __future__ import annotations

import dataclasses
from datetime import date

from sqlalchemy.orm import Session

from bot.demo.seed import DEMO_LOANS, DemoLoan, replace_loans

TEMPLATE_REFERENCE = "HCF-1001"
FIRST_NUMBER = 70001


def bench_reference(index: int) -> str:
    """The reference of the index-th bench loan (0-based)."""
    return f"HCF-{FIRST_NUMBER + index}"


def bench_specs(count: int) -> list[DemoLoan]:
    template = next(spec for spec in DEMO_LOANS if spec.reference == TEMPLATE_REFERENCE)
    return [dataclasses.replace(template, reference=bench_reference(i), name=f"{template.name} (bench {i + 1})")
            for i in range(count)]


def seed_bench_loans(session: Session, today: date, count: int) -> list[str]:
    """Replace the bench loans (and everything recorded about them) with `count` fresh clones of Alex's."""
    return replace_loans(session, bench_specs(count), today)
