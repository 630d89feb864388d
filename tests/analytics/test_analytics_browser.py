"""A supervisor reads the analytics of a lender's imported books, in Chinese, in Chromium.

The books are data/sample_import loaded by `python -m bot.cli import`, with their days-past-due history rebuilt
by `python -m bot.cli backfill-history` (the two commands a lender runs on day one). The web app is the real
one on a real SQLite database; nobody has talked to the assistant yet, so the tracker store is empty.
"""
from __future__ import annotations

import subprocess
import sys
from datetime import date
from typing import Iterator

import pytest

from bot.config import load_settings
from bot.handoff.accounts import create_account
from bot.storage import Database
from bot.storage.schema import migrate
from channels.web.app import create_app
from tests.conftest import PROJECT_ROOT
from tests.browser import launched_chromium
from tests.handoff.test_console_browser import serving
from tests.handoff.test_desk_live import TrackerStore

pytestmark = pytest.mark.slow

PASSWORD = "analytics-pass"
IMAGES = PROJECT_ROOT / "docs" / "img"
SAMPLE = sorted(str(path) for path in (PROJECT_ROOT / "data" / "sample_import").glob("*.csv"))
# The sample's loans fall behind in September and October 2026: a range that holds those weeks.
FIRST, LAST = date(2026, 9, 7), date(2026, 11, 29)


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> Iterator[str]:
    var_dir = tmp_path_factory.mktemp("imported")
    url = f"sqlite:///{var_dir / 'app.db'}"
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": url, "APP_VAR_DIR": str(var_dir), "HOME": str(var_dir)}
    for command in (["import", *SAMPLE],
                    ["backfill-history", "--to", LAST.isoformat(), "--days", str((LAST - FIRST).days + 2)]):
        done = subprocess.run([sys.executable, "-m", "bot.cli", *command], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
    TrackerStore(var_dir / "tracker.db")  # Rasa's empty tracker store, where the settings look for it
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("APP_VAR_DIR", str(var_dir))
        patch.setenv("DATABASE_URL", url)
        patch.setenv("RECONCILE_INTERVAL_MINUTES", "0")
        settings = load_settings()
        migrate(settings.database_url)
        database = Database(settings.database_url)
        with database.unit_of_work() as session:
            create_account(session, "sue", "Sue", "supervisor", PASSWORD)
        with serving(create_app(settings)) as web:
            yield web
        database.dispose()


def test_a_supervisor_sees_cure_and_roll_charts_of_imported_books_in_chinese(imported):
    with launched_chromium() as browser:
        page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
        page.set_default_timeout(20000)
        page.goto(f"{imported}/console/login")
        page.fill("input[name=username]", "sue")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{imported}/console/")
        page.goto(f"{imported}/console/analytics?from={FIRST}&to={LAST}&grain=week")
        assert page.locator("h1").inner_text() == "Analytics"
        page.click(".lang-switch .lang[data-lang=zh]")
        page.wait_for_url("**lang=zh**")
        assert page.locator("h1").inner_text() == "数据分析"
        cure = page.locator("#kpi-cure")
        assert cure.locator("h2").inner_text() == "治愈率（期初逾期、期末正常）"
        assert cure.locator("th").all_inner_texts() == ["周期", "期初逾期", "期末正常", "治愈率"]
        # W42 (Oct 12-18): HCF-1001 goes from 1-29 to 30-59 days late, HCF-2002 from current to 1-29.
        roll = page.locator("#kpi-roll tbody tr", has_text="2026-W42")
        assert roll.all_inner_texts() == ["2026-W42\t正常\t正常\t2\t66.7%",
                                          "2026-W42\t正常\t1-29\t1\t33.3%",
                                          "2026-W42\t1-29\t30-59\t1\t100.0%"]
        for key in ("cure", "roll_forward"):
            source = page.locator(f"#kpi-{key} img.kpi-chart").get_attribute("src")
            assert source.endswith("lang=zh")
            answer = page.request.get(imported + source)
            assert answer.status == 200 and answer.headers["content-type"].startswith("image/svg+xml")
        page.locator("#kpi-roll_forward").scroll_into_view_if_needed()
        page.screenshot(path=str(IMAGES / "console-analytics-zh.png"))
        # A new range keeps the language.
        page.click(".presets button[data-days='91']")
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "数据分析"
