"""What a forget or a purge did, category by category, in words an operator can file."""
from __future__ import annotations

from dataclasses import dataclass, field

ERASED = "erased"
KEPT = "kept"


@dataclass(frozen=True)
class Line:
    """One category of data: what was done to how many rows, and why when it was kept."""

    category: str
    action: str        # erased | kept
    count: int
    detail: str = ""   # e.g. "214 events", or why a record is kept

    def text(self, verb: str | None = None) -> str:
        width = 62
        label = f"  {verb or self.action:<7}{self.category} "
        dots = "." * max(width - len(label), 1)
        if self.action == KEPT:
            return f"{label}{dots} {self.count}" + (f"\n           why: {self.detail}" if self.detail else "")
        return f"{label}{dots} {self.count}" + (f"  ({self.detail})" if self.detail else "")


@dataclass
class Report:
    """The lines of one run, erased first, then kept."""

    title: str
    lines: list[Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False

    def erased(self, category: str, count: int, detail: str = "") -> None:
        self.lines.append(Line(category, ERASED, count, detail))

    def kept(self, category: str, count: int, why: str) -> None:
        self.lines.append(Line(category, KEPT, count, why))

    def count(self, category: str) -> int:
        return sum(line.count for line in self.lines if line.category == category)

    @property
    def erased_anything(self) -> bool:
        return any(line.action == ERASED and line.count for line in self.lines)

    def text_lines(self) -> list[str]:
        out = [self.title]
        verb = "would erase " if self.dry_run else None  # a dry run changes nothing
        out += [line.text(verb) for line in self.lines if line.action == ERASED and line.count]
        if not self.erased_anything:
            out.append("  nothing left to erase" + (" (dry run)" if self.dry_run else ""))
        out += [line.text() for line in self.lines if line.action == KEPT]
        out += [f"  note: {note}" for note in self.notes]
        if self.dry_run and self.erased_anything:
            out.append("  dry run: nothing was changed")
        return out
