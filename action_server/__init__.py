"""The action server: rasa_sdk's own Sanic app, answering only the Rasa server that holds the shared secret.

rasa_sdk 3.6 (`python -m rasa_sdk`) listens on every interface, runs any action for anyone who
can reach its port, reads bodies up to Sanic's 100 MB default, inflates a `Content-Encoding:
deflate` body with an unbounded `zlib.decompress` (a few kilobytes can inflate to gigabytes) and
answers a failed action with the whole request (the tracker, dates of birth included). This
module builds the same app (`rasa_sdk.endpoint.create_app`, same routes and executor) and adds:

- a shared secret on every request but `GET /health`: `Authorization: Bearer <ACTION_SERVER_TOKEN>`,
  compared in constant time (the Rasa server sends it from `var/endpoints.yml`, see
  bot/runtime_config.py); no header -> 401, a wrong one -> 403, and no action runs;
- a cap on the body (Sanic's REQUEST_MAX_SIZE) and the same cap on the inflated body, which is
  inflated here in bounded steps, before rasa_sdk sees it; more -> 413;
- failures answered without the request, and logged without it.

Run by `python -m action_server` (Procfile, tests/e2e/stack.py); binds ACTION_HOST (127.0.0.1).
"""
from __future__ import annotations

import hmac
import logging
import zlib

from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_sdk.endpoint import create_app as create_rasa_sdk_app

logger = logging.getLogger(__name__)

ACTIONS_PACKAGE = "actions"
OPEN_PATHS = frozenset({"/health"})  # a load balancer's probe needs no secret and reveals nothing


class BodyTooLarge(SanicException):
    """The request body, as sent or once inflated, exceeds the configured cap."""

    status_code = 413
    quiet = True


class UnreadableBody(SanicException):
    """A compressed body that is truncated or in an encoding this server does not accept."""

    status_code = 400
    quiet = True


def inflate(body: bytes, limit: int) -> bytes:
    """`body` inflated as rasa_sdk does (zlib `deflate`), refusing to produce more than `limit` bytes."""
    inflater = zlib.decompressobj()
    try:
        inflated = inflater.decompress(body, limit + 1)  # never more than one byte past the cap
    except zlib.error as error:
        raise UnreadableBody("the deflate body cannot be inflated") from error
    if len(inflated) > limit:
        raise BodyTooLarge(f"the inflated body exceeds {limit} bytes")
    if not inflater.eof:
        raise UnreadableBody("the deflate body is truncated")
    return inflated


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None when there is none."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def create_app(token: str, max_request_bytes: int) -> Sanic:
    """rasa_sdk's action server app over the `actions` package, guarded by `token` and a body cap."""
    if not token:
        raise ValueError("the action server needs a token (ACTION_SERVER_TOKEN)")
    app = create_rasa_sdk_app(ACTIONS_PACKAGE, cors_origins=[])  # no browser has business here
    app.config.REQUEST_MAX_SIZE = max_request_bytes
    expected = token.encode()

    async def guard(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS and request.method in ("GET", "HEAD"):
            return None
        offered = bearer_token(request)
        if offered is None:
            return response.json({"error": "authentication required"}, status=401,
                                 headers={"WWW-Authenticate": "Bearer"})
        if not hmac.compare_digest(offered.encode("utf-8", "replace"), expected):
            return response.json({"error": "forbidden"}, status=403)
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        if encoding == "deflate":
            request.body = inflate(request.body, max_request_bytes)
            # rasa_sdk inflates whenever it sees this header: it must see the inflated body only.
            del request.headers["content-encoding"]
        elif encoding != "identity":
            return response.json({"error": f"unsupported content encoding {encoding!r}"}, status=415)
        return None

    async def failure(request: Request, exception: Exception) -> HTTPResponse:
        # Replaces rasa_sdk's handler, which answered (and so got logged by Rasa) with the request body.
        if isinstance(exception, SanicException):
            return response.json({"error": str(exception)}, status=exception.status_code)
        logger.error("action server failed on %s %s", request.method, request.path, exc_info=exception)
        return response.json({"error": "the action failed; see the action server's log"}, status=500)

    app.register_middleware(guard, "request")
    app.error_handler.add(Exception, failure)
    return app
