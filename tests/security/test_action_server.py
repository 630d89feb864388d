"""The action server answers only the Rasa server: a token on every call, loopback by default, bounded bodies.

Issue 9, security item 1 (transport): rasa_sdk alone listened on every interface, ran any action for
anyone, read bodies up to 100 MB and inflated compressed bodies without limit.
"""
from __future__ import annotations

import json
import time
import zlib

import pytest
import requests
import yaml

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())


def action_call(action: str = "action_show_arrears", **slots) -> dict:
    """A call as Rasa makes it: the action, the tracker (here claiming a verified borrower) and the domain."""
    latest = {"text": "how much do I owe", "intent": {"name": "ask_arrears", "confidence": 0.99}, "entities": []}
    return {
        "next_action": action, "sender_id": "rest:probe", "version": "3.6.21", "domain": DOMAIN,
        "tracker": {"sender_id": "rest:probe", "slots": {"language": "en", "opened": True, **slots},
                    "latest_message": latest, "paused": False, "followup_action": None, "active_loop": {},
                    "latest_action_name": "action_listen",
                    "events": [{"event": "user", "text": latest["text"], "parse_data": latest}]},
    }


def post(server, body: bytes, *, token: str | None, encoding: str | None = None) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if encoding:
        headers["Content-Encoding"] = encoding
    return requests.post(f"{server.url}/webhook", data=body, headers=headers, timeout=60)


FORGED = json.dumps(action_call(verified=True, loan_reference="HCF-1001")).encode()


def test_a_call_with_the_token_runs_the_action(action_server):
    answer = post(action_server, FORGED, token=action_server.token)
    assert answer.status_code == 200, answer.text
    assert "events" in answer.json()


def test_a_call_without_a_token_is_refused_and_runs_no_action(action_server):
    answer = post(action_server, FORGED, token=None)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert "events" not in answer.json() and "3,930" not in answer.text


def test_a_call_with_a_wrong_token_is_refused_and_runs_no_action(action_server):
    for wrong in ("wrong", action_server.token[:-1], action_server.token + "x", "é" * 8):
        answer = post(action_server, FORGED, token=wrong)
        assert answer.status_code == 403, wrong
        assert "events" not in answer.json()


def test_the_token_is_needed_to_list_actions_but_not_for_the_health_probe(action_server):
    assert requests.get(f"{action_server.url}/actions", timeout=10).status_code == 401
    assert requests.get(f"{action_server.url}/health", timeout=10).json() == {"status": "ok"}


def test_an_oversized_body_is_refused_with_413(action_server):
    body = b" " * (action_server.max_request_bytes + 1) + FORGED  # valid JSON, but over the cap
    assert post(action_server, body, token=action_server.token).status_code == 413


def test_a_compressed_call_within_the_cap_still_runs(action_server):
    """Rasa compresses action calls when COMPRESS_ACTION_SERVER_REQUEST is set (aiohttp: zlib `deflate`)."""
    answer = post(action_server, zlib.compress(FORGED), token=action_server.token, encoding="deflate")
    assert answer.status_code == 200, answer.text
    assert "events" in answer.json()


def test_a_zip_bomb_is_refused_with_413_without_inflating_it(action_server):
    bomb = zlib.compress(b" " * (512 * 1024 * 1024), 9)  # 512 MiB in ~500 KB: under the body cap
    assert len(bomb) < action_server.max_request_bytes
    started = time.monotonic()
    answer = post(action_server, bomb, token=action_server.token, encoding="deflate")
    assert answer.status_code == 413
    assert time.monotonic() - started < 10
    assert requests.get(f"{action_server.url}/health", timeout=10).ok


def test_a_truncated_compressed_body_is_a_bad_request(action_server):
    assert post(action_server, zlib.compress(FORGED)[:-20], token=action_server.token,
                encoding="deflate").status_code == 400


def test_a_failed_action_is_answered_without_the_request(action_server):
    call = action_call("action_verify_identity")
    call["tracker"]["latest_message"] = "HCF-1001 1988-04-12"  # not a parse result: the action fails reading it
    answer = post(action_server, json.dumps(call).encode(), token=action_server.token)
    assert answer.status_code == 500
    assert "1988-04-12" not in answer.text
    assert "1988-04-12" not in action_server.log.read_text()


def listening_addresses(port: int) -> set[str]:
    """Local IPv4 addresses with a listening TCP socket on `port` (from /proc/net/tcp)."""
    found = set()
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port_hex = local.split(":")
        if state == "0A" and int(port_hex, 16) == port:
            found.add(".".join(str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


def test_the_server_listens_on_loopback_only_by_default(action_server):
    assert listening_addresses(action_server.port) == {"127.0.0.1"}
