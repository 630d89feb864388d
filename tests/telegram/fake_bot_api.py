"""A local stand-in for the Telegram Bot API, for offline tests.

Records every method call (``/bot<token>/<method>``) with its decoded
parameters, answers like Telegram does, and can be told to fail the next N
calls with 429 (``retry_after``) or 5xx. ``getUpdates`` serves queued updates.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from aiohttp import web


@dataclass
class ApiCall:
    method: str
    params: Dict[str, Any]
    token: str
    status: int = 200  # what the fake answered; failed attempts are recorded too
    result: Any = None  # what it answered with (a sent message carries its message_id)


@dataclass
class _Failure:
    status: int
    retry_after: Optional[int]
    method: Optional[str]


# Free-text parameters stay strings even when they look like JSON ("2", "true").
_TEXT_PARAMS = {"text", "caption", "callback_query_id", "url", "secret_token", "document", "photo"}


def _decode(key: str, value: str) -> Any:
    """PTB sends non-string parameters JSON-encoded inside form fields."""
    if key in _TEXT_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


@dataclass
class FakeBotApi:
    calls: List[ApiCall] = field(default_factory=list)
    updates: List[Dict[str, Any]] = field(default_factory=list)
    base_url: str = ""
    _failures: List[_Failure] = field(default_factory=list)
    _runner: Optional[web.AppRunner] = None
    _message_ids: Any = field(default_factory=lambda: itertools.count(1000))

    def fail_next(self, count: int, status: int = 500, retry_after: Optional[int] = None,
                  method: Optional[str] = None) -> None:
        """Answer the next ``count`` calls (of ``method``, if given) with an error."""
        self._failures.extend(_Failure(status, retry_after, method) for _ in range(count))

    def calls_to(self, method: str) -> List[ApiCall]:
        return [call for call in self.calls if call.method == method]

    def sent_texts(self, chat_id: Optional[int] = None) -> List[str]:
        """Texts actually delivered (answered 200), optionally to one chat."""
        return [
            call.params["text"] for call in self.calls_to("sendMessage")
            if call.status == 200 and (chat_id is None or int(call.params["chat_id"]) == chat_id)
        ]

    async def start(self) -> "FakeBotApi":
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}/bot"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            params = await request.json()
        else:
            params = {key: _decode(key, value) for key, value in (await request.post()).items()
                      if isinstance(value, str)}
        failure = self._take_failure(method)
        if failure is not None:
            # A failed call is recorded too: it shows how many attempts were made.
            self.calls.append(ApiCall(method, params, request.match_info["token"], failure.status))
            return self._error(failure)
        call = ApiCall(method, params, request.match_info["token"])
        self.calls.append(call)
        if method == "getUpdates":
            return await self._get_updates(params)
        call.result = self._result(method, params)
        return web.json_response({"ok": True, "result": call.result})

    def _take_failure(self, method: str) -> Optional[_Failure]:
        for index, failure in enumerate(self._failures):
            if failure.method in (None, method):
                return self._failures.pop(index)
        return None

    @staticmethod
    def _error(failure: _Failure) -> web.Response:
        body: Dict[str, Any] = {"ok": False, "error_code": failure.status}
        if failure.status == 429:
            body["description"] = f"Too Many Requests: retry after {failure.retry_after}"
            body["parameters"] = {"retry_after": failure.retry_after}
        else:
            body["description"] = "Internal Server Error"
        return web.json_response(body, status=failure.status)

    async def _get_updates(self, params: Dict[str, Any]) -> web.Response:
        offset = int(params.get("offset") or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates:
            await asyncio.sleep(min(float(params.get("timeout") or 0), 0.05))
        return web.json_response({"ok": True, "result": self.updates})

    def _result(self, method: str, params: Dict[str, Any]) -> Any:
        if method in ("sendMessage", "sendDocument", "sendPhoto"):
            message: Dict[str, Any] = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "from": {"id": 1, "is_bot": True, "first_name": "Assistant", "username": "debt_helper_bot"},
            }
            if "text" in params:
                message["text"] = params["text"]
            return message
        if method == "getMe":
            return {"id": 1, "is_bot": True, "first_name": "Assistant", "username": "debt_helper_bot"}
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        return True
