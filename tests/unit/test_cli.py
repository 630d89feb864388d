"""Set-up from the command line: idempotent, and stopped by an invalid policy with the key named."""
from __future__ import annotations

import subprocess
import sys

from tests.conftest import PROJECT_ROOT


def run_cli(tmp_path, *args, **env):
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "APP_VAR_DIR": str(tmp_path), "DEMO_AGENT_PASSWORD": "x" * 16,
                               **env}, timeout=120)


def test_setup_twice_creates_the_demo_data_once(tmp_path):
    first = run_cli(tmp_path, "setup")
    assert first.returncode == 0, first.stderr
    assert "demo data created: HCF-1001, HCF-2002, HCF-3003, HCF-4004" in first.stdout
    second = run_cli(tmp_path, "setup")
    assert second.returncode == 0 and "demo data present" in second.stdout


def test_an_invalid_policy_stops_setup_naming_the_key(tmp_path):
    bad = tmp_path / "policy.yml"
    bad.write_text((PROJECT_ROOT / "policy.yml").read_text().replace("surplus_share: 0.7", "surplus_share: 7"))
    result = run_cli(tmp_path, "setup", POLICY_FILE=str(bad))
    assert result.returncode == 2
    assert "affordability.surplus_share" in result.stderr and "7" in result.stderr
