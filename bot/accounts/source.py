"""The one interface the actions and verification read a lender's accounts through.

Two sources satisfy it: the local tables (`bot.accounts.repository.AccountRepository`) and a
lender's live core-banking system over HTTP JSON (`bot.accounts.core_banking.CoreBankingAccounts`).
Which one is used is configuration (`bot.accounts.settings`, ACCOUNTS_SOURCE).
"""
from __future__ import annotations

from datetime import date
from typing import Protocol, runtime_checkable

from bot.accounts.arrears import ArrearsStatement
from bot.accounts.models import Borrower, Loan
from bot.accounts.repository import Identity, LoanBooks

__all__ = ["AccountSource", "AccountsUnavailable", "Identity"]


class AccountsUnavailable(RuntimeError):
    """The source of the books cannot answer now (down, too slow, or answering nonsense).

    Never means "no such loan" (that is None): the borrower is told to try again later or ask for a
    person, and nothing they said is lost.
    """


@runtime_checkable
class AccountSource(Protocol):
    """Read-only access to loans, their borrowers and what is owed, by loan reference."""

    def loan_by_reference(self, reference: str) -> Loan | None:
        """The loan, or None when the source has no loan with this reference."""

    def borrower_of(self, loan: Loan) -> Borrower:
        """The borrower of a loan this source returned."""

    def identity(self, reference: str) -> Identity | None:
        """What verification compares: the borrower's name and date of birth; None for an unknown reference."""

    def books(self, reference: str) -> LoanBooks | None:
        """The loan's schedule, payments and charges; None for an unknown reference."""

    def statement(self, reference: str, today: date) -> ArrearsStatement | None:
        """The arrears statement as of `today`, payments applied by the policy's rule; None when unknown."""
