"""The one shape of a custom payload (`json_message`) that actions may send.

Rasa passes a custom payload to each output channel as it is; Rasa 3.6's socket.io output
turns its keys into keyword arguments of `emit()`, so an arbitrary dict crashes the turn.
Actions therefore send only this shape, and every output channel renders it:

    {"text": "...",                                   # required, non-empty
     "buttons": [{"title": "...", "payload": "..."}],  # optional: replies the borrower can tap
     "links": [{"title": "...", "url": "https://..."}]}  # optional: documents to open

A button's payload is plain text the borrower could have typed (never `/intent{...}`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


class PayloadError(ValueError):
    """A custom payload not in the one shape."""


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class RichMessage:
    text: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)
    links: tuple[Link, ...] = field(default_factory=tuple)

    def as_json(self) -> dict[str, Any]:
        """The `json_message` an action dispatches."""
        message: dict[str, Any] = {"text": self.text}
        if self.buttons:
            message["buttons"] = [{"title": b.title, "payload": b.payload} for b in self.buttons]
        if self.links:
            message["links"] = [{"title": link.title, "url": link.url} for link in self.links]
        return message


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(f"{what} must be non-empty text")
    return value


def parse_payload(raw: Any) -> RichMessage:
    """Read a custom payload, refusing anything but the one shape (unknown keys included)."""
    if not isinstance(raw, dict):
        raise PayloadError("a custom payload is an object")
    unknown = set(raw) - {"text", "buttons", "links"}
    if unknown:
        raise PayloadError(f"unknown keys in a custom payload: {sorted(unknown)}")
    buttons = []
    for item in raw.get("buttons") or []:
        if not isinstance(item, dict):
            raise PayloadError("a button is an object")
        payload = _text(item.get("payload"), "a button's payload")
        if payload.lstrip().startswith("/"):
            raise PayloadError("a button's payload is plain text, never /intent syntax")
        buttons.append(Button(_text(item.get("title"), "a button's title"), payload))
    links = []
    for item in raw.get("links") or []:
        if not isinstance(item, dict):
            raise PayloadError("a link is an object")
        url = _text(item.get("url"), "a link's url")
        if urlsplit(url).scheme not in ("http", "https"):
            raise PayloadError("a link is http(s)")
        links.append(Link(_text(item.get("title"), "a link's title"), url))
    return RichMessage(_text(raw.get("text"), "a custom payload's text"), tuple(buttons), tuple(links))
