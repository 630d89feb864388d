"""What the console's server writes (the account panel's sentences and labels, the console APIs' errors,
the queue's refusals) reaches an agent who chose Chinese in Chinese, and stays English for the others."""
from __future__ import annotations

import re
from datetime import timedelta

from channels.console.wording import ZH, words
from tests.handoff.account_rows import verified_escalation
from tests.handoff.test_console_api import escalation, sign_in
from tests.handoff.test_console_books import TODAY, books, client, full_books  # noqa: F401  (fixtures)

CJK = re.compile(r"[\u4e00-\u9fff]")


def in_chinese(client, username: str) -> str:  # noqa: F811
    """Sign in and switch the agent's console to Chinese, as the 中文 button does; the CSRF token."""
    csrf = sign_in(client, username)
    assert client.put("/console/api/me/language", json={"language": "zh"},
                      headers={"X-CSRF-Token": csrf}).status_code == 200
    return csrf


def test_the_account_panel_speaks_chinese_to_an_agent_who_chose_it(client, full_books):  # noqa: F811
    escalation_id = verified_escalation(full_books)
    in_chinese(client, "ada")
    data = books(client, escalation_id)
    plan = data["summary"]["plan"]
    assert plan["text"] == "还款计划 AGR-20260901-CUR002 逾期：应还 ¥1,200.00，已还 ¥400.00"
    assert (plan["label"], plan["tone"]) == ("逾期", "warn")
    promised = data["summary"]["promise"]
    assert promised["text"] == f"承诺于 {(TODAY + timedelta(days=6)).isoformat()} 前还款 ¥500.00"
    assert promised["label"] == "未结"
    assert all(CJK.search(row["label"]) for row in data["payments"] + data["promises"] + data["plans"])
    assert data["outreach"]["status"]["text"] == "主动联系进行中"
    assert data["outreach"]["status"]["notes"] == ["此转接未结期间，联系规则会拒绝所有主动消息。"]


def test_an_agent_who_keeps_english_reads_english(client, full_books):  # noqa: F811
    escalation_id = verified_escalation(full_books)
    sign_in(client, "ada")
    data = books(client, escalation_id)
    assert data["summary"]["plan"]["text"].startswith("Plan AGR-20260901-CUR002 in arrears")
    assert data["outreach"]["status"]["text"] == "Outreach active"


def test_console_api_errors_and_queue_refusals_come_in_chinese(client, full_books):  # noqa: F811
    escalation_id = escalation(full_books, "conv-zh")
    bob = sign_in(client, "bob")
    assert client.post(f"/console/api/escalations/{escalation_id}/claim", headers={"X-CSRF-Token": bob}).status_code == 200
    ada_client = type(client)(client.app)
    ada = in_chinese(ada_client, "ada")
    headers = {"X-CSRF-Token": ada}

    again = ada_client.post(f"/console/api/escalations/{escalation_id}/claim", headers=headers)
    assert (again.status_code, again.json()["detail"]) == (409, "已被其他人先认领")
    held = ada_client.get(f"/console/api/escalations/{escalation_id}/books")
    assert (held.status_code, held.json()["detail"]) == (403, "这段对话由 bob 处理")
    missing = ada_client.get("/console/api/escalations/999999/books")
    assert (missing.status_code, missing.json()["detail"]) == (404, "没有这个转接")
    unknown = ada_client.post(f"/console/api/escalations/{escalation_id}/transfer", json={"to": "nobody"},
                              headers=headers)
    assert (unknown.status_code, unknown.json()["detail"]) == (400, "没有名为 'nobody' 的在岗客服")
    refused = ada_client.post(f"/console/api/escalations/{escalation_id}/transfer", json={"to": "sam"}, headers=headers)
    assert (refused.status_code, refused.json()["detail"]) == (403, "这段对话由 bob 处理")
    every = ada_client.get("/console/api/queue?view=all")
    assert (every.status_code, every.json()["detail"]) == (403, "只有主管可以查看所有对话")
    bad_filter = ada_client.get("/console/api/queue?priority=9")
    assert bad_filter.json()["detail"] == "priority 须为 1 到 4 之间的整数"

    # A refusal to an English agent is the English sentence.
    english = client.post(f"/console/api/escalations/{escalation_id}/transfer", json={"to": "bob"},
                          headers={"X-CSRF-Token": bob})
    assert (english.status_code, english.json()["detail"]) == (409, "bob holds this conversation already")


def test_every_chinese_sentence_has_the_parameters_of_its_english_template():
    names = re.compile(r"{(\w+)}")
    for english, chinese in ZH.items():
        assert sorted(names.findall(english)) == sorted(names.findall(chinese)), english
        assert CJK.search(chinese), english
    assert words("zh", "an offer needing {authority} authority can't be approved by an {role}",
                 authority="supervisor", role="agent") == "需要 supervisor 权限的方案不能由 agent 批准"
    assert words("fr", "sign in first") == words("en", "sign in first") == "sign in first"
