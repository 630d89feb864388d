"""A small fake of a lender's core-banking system (docs/core-banking-api.md), run in a thread by the tests.

It serves the documents of loans given as `LoanBooks` (rendered as the real system would write
them), checks the bearer token, counts every request, and misbehaves on demand: slow answers,
500s, a number of 503s before recovering, answers that are not JSON, or not there at all (stopped).
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from bot.accounts.models import Borrower, PaymentStatus
from bot.accounts.repository import LoanBooks

TOKEN = "fake-core-banking-token"
STATUS_WORDS = {PaymentStatus.SUCCEEDED: "credited", PaymentStatus.RETURNED: "returned",
                PaymentStatus.FAILED: "failed"}


def documents(books: LoanBooks, borrower: Borrower) -> dict[str, Any]:
    """The four documents of one loan, keyed by path tail ("" is the account document)."""
    loan = books.loan
    number_of = {i.id: i.number for i in books.instalments}
    # The order payments were made, as the local allocation takes them.
    payments = sorted(books.payments, key=lambda p: (p.paid_on, str(p.id)))
    return {
        "": {
            "loan_reference": loan.reference, "currency": loan.currency, "principal": str(loan.principal),
            "annual_rate": str(loan.annual_rate), "contractual_instalment": str(loan.contractual_instalment),
            "start_date": loan.start_date.isoformat(),
            "borrower": {"borrower_id": borrower.external_id or f"CUST-{borrower.id}",
                         "full_name": borrower.full_name, "date_of_birth": borrower.date_of_birth.isoformat(),
                         "language": borrower.preferred_language, "time_zone": borrower.time_zone},
        },
        "/schedule": {"loan_reference": loan.reference, "instalments": [
            {"instalment_number": i.number, "due_date": i.due_date.isoformat(), "amount": str(i.amount),
             "principal": str(i.principal), "interest": str(i.interest)}
            for i in sorted(books.instalments, key=lambda i: i.number)]},
        "/payments": {"loan_reference": loan.reference, "payments": [
            {"payment_id": p.external_id or f"PAY-{p.id}", "instalment_number": number_of.get(p.instalment_id),
             "amount": str(p.amount), "paid_on": p.paid_on.isoformat(), "status": STATUS_WORDS[p.status],
             "note": p.note}
            for p in payments]},
        "/charges": {"loan_reference": loan.reference, "charges": [
            {"charge_id": c.external_id or f"CHG-{c.id}", "kind": c.kind.value, "amount": str(c.amount),
             "charged_on": c.charged_on.isoformat(), "waived": bool(c.waived)}
            for c in books.charges]},
    }


class FakeCoreBanking:
    """The fake system. `mode`: "ok", "slow" (waits `delay` s first), "error" (500), "bad_json"."""

    def __init__(self) -> None:
        self.loans: dict[str, dict[str, Any]] = {}
        self.mode = "ok"
        self.delay = 0.0
        self.fail_next = 0  # answer 503 to this many requests, then as `mode` says
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._release = threading.Event()  # ends slow answers when the fake stops
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    def serve(self, books: LoanBooks, borrower: Borrower) -> None:
        self.loans[books.loan.reference] = documents(books, borrower)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    def start(self) -> FakeCoreBanking:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                with fake._lock:
                    fake.requests.append(self.path)
                    failing = fake.fail_next > 0
                    fake.fail_next -= 1 if failing else 0
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._answer(401, {"error": "unauthorized"})
                if failing:
                    return self._answer(503, {"error": "unavailable"})
                if fake.mode == "slow":
                    fake._release.wait(fake.delay)
                if fake.mode == "error":
                    return self._answer(500, {"error": "internal"})
                if fake.mode == "bad_json":
                    return self._answer(200, b"{\"loan_reference\": \"HCF-")
                parts = self.path.split("/")  # "", "accounts", reference[, tail]
                if len(parts) < 3 or parts[1] != "accounts":
                    return self._answer(404, {"error": "not found"})
                loan = fake.loans.get(unquote(parts[2]))
                tail = "/" + parts[3] if len(parts) == 4 else ""
                if loan is None or tail not in loan or len(parts) > 4:
                    return self._answer(404, {"error": "not found"})
                return self._answer(200, loan[tail])

            def _answer(self, status: int, body) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
                    pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self.port = server.server_address[1]
        self._release.clear()
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop answering: connections are refused until `start()` again (on the same port)."""
        if self._server is not None:
            self._release.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None
