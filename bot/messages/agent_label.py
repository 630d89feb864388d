"""How an agent's message is labelled in the borrower's chat, in each language.

The console writes the label (channels/console/rasa_api.py); channels read it to keep an agent's message
whole (channels/widget/socketio.py). One definition, so that the two never drift apart.
"""
from __future__ import annotations

import re

AGENT_LABEL = {"en": "{name} (agent): {text}", "zh": "{name}（人工客服）：{text}"}
# The start of a text labelled with AGENT_LABEL in any language; the name is what a display name can be in it.
AGENT_LABELLED = re.compile("^(?:" + "|".join(
    re.escape(label.split("{text}")[0]).replace(re.escape("{name}"), r"[^\n:：()（）]{1,60}")
    for label in AGENT_LABEL.values()) + ")")
