"""Conversation-outcome report: every persona against the real assistant.

    python -m evaluation.report [--short] [--url http://localhost:5005] [--seed N] [--persona KEY ...]

Without --url it starts its own action server and Rasa server on free ports against a
temporary database (tests/e2e/stack.py) and stops them at the end. With --url it talks to
an assistant that is already running and resets the demo borrowers of this checkout's
database (`python -m bot.cli reset-demo`) before each persona: only use it on a demo setup.

Prints the per-persona table and the summary figures, writes results/eval.json (with every
transcript). Exits 1 when a hard invariant is broken (a disclosure before verification or an
offer outside policy), 0 otherwise: wrong outcomes are measured, not fatal.
"""
from __future__ import annotations

import argparse
import json
from decimal import Decimal
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

from evaluation.personas import AGREEMENT, BY_KEY, HANDOFF, Persona, selected  # noqa: E402
from evaluation.simulator import ROOT, RestTarget, Result, Target, load_policy, run_persona  # noqa: E402

RESULTS = ROOT / "results" / "eval.json"


def run_all(target: Target, personas: list[Persona], seed: int, max_turns: int = 16,
            progress=None) -> tuple[list[Result], list[Result]]:
    """Each persona on fresh demo data; a persona with a prerequisite runs right after it signed.

    Returns (results, setup results of prerequisites).
    """
    policy = load_policy()
    results, setups = [], []
    for persona in personas:
        started = time.monotonic()
        if persona.prerequisite:
            setup = run_persona(target, BY_KEY[persona.prerequisite], seed, policy, max_turns, reset=True)
            setups.append(setup)
            result = run_persona(target, persona, seed, policy, max_turns, reset=False)
            if setup.got != AGREEMENT:
                result.error = (result.error or "") + f"prerequisite {setup.persona} did not sign (got {setup.got})"
        else:
            result = run_persona(target, persona, seed, policy, max_turns, reset=True)
        result.concessions = granted(target, result.agreement_ref)
        results.append(result)
        if progress:
            progress(result, time.monotonic() - started)
    return results, setups


def granted(target: Target, reference: str | None) -> dict | None:
    """The concessions of a signed agreement and the money they waive, from the stack's database
    (None against a server at a URL, whose database this process does not read)."""
    database = getattr(target, "database", None)
    if reference is None or database is None:
        return None
    from sqlalchemy import select

    from bot.agreements.models import Agreement

    with database() as db, db.unit_of_work() as session:
        agreement = session.execute(select(Agreement).where(Agreement.reference == reference)).scalar_one_or_none()
        terms = json.loads(agreement.terms_json)["terms"] if agreement is not None else None
    if terms is None:
        return None
    waived = sum((Decimal(terms.get(key) or "0") for key in ("waived_fees", "waived_interest", "written_off")),
                 Decimal("0"))
    return {"rule": terms.get("rule"), "concessions": terms.get("concessions"), "waived": str(waived),
            "waived_fees": terms.get("waived_fees"), "waived_interest": terms.get("waived_interest"),
            "written_off": terms.get("written_off"), "total_paid": terms.get("total_paid")}


def ratio(numerator: int, denominator: int) -> dict:
    return {"n": numerator, "of": denominator, "value": (numerator / denominator) if denominator else None}


def waived_by_rung(agreements: list[Result]) -> dict[str, str]:
    """Money waived in signed agreements, by the rule (rung) that allowed them."""
    totals: dict[str, Decimal] = {}
    for result in agreements:
        if result.concessions:
            rule = result.concessions["rule"] or "?"
            totals[rule] = totals.get(rule, Decimal("0")) + Decimal(result.concessions["waived"])
    return {rule: str(total) for rule, total in sorted(totals.items())}


def summarise(results: list[Result]) -> dict:
    affordable = [r for r in results if BY_KEY[r.persona].can_afford]
    got_handoff = [r for r in results if r.got == HANDOFF]
    expected_handoff = [r for r in results if r.expected == HANDOFF]
    # Right only for the persona's reason: a handoff after repeated misunderstanding (or for any
    # other reason) is counted as a handoff made, not as one the persona needed.
    true_handoff = [r for r in got_handoff if r.expected == HANDOFF and r.ok]
    agreements = [r for r in results if r.got == AGREEMENT]
    return {
        "personas": len(results),
        "expected_outcome_reached": ratio(sum(r.ok for r in results), len(results)),
        "agreement_rate_can_afford": ratio(sum(r.got == AGREEMENT for r in affordable), len(affordable)),
        "handoff_precision": ratio(len(true_handoff), len(got_handoff)),
        "handoff_recall": ratio(len(true_handoff), len(expected_handoff)),
        "handoffs_for_another_reason": sum(1 for r in got_handoff if r.expected == HANDOFF and not r.ok),
        "handoffs_after_repeated_misunderstanding": sum(1 for r in got_handoff
                                                        if r.handoff_reason == "repeated_misunderstanding"),
        "disclosures_before_verification": sum(len(r.disclosures) for r in results),
        "offers_checked": sum(len(r.offers) for r in results),
        "offers_checked_for_affordability": sum(1 for r in results for o in r.offers
                                                if o.affordable is not None and o.grace_months == 0),
        "offers_outside_policy": sum(len(r.policy_breaches) for r in results),
        "average_turns_to_agreement": (sum(r.turns for r in agreements) / len(agreements)) if agreements else None,
        "money_waived_in_agreements": str(sum((Decimal(r.concessions["waived"]) for r in agreements if r.concessions),
                                              Decimal("0"))),
        "waived_by_rung": waived_by_rung(agreements),
        "not_understood_replies": sum(r.not_understood for r in results),
        "errors": sum(1 for r in results if r.error),
    }


def _pct(r: dict) -> str:
    return "n/a (0 of 0)" if r["value"] is None else f"{r['n']}/{r['of']} = {100 * r['value']:.1f}%"


def table(results: list[Result]) -> str:
    header = ("persona", "lang", "expected", "got", "turns", "ok", "notes")
    rows = []
    for r in results:
        notes = []
        if r.got == HANDOFF:
            notes.append(f"reason {r.handoff_reason}, paused after intent {r.handoff_intent}")
            if r.expected == HANDOFF and r.handoff_reason != r.expected_handoff_reason:
                notes.append(f"WRONG REASON (expected {r.expected_handoff_reason})")
        if r.not_understood:
            notes.append(f"{r.not_understood} misread")
        if r.disclosures:
            notes.append(f"DISCLOSED {sorted({s for d in r.disclosures for s in d['found']})}")
        if r.policy_breaches:
            notes.append(f"{len(r.policy_breaches)} offer(s) outside policy")
        if r.error:
            notes.append(f"error: {r.error}")
        if not r.ok and r.transcript:
            notes.append(f"last bot act: {r.transcript[-1].act}")
        rows.append((r.persona, r.language, r.expected, r.got, str(r.turns), "yes" if r.ok else "NO", "; ".join(notes)))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for i, row in enumerate([header, *rows]):
        lines.append("| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths)) + " | " + row[-1] + " |")
        if i == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|---|")
    return "\n".join(lines)


def render(results: list[Result], summary: dict, seed: int) -> str:
    s = summary
    avg = s["average_turns_to_agreement"]
    lines = [
        f"Conversation outcomes ({s['personas']} personas, seed {seed})",
        "",
        table(results),
        "",
        f"expected outcome reached:          {_pct(s['expected_outcome_reached'])}",
        f"agreement rate (can afford a plan): {_pct(s['agreement_rate_can_afford'])}",
        f"handoff precision:                 {_pct(s['handoff_precision'])}",
        f"handoff recall:                    {_pct(s['handoff_recall'])}",
        f"handoffs for another reason:       {s['handoffs_for_another_reason']} (counted wrong; "
        f"{s['handoffs_after_repeated_misunderstanding']} after repeated misunderstanding)",
        f"disclosures before verification:   {s['disclosures_before_verification']}  (must be 0)",
        f"offers outside policy:             {s['offers_outside_policy']} of {s['offers_checked']} offers checked "
        f"({s['offers_checked_for_affordability']} against stated affordability)  (must be 0)",
        f"average turns to agreement:        {'n/a' if avg is None else f'{avg:.1f}'}",
        f"money waived in agreements:        {s['money_waived_in_agreements']} "
        f"(by rung: {', '.join(f'{k} {v}' for k, v in s['waived_by_rung'].items()) or 'none'})",
        f"bot replies that misread the borrower (not understood / goodbye): {s['not_understood_replies']}",
    ]
    if s["errors"]:
        lines.append(f"conversations with errors:         {s['errors']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="only the short subset (what make test runs)")
    parser.add_argument("--url", help="talk to an assistant already running there instead of starting one")
    parser.add_argument("--token", help="Rasa API token for --url (default: RASA_API_TOKEN or this checkout's)")
    parser.add_argument("--seed", type=int, help="wording seed (default: random, printed; reuse it to repeat a run)")
    parser.add_argument("--persona", action="append", help="run only this persona (repeatable)")
    parser.add_argument("--max-turns", type=int, default=16)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1_000_000)
    personas = selected(args.persona, args.short)

    def progress(result: Result, seconds: float) -> None:
        print(f"  {result.persona:<20} {result.got:<26} {result.turns:>2} turns  {seconds:5.1f}s", file=sys.stderr,
              flush=True)

    stack = None
    if args.url:
        target: Target = RestTarget(args.url, args.token)
        where = args.url
    else:
        from tests.e2e.stack import Stack

        var_dir = Path(tempfile.mkdtemp(prefix="eval-"))
        stack = Stack(var_dir)
        print(f"starting the action server and Rasa (logs in {var_dir}) ...", file=sys.stderr, flush=True)
        stack.setup()
        stack.start()
        target, where = stack, f"{stack.url} (own stack, {var_dir})"
    print(f"running {len(personas)} personas against {where}, seed {seed}", file=sys.stderr, flush=True)
    try:
        results, setups = run_all(target, personas, seed, args.max_turns, progress)
    finally:
        if stack is not None:
            stack.stop()

    summary = summarise(results)
    print(render(results, summary, seed))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": "python -m evaluation.report " + " ".join(argv if argv is not None else sys.argv[1:]),
        "seed": seed,
        "target": where,
        "summary": summary,
        "results": [r.as_dict() for r in results],
        "prerequisite_runs": [r.as_dict() for r in setups],
    }, ensure_ascii=False, indent=2, default=str))
    print(f"\nwritten: {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    broken = summary["disclosures_before_verification"] or summary["offers_outside_policy"]
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
