"""Every regular expression in bot/language is free of the shapes that backtrack super-linearly.

A borrower's counter-offer with 900 spaces between two digits once took 67 s in
``bot.language.amounts``: several ``\\s*`` around optional groups let the engine split one run
of spaces in every possible way. This test walks every compiled pattern in the package
(module attributes, and patterns inside lists, tuples and dicts) and fails when

- two unbounded quantifiers (``*``, ``+``, ``{n,}``) can match the same characters next to each
  other, with only optional items (``?`` groups, ``\\b``, lookarounds) between them
  (``\\s*(?:to)?\\s*``, ``\\d+\\d*``, ``a*(?:b|a+)``);
- an unbounded quantifier repeats a body that is optional or that can end where its next
  iteration starts (``(a+)+``, ``(\\s*x?)*``, ``(?:\\d+,?)+``).
"""
from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest

import bot.language

try:  # Python 3.11+ moved the parser; 3.10 has it as a public (deprecated) module
    from re import _constants as sre_constants  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants
    import sre_parse

C = sre_constants
UNBOUNDED = C.MAXREPEAT
_REPEATS = {C.MAX_REPEAT, C.MIN_REPEAT} | ({C.POSSESSIVE_REPEAT} if hasattr(C, "POSSESSIVE_REPEAT") else set())

# The characters overlap is judged on: Latin-1 and its neighbours, every character written in a
# pattern, and some Han text. Enough to tell whitespace, digits, letters and Han apart.
_BASE_ALPHABET = {chr(i) for i in range(0x300)} | set("一二十百千万元月年日号个周天　")


@dataclass
class Shape:
    """What the checks need to know about a piece of a pattern."""

    nullable: bool
    first: frozenset[str]  # characters a match can start with
    last: frozenset[str]  # characters a match can end with
    # character sets of unbounded quantifiers that can match at the very start / end
    unbounded_first: list[frozenset[str]] = field(default_factory=list)
    unbounded_last: list[frozenset[str]] = field(default_factory=list)


class Linter:
    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.ignorecase = bool(pattern.flags & re.IGNORECASE)
        self.alphabet = frozenset(_BASE_ALPHABET | set(pattern.pattern))
        self.problems: list[str] = []
        self.tree = sre_parse.parse(pattern.pattern, pattern.flags)

    def run(self) -> list[str]:
        self.sequence(list(self.tree))
        return self.problems

    # --- character sets ------------------------------------------------------------------

    def _literal(self, code: int) -> set[str]:
        ch = chr(code)
        return {ch, ch.lower(), ch.upper()} if self.ignorecase else {ch}

    def _category(self, category: Any) -> set[str]:
        tests = {
            C.CATEGORY_SPACE: str.isspace,
            C.CATEGORY_DIGIT: str.isdecimal,
            C.CATEGORY_WORD: lambda ch: ch.isalnum() or ch == "_",
        }
        negated = {C.CATEGORY_NOT_SPACE: C.CATEGORY_SPACE, C.CATEGORY_NOT_DIGIT: C.CATEGORY_DIGIT,
                   C.CATEGORY_NOT_WORD: C.CATEGORY_WORD}
        if category in negated:
            return set(self.alphabet) - self._category(negated[category])
        return {ch for ch in self.alphabet if tests[category](ch)}

    def charset(self, op: Any, av: Any) -> frozenset[str] | None:
        """The characters a one-character item matches, or None if it is not one."""
        if op == C.LITERAL:
            return frozenset(self._literal(av))
        if op == C.NOT_LITERAL:
            return frozenset(self.alphabet - self._literal(av))
        if op == C.ANY:
            return frozenset(self.alphabet - {"\n"})
        if op == C.IN:
            chars: set[str] = set()
            negate = False
            for item_op, item_av in av:
                if item_op == C.NEGATE:
                    negate = True
                elif item_op == C.LITERAL:
                    chars |= self._literal(item_av)
                elif item_op == C.RANGE:
                    low, high = item_av
                    chars |= {ch for ch in self.alphabet if low <= ord(ch) <= high}
                    if self.ignorecase:
                        chars |= {ch.swapcase() for ch in chars}
                elif item_op == C.CATEGORY:
                    chars |= self._category(item_av)
                else:
                    chars |= set(self.alphabet)  # unknown: assume the worst
            return frozenset(self.alphabet - chars if negate else chars)
        return None

    # --- shapes ----------------------------------------------------------------------------

    def sequence(self, items: list[tuple[Any, Any]]) -> Shape:
        shapes = [self.item(op, av) for op, av in items]
        # Unbounded quantifiers that may have matched up to here, with only optional items since.
        open_tails: list[frozenset[str]] = []
        for shape in shapes:
            for head in shape.unbounded_first:
                for tail in open_tails:
                    if head & tail:
                        self.problems.append(f"adjacent unbounded quantifiers share {_show(head & tail)}")
            open_tails = shape.unbounded_last + (open_tails if shape.nullable else [])
        return _concat(shapes)

    def item(self, op: Any, av: Any) -> Shape:
        chars = self.charset(op, av)
        if chars is not None:
            return Shape(False, chars, chars)
        if op in _REPEATS:
            low, high, body_items = av
            body = self.sequence(list(body_items))
            nullable = low == 0 or body.nullable
            if high != UNBOUNDED:
                return Shape(nullable, body.first, body.last, body.unbounded_first, body.unbounded_last)
            if body.nullable:
                self.problems.append("unbounded quantifier over an optional body")
            for tail in body.unbounded_last:
                if tail & body.first:
                    self.problems.append(f"nested quantifier: one iteration can end and the next start on "
                                         f"{_show(tail & body.first)}")
            return Shape(nullable, body.first, body.last, [body.first, *body.unbounded_first],
                         [body.last, *body.unbounded_last])
        if op == C.SUBPATTERN:
            return self.sequence(list(av[-1]))
        if op == C.BRANCH:
            shapes = [self.sequence(list(alternative)) for alternative in av[1]]
            return Shape(
                any(s.nullable for s in shapes),
                frozenset().union(*(s.first for s in shapes)),
                frozenset().union(*(s.last for s in shapes)),
                [c for s in shapes for c in s.unbounded_first],
                [c for s in shapes for c in s.unbounded_last],
            )
        if op in (C.ASSERT, C.ASSERT_NOT):
            self.sequence(list(av[1]))  # checked for its own problems, but matches no text
            return Shape(True, frozenset(), frozenset())
        if op == C.AT:
            return Shape(True, frozenset(), frozenset())
        raise AssertionError(f"the lint does not know regex item {op}; teach it before using it")


def _concat(shapes: list[Shape]) -> Shape:
    def leading(attr_first: str, attr_unbounded: str, ordered: list[Shape]) -> tuple[frozenset[str], list]:
        chars: set[str] = set()
        unbounded: list[frozenset[str]] = []
        for shape in ordered:
            chars |= getattr(shape, attr_first)
            unbounded += getattr(shape, attr_unbounded)
            if not shape.nullable:
                break
        return frozenset(chars), unbounded

    first, unbounded_first = leading("first", "unbounded_first", shapes)
    last, unbounded_last = leading("last", "unbounded_last", list(reversed(shapes)))
    return Shape(all(s.nullable for s in shapes), first, last, unbounded_first, unbounded_last)


def _show(chars: frozenset[str]) -> str:
    sample = "".join(sorted(chars)[:8])
    return repr(sample) + ("…" if len(chars) > 8 else "")


def problems(pattern: re.Pattern[str]) -> list[str]:
    return Linter(pattern).run()


# --- the patterns -----------------------------------------------------------------------------


def _patterns_in(value: Any, where: str) -> Iterator[tuple[str, re.Pattern[str]]]:
    if isinstance(value, re.Pattern):
        yield where, value
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _patterns_in(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _patterns_in(item, f"{where}[{key!r}]")


def language_patterns() -> dict[str, re.Pattern[str]]:
    found: dict[str, re.Pattern[str]] = {}
    for module_info in pkgutil.iter_modules(bot.language.__path__, "bot.language."):
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            for where, pattern in _patterns_in(value, f"{module_info.name}.{name}"):
                found.setdefault(where, pattern)
    # patterns built on demand: the loan-reference pattern, from the format setting (the default
    # and a few others: every template gives the same shape)
    from bot.accounts.reference_format import parse_reference_format
    from bot.language.references import _pattern

    for template in ("HCF-#{4,8}", "LN/######", "ACC#{6,16}", "ab.#{4,5}"):
        found[f"bot.language.references._pattern({template})"] = _pattern(parse_reference_format(template))
    return found


PATTERNS = language_patterns()


def test_the_walk_finds_the_patterns_of_every_parser() -> None:
    modules = {where.split(".")[2] for where in PATTERNS}
    assert {"amounts", "dates", "causes", "references", "detect", "safety"} <= modules
    assert len(PATTERNS) >= 40


@pytest.mark.parametrize("where", sorted(PATTERNS))
def test_pattern_has_no_super_linear_shape(where: str) -> None:
    assert problems(PATTERNS[where]) == []


@pytest.mark.parametrize(
    "dangerous",
    [
        r"\s*(?:to)?\s*x",
        r"\d+\s*(?:-|to)?\s*(?:\d+)?\s*months",
        r"(a+)+b",
        r"(\s*x?)*y",
        r"(?:\d+,?)+$",
        r"a*(?:b|a+)c",
        r"\s+\b\s*x",
        r"x\s+(?=y)\s*y",
    ],
)
def test_lint_catches_the_dangerous_shapes(dangerous: str) -> None:
    assert problems(re.compile(dangerous)) != []


@pytest.mark.parametrize(
    "safe",
    [r"\d+(?:\.\d+)?\s*%", r"(?:,\d{3})+", r" ?(?:to)? ?x", r"\s*x\s*y", r"[a-z]+ [0-9]+", r"(?:ab)+c"],
)
def test_lint_lets_linear_shapes_through(safe: str) -> None:
    assert problems(re.compile(safe)) == []
