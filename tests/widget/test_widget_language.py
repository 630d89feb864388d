"""The widget's own language guess (widget.js `detectLanguage`, run in Node) does not count a loan
reference as English, whatever LOAN_REFERENCE_FORMAT the server has, and still counts words."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from tests.conftest import PROJECT_ROOT

NODE = shutil.which("node")
WIDGET = PROJECT_ROOT / "channels" / "widget" / "static" / "widget.js"


def detect(texts: list[str]) -> list[str | None]:
    source = WIDGET.read_text(encoding="utf-8")
    # From the patterns to the end of detectLanguage: plain functions of text, nothing of the page.
    language_part = re.search(r"  var HAN = .*?\n  function detectLanguage\(text\) \{.*?\n  \}\n", source, re.S)
    assert language_part, "widget.js: the language section moved"
    script = f"{language_part.group(0)}\nconsole.log(JSON.stringify({json.dumps(texts)}.map(detectLanguage)));"
    result = subprocess.run([NODE, "-e", script], capture_output=True, text=True, timeout=30, check=True)
    return json.loads(result.stdout)


pytestmark = pytest.mark.skipif(NODE is None, reason="needs Node.js to run widget.js")

REFERENCES = ["HCF-1001", "hcf 1001", "HCF1001", "hcf_1001", "ＨＣＦ－１００１", "HCF–2002", "HCF-12345678",
              "LN/123456", "ln 123456", "ACC1234567890", "KX_1234", "ref.12345"]


def test_a_bare_reference_of_any_format_has_no_language():
    assert detect([f"{reference} 1988-04-12" for reference in REFERENCES]) == [None] * len(REFERENCES)


def test_words_around_a_reference_decide():
    assert detect(["我的HCF1001还欠多少", "我的LN/123456还欠多少", "my loan is LN/123456", "it's HCF-1001"]) == [
        "zh", "zh", "en", "en"]


def test_words_with_small_numbers_are_words():
    assert detect(["I can pay 500", "option 2", "hello"]) == ["en", "en", "en"]
