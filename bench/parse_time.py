"""Parse time of every public parser in bot/language against input length, on adversarial text.

    python -m bench.parse_time                      # the code in this tree
    python -m bench.parse_time --code /tmp/before   # another copy of bot/ (e.g. from `git archive`)

For each parser and input shape it prints the best time of a few calls at each length (up to
MAX_MESSAGE_CHARS, the cap every channel applies) and time(2000)/time(1000): about 2 is linear
growth, 4 quadratic, 8 cubic. A case slower than --budget-s is not run at greater lengths.
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from typing import Callable

TODAY = date(2026, 5, 12)

# Each shape builds a text of exactly n characters.
SHAPES: dict[str, Callable[[int], str]] = {
    "1, spaces, 2": lambda n: "1" + " " * (n - 2) + "2",
    "'1 ' repeated": lambda n: ("1 " * n)[:n],
    "digit run": lambda n: "1" * n,
    "Han numeral run": lambda n: "一" * n,
    "'一 ' repeated": lambda n: ("一 " * n)[:n],
    "mixed tokens": lambda n: ("1 一 个 to 2 元 a few 12 April 下周 " * n)[:n],
    "offer, spaces, words": lambda n: "I can pay 500" + " " * (n - 29) + "yuan a month",
}


def _parsers() -> dict[str, Callable[[str], object]]:
    from bot import language

    return {
        "parse_amount": language.parse_amount,
        "parse_amounts": language.parse_amounts,
        "parse_duration_months": language.parse_duration_months,
        "parse_date_of_birth": lambda text: language.parse_date_of_birth(text, TODAY),
        "parse_future_date": lambda text: language.parse_future_date(text, TODAY),
        "classify_cause": language.classify_cause,
        "is_temporary": language.is_temporary,
        "parse_loan_ref": language.parse_loan_ref,
        "detect_language": language.detect_language,
    }


class ParserFailed(Exception):
    """The parser raised instead of returning (reported in the table, not timed)."""


def best_time(parse: Callable[[str], object], text: str, budget_s: float, min_total_s: float = 0.2) -> float:
    """The fastest of 3-20 calls (the least disturbed by other work on the machine).

    One call only when it alone exceeds ``budget_s``.
    """
    best = float("inf")
    spent = 0.0
    for calls in range(1, 21):
        start = time.perf_counter()
        try:
            parse(text)
        except Exception as error:  # noqa: BLE001 - any failure is a finding to print
            raise ParserFailed(type(error).__name__) from error
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed), spent + elapsed
        if elapsed > budget_s or (calls >= 3 and spent >= min_total_s):
            break
    return best


def _cell(value: float | str | None) -> str:
    if value is None:
        return "skipped"
    return value if isinstance(value, str) else f"{value * 1000:.2f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--code", help="directory holding the bot/ package to measure (default: this tree)")
    parser.add_argument("--lengths", default="250,500,1000,2000")
    parser.add_argument("--budget-s", type=float, default=10.0)
    args = parser.parse_args(argv)
    if args.code:
        sys.path.insert(0, args.code)
    lengths = [int(n) for n in args.lengths.split(",")]
    parsers = _parsers()
    import bot

    print(f"bot package: {bot.__path__[0]}")
    parsers["parse_future_date"]("warm-up: dateparser loads its language data once")
    header = f"{'parser':22} {'shape':22} " + " ".join(f"{f'{n} ms':>10}" for n in lengths) + "  ratio"
    print(header)
    worst: dict[str, float] = {}
    for name, parse in parsers.items():
        for shape, build in SHAPES.items():
            times: list[float | str | None] = []
            for n in lengths:
                previous = times[-1] if times else 0.0
                if not isinstance(previous, float) or previous > args.budget_s:
                    times.append(None)  # slower than the budget, or failed, at a shorter length
                    continue
                try:
                    times.append(best_time(parse, build(n), args.budget_s))
                except ParserFailed as failure:
                    times.append(f"{failure}"[:10])
            last, before_last = times[-1], times[-2] if len(times) > 1 else None
            linear = isinstance(last, float) and isinstance(before_last, float)
            ratio = f"{last / before_last:5.1f}" if linear else "    -"  # type: ignore[operator]
            print(f"{name:22} {shape:22} " + " ".join(f"{_cell(t):>10}" for t in times) + f"  {ratio}", flush=True)
            worst[name] = max(worst.get(name, 0.0), last if isinstance(last, float) else float("inf"))
    print("\nworst case at the longest length per parser (inf: failed, or over the budget before it):")
    for name, seconds in worst.items():
        print(f"  {name:22} {seconds * 1000:10.2f} ms")


if __name__ == "__main__":
    main()
