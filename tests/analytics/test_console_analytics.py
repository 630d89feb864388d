"""/console/analytics through FastAPI's TestClient: supervisors only, tables beside SVG charts and CSVs."""
from __future__ import annotations

import csv
import io
import re
import warnings

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.testclient import TestClient

from bot.analytics.charts import cjk_font, render_svg
from bot.analytics.kpis import Chart, Column, Table
from bot.analytics.labels import COLUMN_LABELS_ZH, TABLE_TITLES_ZH, language_of, table_title, value_in_words
from bot.config import load_settings
from bot.handoff.accounts import create_account
from channels.console import STATIC_DIR, console_router
from tests.integration.require import require

PASSWORD = "s3cret-pass"
RANGE = "from=2026-11-02&to=2026-11-15&grain=week"


@pytest.fixture
def client(desk, tmp_path, monkeypatch, tracker_url):
    monkeypatch.setenv("APP_VAR_DIR", str(tmp_path))  # the tracker store is tmp_path/tracker.db, as written
    settings = load_settings()
    assert settings.tracker_store_url == tracker_url
    with desk.unit_of_work() as session:
        create_account(session, "ada", "Ada", "agent", PASSWORD)
        create_account(session, "sam", "Sam", "supervisor", PASSWORD)
    app = FastAPI()
    app.include_router(console_router(settings, db=desk))
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    return TestClient(app)


def sign_in(client: TestClient, username: str) -> None:
    form = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    response = client.post("/console/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303


def test_only_supervisors_see_analytics(client):
    assert client.get("/console/analytics", follow_redirects=False).headers["location"] == "/console/login"
    assert client.get(f"/console/api/analytics?{RANGE}").status_code == 401
    sign_in(client, "ada")
    assert client.get(f"/console/analytics?{RANGE}").status_code == 403
    assert client.get(f"/console/api/analytics?{RANGE}").status_code == 403
    assert client.get(f"/console/api/analytics/verification.csv?{RANGE}").status_code == 403
    assert client.get(f"/console/api/analytics/verification.svg?{RANGE}").status_code == 403


def test_the_page_shows_each_chart_as_an_image_beside_its_table_and_csv(client):
    sign_in(client, "sam")
    page = client.get(f"/console/analytics?{RANGE}")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "<svg" not in page.text and "style=" not in page.text  # the CSP forbids both inline
    assert f'src="/console/api/analytics/verification.svg?{RANGE.replace("&", "&amp;")}"' in page.text
    assert f'href="/console/api/analytics/verification.csv?{RANGE.replace("&", "&amp;")}"' in page.text
    # W45 verification: 2 of 3 = 66.7%, shown in the table beside the chart.
    assert re.search(r"<td class=\"text\">2026-W45</td><td class=\"count\">3</td><td class=\"count\">2</td>"
                     r"<td class=\"rate\">66.7%</td>", page.text)
    assert '/console/static/analytics.js' in page.text and '/console/static/analytics.css' in page.text


def test_the_api_csv_and_svg_carry_the_same_numbers(client):
    sign_in(client, "sam")
    body = client.get(f"/console/api/analytics?{RANGE}").json()
    verification = next(t for t in body["tables"] if t["key"] == "verification")
    assert verification["rows"] == [["2026-W45", 3, 2, 0.6667], ["2026-W46", 1, 1, 1.0]]
    response = client.get(verification["csv_url"])
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert list(csv.reader(io.StringIO(response.text))) == [
        ["period", "conversations", "verified", "verification_rate"],
        ["2026-W45", "3", "2", "0.6667"], ["2026-W46", "1", "1", "1.0"]]
    svg = client.get(verification["chart_url"])
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.headers["x-content-type-options"] == "nosniff"
    assert svg.headers["content-security-policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    assert svg.content.lstrip().startswith(b"<?xml") and b"<script" not in svg.content
    assert client.get(f"/console/api/analytics/nonsense.csv?{RANGE}").status_code == 404
    assert client.get(f"/console/api/analytics?from=2026-13-01&to={RANGE}").status_code == 400


def test_chinese_chart_titles_render_with_a_cjk_font():
    require(cjk_font() is not None, "a CJK font (fonts-noto-cjk) is installed")
    table = Table("promise_to_pay", "Promise-to-pay rate",
                  (Column("period", "Period", "text"), Column("promise_rate", "Promise-to-pay rate", "rate")),
                  [("2026-W45", 0.5), ("2026-W46", 1.0)], Chart("period", ("promise_rate",), "line"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from current font"
        svg = render_svg(table, "zh")
    assert svg.count(b"<path") > 10  # text is drawn as paths: no font needed by the browser


def test_csv_cells_that_look_like_formulas_are_quoted():
    from channels.console.analytics import table_csv
    table = Table("t", "T", (Column("rule", "Rule", "text"), Column("n", "N")), [("=HYPERLINK(1)", 1)])
    assert table_csv(table) == "rule,n\n'=HYPERLINK(1),1\n"


def test_every_table_and_column_of_the_report_has_its_chinese(client):
    sign_in(client, "sam")
    body = client.get(f"/console/api/analytics?{RANGE}").json()
    assert len(body["tables"]) >= 20
    assert [t["key"] for t in body["tables"] if t["key"] not in TABLE_TITLES_ZH] == []
    assert sorted({c["key"] for t in body["tables"] for c in t["columns"]} - set(COLUMN_LABELS_ZH)) == []


def test_the_page_is_written_in_the_supervisors_language(client, desk):
    sign_in(client, "sam")
    english = client.get(f"/console/analytics?{RANGE}").text
    assert "<h1>Analytics</h1>" in english and "Verification rate (right-party contact)" in english
    chinese = client.get(f"/console/analytics?{RANGE}&lang=zh").text
    assert "<h1>数据分析</h1>" in chinese and "<h2>身份验证率（本人联系）</h2>" in chinese
    assert "Verification rate" not in chinese and "Nothing in this range." not in chinese
    assert f'src="/console/api/analytics/verification.svg?{RANGE.replace("&", "&amp;")}&amp;lang=zh"' in chinese
    assert '<input type="hidden" name="lang" value="zh">' in chinese  # a new range keeps the language
    # The same W45 row as in English; the language of a conversation is a word, not a code.
    assert re.search(r"<td class=\"text\">2026-W45</td><td class=\"count\">3</td><td class=\"count\">2</td>"
                     r"<td class=\"rate\">66.7%</td>", chinese)
    assert '<td class="text">英文</td>' in chinese and '<td class="text">en</td>' not in chinese
    # Without ?lang the agent's own language decides.
    with desk.unit_of_work() as session:
        session.execute(sa.text("UPDATE agent_accounts SET language = 'zh' WHERE username = 'sam'"))
    assert "<h1>数据分析</h1>" in client.get(f"/console/analytics?{RANGE}").text


def test_labels_fall_back_to_english_and_words_only_replace_codes():
    column = Column("language", "Language", "text")
    assert value_in_words(column, "zh", "en") == "Chinese" and value_in_words(column, "xx", "zh") == "xx"
    assert value_in_words(Column("rule", "Rule", "text"), "en", "zh") == "en"  # a rule code stays a code
    assert table_title(Table("unknown", "Unknown", ()), "zh") == "Unknown"
    assert language_of(None, "zh") == "zh" and language_of("fr", None) == "en" and language_of("en", "zh") == "en"
