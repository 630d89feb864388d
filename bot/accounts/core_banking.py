"""The books read from a lender's live core-banking system over HTTP JSON (docs/core-banking-api.md).

Three layers, each usable alone:

- `CircuitBreaker`: after N failed requests in a row, refuse at once for a cool-down, then let one
  trial request through (half-open); thread-safe.
- `CoreBankingClient`: one GET with timeouts, bounded retries (refused connections and 5xx only, never
  a 4xx), a cap on the answer's size, the bearer token, and the breaker. One per process: the breaker
  and the connection pool are shared by every conversation.
- `CoreBankingAccounts`: the `AccountSource` over a client, one per unit of work. Its documents are
  validated field by field and turned into transient ORM rows (never added to a session), so that
  `statement_of` computes exactly what it computes over the local tables.

Anything the source cannot answer (down, too slow, breaker open, a document that fails validation)
raises `AccountsUnavailable` with the reason logged; an unknown reference (404) is None.
"""
from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Callable
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from bot.accounts.arrears import ArrearsStatement
from bot.accounts.models import (
    MAX_INSTALMENTS, PAYMENT_STATUS_WORDS, Borrower, Charge, ChargeKind, Loan, Payment, ScheduledInstalment,
)
from bot.accounts.repository import DEFAULT_ORDER, Identity, LoanBooks, statement_of
from bot.accounts.settings import CoreBankingSettings
from bot.accounts.source import AccountsUnavailable

log = logging.getLogger(__name__)

MAX_ANSWER_BYTES = 5 * 1024 * 1024  # a loan's whole payment history is far less; more is not an answer
CENT = Decimal("0.01")
RATE_QUANTUM = Decimal("0.000001")  # the Rate column's six places
CHARGE_KINDS = {kind.value: kind for kind in ChargeKind}
LANGUAGES = ("en", "zh")
# Payments are allocated in (paid_on, str(id)) order: ids of one width keep the core's order within a day.
FIRST_PAYMENT_ID = 1_000_000


class BreakerOpen(AccountsUnavailable):
    """The circuit breaker refused the request without calling the core-banking system."""


class CircuitBreaker:
    """Stops calling a system that keeps failing, and tries it again after a cool-down.

    Closed: every request goes through; `failures` failed requests in a row open the breaker.
    Open: every request is refused at once (`BreakerOpen`) for `cooldown` seconds.
    Half-open: once the cool-down has passed, one request (the trial) goes through while others are
    still refused; its success closes the breaker, its failure opens it for another cool-down.
    """

    def __init__(self, failures: int, cooldown: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = failures
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_since: float | None = None

    @property
    def state(self) -> str:
        with self._lock:
            if self._opened_at is None:
                return "closed"
            if self._trial_since is not None or self._clock() - self._opened_at >= self.cooldown:
                return "half_open"
            return "open"

    def allow(self) -> None:
        """Return when a request may go; raise `BreakerOpen` when it may not."""
        with self._lock:
            if self._opened_at is None:
                return
            now = self._clock()
            if now - self._opened_at < self.cooldown:
                raise BreakerOpen(f"circuit breaker open for {self.cooldown - (now - self._opened_at):.1f} s more")
            # A trial that never reported (its thread died) does not keep the breaker half-open for ever.
            if self._trial_since is not None and now - self._trial_since < self.cooldown:
                raise BreakerOpen("circuit breaker half-open: a trial request is under way")
            self._trial_since = now

    def succeeded(self) -> None:
        with self._lock:
            if self._opened_at is not None:
                log.info("core-banking circuit breaker closed: the trial request succeeded")
            self._failures = 0
            self._opened_at = None
            self._trial_since = None

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            if self._trial_since is not None or (self._opened_at is None and self._failures >= self.threshold):
                log.warning("core-banking circuit breaker open for %g s after %d failed requests in a row",
                            self.cooldown, self._failures)
                self._opened_at = self._clock()
                self._trial_since = None


class _Failure(Exception):
    """One failed attempt: `counts` toward the breaker, `retry` when another attempt may help."""

    def __init__(self, reason: str, *, counts: bool = True, retry: bool = False) -> None:
        super().__init__(reason)
        self.counts = counts
        self.retry = retry


class CoreBankingClient:
    """GETs documents from the core-banking system; shared by every conversation of a process."""

    def __init__(self, settings: CoreBankingSettings, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.breaker = CircuitBreaker(settings.breaker_failures, settings.breaker_cooldown)
        self._sleep = sleep
        self._http = httpx.Client(
            timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout,
                                  pool=settings.connect_timeout),
            headers={"Authorization": f"Bearer {settings.token}", "Accept": "application/json"},
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def get(self, path: str) -> Any | None:
        """The JSON document at `path` (below the base URL); None on 404; `AccountsUnavailable` otherwise."""
        attempts = 1 + self.settings.retries
        for attempt in range(1, attempts + 1):
            self.breaker.allow()
            try:
                document = self._attempt(path)
            except _Failure as failure:
                (self.breaker.failed if failure.counts else self.breaker.succeeded)()
                log.warning("core banking GET %s, attempt %d of %d: %s", path, attempt, attempts, failure)
                if failure.retry and attempt < attempts:
                    self._sleep(self.settings.backoff * 2 ** (attempt - 1))
                    continue
                raise AccountsUnavailable(f"GET {path}: {failure}") from None
            except BaseException:
                self.breaker.failed()  # never leave a half-open trial unreported
                raise
            self.breaker.succeeded()
            return document
        raise AssertionError("unreachable")

    def _attempt(self, path: str) -> Any | None:
        deadline = time.monotonic() + self.settings.connect_timeout + self.settings.read_timeout
        try:
            with self._http.stream("GET", self.settings.base_url + path) as answer:
                status = answer.status_code
                if status == 404:
                    return None
                if status >= 500:
                    raise _Failure(f"HTTP {status}", retry=True)
                if status in (401, 403):
                    raise _Failure(f"HTTP {status}: the core-banking system refused CORE_BANKING_TOKEN")
                if status in (408, 429):
                    raise _Failure(f"HTTP {status}: the core-banking system is overloaded")
                if not 200 <= status < 300:
                    raise _Failure(f"HTTP {status}: not an answer this adapter understands", counts=False)
                body = bytearray()
                for chunk in answer.iter_bytes():
                    body += chunk
                    if len(body) > MAX_ANSWER_BYTES:
                        raise _Failure(f"answer larger than {MAX_ANSWER_BYTES} bytes")
                    if time.monotonic() > deadline:
                        raise _Failure("answer not complete within the timeout")
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError) as error:
            raise _Failure(f"cannot connect: {type(error).__name__} {error}", retry=True) from None
        except httpx.TimeoutException as error:  # read, write or pool: a slow system is not asked twice
            raise _Failure(f"timed out: {type(error).__name__}") from None
        except httpx.HTTPError as error:
            raise _Failure(f"{type(error).__name__}: {error}") from None
        try:
            return json.loads(bytes(body).decode("utf-8"), parse_constant=_no_constant)
        except (UnicodeDecodeError, ValueError) as error:
            raise _Failure(f"answer is not UTF-8 JSON ({error})") from None


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


# --- reading the documents ---------------------------------------------------------------------


class BadDocument(ValueError):
    """A document that answers, but not in the documented form: the books cannot be trusted."""


_MONEY = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,2})?")
_RATE = re.compile(r"0(?:\.[0-9]{1,6})?")
_CURRENCY = re.compile(r"[A-Z]{3}")


def _field(record: dict, key: str, where: str) -> Any:
    if key not in record or record[key] is None:
        raise BadDocument(f"{where}: {key} is missing")
    return record[key]


def _text(record: dict, key: str, where: str, max_length: int = 64) -> str:
    value = _field(record, key, where)
    if not isinstance(value, str) or not value.strip():
        raise BadDocument(f"{where}: {key} must be a non-empty string")
    if len(value) > max_length:
        raise BadDocument(f"{where}: {key} is longer than {max_length} characters")
    return value.strip()


def _day(record: dict, key: str, where: str) -> date:
    value = _text(record, key, where)
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise BadDocument(f"{where}: {key} {value!r} is not a date (YYYY-MM-DD)") from None


def _money(record: dict, key: str, where: str, *, positive: bool = False) -> Decimal:
    """A decimal string exact to the cent ("1250.00"), never a JSON number (floats are not money)."""
    value = _field(record, key, where)
    if not isinstance(value, str) or not _MONEY.fullmatch(value):
        raise BadDocument(f"{where}: {key} {value!r} is not an amount written as a decimal string (\"1250.00\")")
    amount = Decimal(value).quantize(CENT)
    if positive and not amount:
        raise BadDocument(f"{where}: {key} must be above zero")
    return amount


def _number(record: dict, key: str, where: str, low: int, high: int) -> int:
    value = _field(record, key, where)
    if type(value) is not int or not low <= value <= high:
        raise BadDocument(f"{where}: {key} {value!r} is not a whole number from {low} to {high}")
    return value


def _choice(record: dict, key: str, where: str, choices):
    value = _text(record, key, where)
    if value not in choices:
        raise BadDocument(f"{where}: {key} {value!r} is not one of {', '.join(choices)}")
    return choices[value] if isinstance(choices, dict) else value


def _list(document: Any, key: str, reference: str, where: str) -> list[dict]:
    _same_loan(document, reference, where)
    items = document.get(key)
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise BadDocument(f"{where}: {key} must be a list of objects")
    return items


def _same_loan(document: Any, reference: str, where: str) -> None:
    """The document is about the loan asked for: anything else must never be shown to this borrower."""
    if not isinstance(document, dict):
        raise BadDocument(f"{where}: not a JSON object")
    if document.get("loan_reference") != reference:
        raise BadDocument(f"{where}: loan_reference {document.get('loan_reference')!r} is not the one asked for")


@dataclass(frozen=True)
class Account:
    """The account document, read: the loan and its borrower as transient rows."""

    loan: Loan
    borrower: Borrower


def read_account(document: Any, reference: str) -> Account:
    """`GET /accounts/{reference}`: the loan's terms and its borrower."""
    where = "account"
    _same_loan(document, reference, where)
    currency = _text(document, "currency", where)
    if not _CURRENCY.fullmatch(currency):
        raise BadDocument(f"{where}: currency {currency!r} is not an ISO 4217 code")
    rate = _field(document, "annual_rate", where)
    if not isinstance(rate, str) or not _RATE.fullmatch(rate):
        raise BadDocument(f"{where}: annual_rate {rate!r} is not a fraction below 1 as a decimal string (\"0.18\")")
    person = _field(document, "borrower", where)
    if not isinstance(person, dict):
        raise BadDocument(f"{where}: borrower must be an object")
    zone = person.get("time_zone")
    if zone is not None:
        try:
            ZoneInfo(zone if isinstance(zone, str) else "")
        except (ZoneInfoNotFoundError, ValueError):
            raise BadDocument(f"{where}: borrower.time_zone {zone!r} is not an IANA time zone") from None
    borrower = Borrower(
        id=1, external_id=_text(person, "borrower_id", "account.borrower"),
        full_name=_text(person, "full_name", "account.borrower", 200),
        date_of_birth=_day(person, "date_of_birth", "account.borrower"),
        preferred_language=_choice(person, "language", "account.borrower", LANGUAGES), time_zone=zone,
    )
    loan = Loan(
        id=1, reference=reference, borrower_id=borrower.id, currency=currency,
        principal=_money(document, "principal", where, positive=True),
        annual_rate=Decimal(rate).quantize(RATE_QUANTUM),
        contractual_instalment=_money(document, "contractual_instalment", where, positive=True),
        start_date=_day(document, "start_date", where),
    )
    return Account(loan, borrower)


def read_schedule(document: Any, loan: Loan) -> list[ScheduledInstalment]:
    """`GET /accounts/{reference}/schedule`: every instalment; their principal parts sum to the loan's principal.

    The sum is checked as the import checks it: a schedule cut short (a paged answer, a half-written
    record) would otherwise state a wrong amount.
    """
    instalments = []
    for index, item in enumerate(_list(document, "instalments", loan.reference, "schedule")):
        where = f"schedule.instalments[{index}]"
        number = _number(item, "instalment_number", where, 1, MAX_INSTALMENTS)
        amount = _money(item, "amount", where, positive=True)
        principal, interest = _money(item, "principal", where), _money(item, "interest", where)
        if principal + interest != amount:
            raise BadDocument(f"{where}: amount {amount} is not principal {principal} + interest {interest}")
        instalments.append(ScheduledInstalment(id=number, loan_id=loan.id, number=number,
                                               due_date=_day(item, "due_date", where),
                                               amount=amount, principal=principal, interest=interest))
    numbers = [i.number for i in instalments]
    if len(set(numbers)) != len(numbers):
        raise BadDocument("schedule: an instalment_number appears twice")
    total = sum((i.principal for i in instalments), Decimal("0.00"))
    if total != loan.principal:
        raise BadDocument(f"schedule: principal parts sum to {total}, the loan's principal is {loan.principal}")
    return instalments


def read_payments(document: Any, loan: Loan, instalments: list[ScheduledInstalment]) -> list[Payment]:
    """`GET /accounts/{reference}/payments`: every payment, in the order they were made."""
    numbers = {i.number for i in instalments}
    payments, seen = [], set()
    for index, item in enumerate(_list(document, "payments", loan.reference, "payments")):
        where = f"payments.payments[{index}]"
        payment_id = _text(item, "payment_id", where)
        if payment_id in seen:
            raise BadDocument(f"{where}: payment_id {payment_id!r} appears twice")
        seen.add(payment_id)
        number = None if item.get("instalment_number") is None else _number(
            item, "instalment_number", where, 1, MAX_INSTALMENTS)
        if number is not None and number not in numbers:
            raise BadDocument(f"{where}: instalment_number {number} is not in the schedule")
        note = item.get("note")
        if note is not None and not isinstance(note, str):
            raise BadDocument(f"{where}: note must be a string")
        payments.append(Payment(
            id=FIRST_PAYMENT_ID + index, external_id=payment_id, loan_id=loan.id, instalment_id=number,
            amount=_money(item, "amount", where, positive=True), paid_on=_day(item, "paid_on", where),
            status=_choice(item, "status", where, PAYMENT_STATUS_WORDS), note=note[:200] if note else None,
            source="core_banking",
        ))
    return payments


def read_charges(document: Any, loan: Loan) -> list[Charge]:
    """`GET /accounts/{reference}/charges`: late fees and penalty interest, waived ones included."""
    charges, seen = [], set()
    for index, item in enumerate(_list(document, "charges", loan.reference, "charges")):
        where = f"charges.charges[{index}]"
        charge_id = _text(item, "charge_id", where)
        if charge_id in seen:
            raise BadDocument(f"{where}: charge_id {charge_id!r} appears twice")
        seen.add(charge_id)
        waived = item.get("waived", False)
        if not isinstance(waived, bool):
            raise BadDocument(f"{where}: waived must be true or false")
        charges.append(Charge(
            id=index + 1, external_id=charge_id, loan_id=loan.id, kind=_choice(item, "kind", where, CHARGE_KINDS),
            amount=_money(item, "amount", where, positive=True), charged_on=_day(item, "charged_on", where),
            waived=waived,
        ))
    return charges


# --- the account source ------------------------------------------------------------------------


class CoreBankingAccounts:
    """The `AccountSource` over the core-banking system, for one unit of work.

    Each document is fetched at most once per instance (the account document serves the loan, its
    borrower and the identity alike), so a fresh instance per unit of work reads fresh books.
    """

    def __init__(self, client: CoreBankingClient, order: tuple[str, ...] = DEFAULT_ORDER) -> None:
        self.client = client
        self.order = order
        self._accounts: dict[str, Account | None] = {}

    def _path(self, reference: str, tail: str = "") -> str:
        return f"/accounts/{quote(reference, safe='')}{tail}"

    def _read(self, what: str, read: Callable[[], Any]) -> Any:
        try:
            return read()
        except (ValueError, TypeError, ArithmeticError) as error:  # BadDocument, or anything unforeseen
            log.error("core banking sent an unusable %s document: %s", what, error)
            raise AccountsUnavailable(f"unusable {what} document: {error}") from None

    def _account(self, reference: str) -> Account | None:
        if reference not in self._accounts:
            document = self.client.get(self._path(reference))
            self._accounts[reference] = None if document is None else self._read(
                "account", lambda: read_account(document, reference))
        return self._accounts[reference]

    def _document(self, reference: str, tail: str) -> Any:
        document = self.client.get(self._path(reference, tail))
        if document is None:  # the account exists, so its lists must too
            log.error("core banking: %s not found for an existing account", tail)
            raise AccountsUnavailable(f"{tail} not found for an existing account")
        return document

    def loan_by_reference(self, reference: str) -> Loan | None:
        account = self._account(reference)
        return None if account is None else account.loan

    def borrower_of(self, loan: Loan) -> Borrower:
        account = self._account(loan.reference)
        if account is None:
            raise AccountsUnavailable(f"loan {loan.reference} is no longer in the core-banking system")
        return account.borrower

    def identity(self, reference: str) -> Identity | None:
        account = self._account(reference)
        if account is None:
            return None
        return Identity(account.loan.reference, account.borrower.full_name, account.borrower.date_of_birth)

    def books(self, reference: str) -> LoanBooks | None:
        account = self._account(reference)
        if account is None:
            return None
        loan = account.loan
        schedule = self._document(reference, "/schedule")
        payments = self._document(reference, "/payments")
        charges = self._document(reference, "/charges")

        def read() -> LoanBooks:
            instalments = read_schedule(schedule, loan)
            return LoanBooks(loan, instalments, read_payments(payments, loan, instalments), read_charges(charges, loan))
        return self._read("books", read)

    def statement(self, reference: str, today: date) -> ArrearsStatement | None:
        books = self.books(reference)
        return None if books is None else statement_of(books, today, self.order)
