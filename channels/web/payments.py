"""`POST /api/payments`: the lender's payment system reports payments, returns and reversals.

The body is JSON, `{"payments": [{payment_id, loan_reference, amount, paid_on, status, ...}]}` with the
payments file's columns (docs/data-format.md). It is signed with the shared secret PAYMENTS_FEED_SECRET:

    X-Payments-Timestamp: <unix seconds>
    X-Payments-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">

A signature older than five minutes is refused (a captured request cannot be replayed later), and each
payment id is recorded once, so a retried delivery changes nothing.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import date, datetime, timezone

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.books.format import CellError
from bot.lifecycle.feed import MAX_FEED_ROWS, record_payments

log = logging.getLogger(__name__)
router = APIRouter()

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_SKEW_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp` (the lender's side does the same)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _refuse(status: int, error: str, **extra) -> JSONResponse:
    return JSONResponse({"error": error, **extra}, status_code=status)


@router.post("/api/payments", include_in_schema=False)
async def payments_feed(request: Request) -> JSONResponse:
    settings = request.app.state.settings
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        return _refuse(413, f"body larger than {MAX_BODY_BYTES} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return _refuse(413, f"body larger than {MAX_BODY_BYTES} bytes")
    timestamp = request.headers.get("x-payments-timestamp", "")
    signature = request.headers.get("x-payments-signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW_SECONDS:
        return _refuse(401, "missing or stale X-Payments-Timestamp")
    if not settings.payments_feed_secret or not hmac.compare_digest(
            sign(settings.payments_feed_secret, timestamp, body), signature):
        return _refuse(401, "bad signature")
    try:
        document = json.loads(body)
    except ValueError:
        return _refuse(400, "the body is not JSON")
    payments = document.get("payments") if isinstance(document, dict) else None
    if not isinstance(payments, list) or not payments:
        return _refuse(400, 'expected {"payments": [ ... ]} with at least one payment')
    if len(payments) > MAX_FEED_ROWS:
        return _refuse(413, f"more than {MAX_FEED_ROWS} payments in one request")
    rows = [(index, row if isinstance(row, dict) else CellError("", "a payment must be a JSON object"))
            for index, row in enumerate(payments, start=1)]
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    try:
        result = await run_in_threadpool(
            record_payments, request.app.state.database, request.app.state.policy, rows, now=now,
            today=date.today())
    except SQLAlchemyError:
        log.exception("payments feed: database unavailable")
        return _refuse(503, "the database is not answering; nothing was recorded, send the same request again")
    if not result.accepted:
        return JSONResponse({"error": "rows rejected: nothing was recorded", **result.summary()}, status_code=422)
    return JSONResponse(result.summary())
