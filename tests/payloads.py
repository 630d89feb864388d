"""Every custom payload the assistant sends, as a channel's output receives it: each `custom`
variation of domain.yml, filled the way Rasa fills it, with sample values."""
from __future__ import annotations

import re
from typing import Any

import yaml

from tests.conftest import PROJECT_ROOT

SAMPLE_VALUES = {"url": "https://hcf.example/agreements/AGR-20261201-ABC123?t=x", "reference": "AGR-20261201-ABC123"}


def _fill(value: Any) -> Any:
    if isinstance(value, str):
        return re.sub(r"\{(\w+)\}", lambda m: SAMPLE_VALUES.get(m.group(1), "sample"), value)
    if isinstance(value, list):
        return [_fill(item) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item) for key, item in value.items()}
    return value


def domain_custom_payloads() -> dict[str, dict]:
    """{"utter_agreement_link[zh]": payload, ...} for every custom variation in domain.yml."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    found = {}
    for name, variations in domain["responses"].items():
        for variation in variations:
            if "custom" in variation:
                language = next((c["value"] for c in variation.get("condition", []) if c.get("name") == "language"),
                                "en")
                found[f"{name}[{language}]"] = _fill(variation["custom"])
    return found
