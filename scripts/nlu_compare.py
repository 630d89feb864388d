"""Compares intent classifiers by measurement: one NLU training per candidate pipeline
(timed, Rasa's training cache off), then every test set parsed by the trained model.

Candidates (all keep the tokenizer, the language detector, FallbackClassifier 0.45 / 0.05
and the self-harm safety net of config.yml):
  diet      config.yml as it is (DIETClassifier)
  linear    nlu_components.linear_intent.LinearIntentClassifier instead of DIET
            (and instead of the featurizers, which only DIET used)
  linear_lr the same with logistic regression (C=30) instead of the calibrated LinearSVC
  ensemble  DIET, then the linear component averaging DIET's full ranking with its own

Reported per test set: intent accuracy and macro F1 (nlu_fallback counts as wrong),
expected calibration error (10 equal-width bins, of the classifier's own top intent and
confidence before the fallback), and the fallback rate; out-of-scope recall on CLINC150
oos_val (out_of_scope or nlu_fallback); parse latency p50/p95 over all sets; training
time; accuracy per cross-author writer and language; a sweep of FallbackClassifier
thresholds simulated on the recorded rankings.

Only aggregate numbers are printed or written (results/nlu_compare.json): no test
sentence and no per-sentence error, since the training data is being edited elsewhere.

    .venv/bin/python -m scripts.nlu_compare [--candidates diet,linear,ensemble]
        [--cross-author DIR] [--out results/nlu_compare.json]
"""
from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# Honest training times: no component is taken from Rasa's training cache.
os.environ["RASA_MAX_CACHE_SIZE"] = "0"

ROOT = Path(__file__).resolve().parent.parent
CROSS_AUTHOR = Path("/work/main/tests/nlu/cross_author")
WRITERS = ("a_formal", "b_terse", "c_emotional", "d_voice", "e_everyday")
FALLBACK = "nlu_fallback"
SELF_HARM = "self_harm"
LINEAR = "nlu_components.linear_intent.LinearIntentClassifier"
FEATURIZERS = ("RegexFeaturizer", "LexicalSyntacticFeaturizer", "CountVectorsFeaturizer")


# ------------------------------------------------------------------ candidates
# DIET as config.yml had it until issue 10 (featurizers only DIET used, then DIET).
DIET_BLOCK = [
    {"name": "RegexFeaturizer"},
    {"name": "LexicalSyntacticFeaturizer"},
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
    {"name": "DIETClassifier", "epochs": 200, "number_of_transformer_layers": 0, "random_seed": 42,
     "entity_recognition": False, "constrain_similarities": True},
]
CLASSIFIER_PARTS = {*FEATURIZERS, "DIETClassifier", LINEAR}


def candidate_configs(base: dict, linear_options: dict) -> dict[str, dict]:
    """Each candidate is config.yml's frame (tokenizer, language detector, fallback, safety
    net) with one classifier block where config.yml has its classifier."""
    pipeline = base["pipeline"]
    at = next(i for i, c in enumerate(pipeline) if c["name"] in CLASSIFIER_PARTS)
    frame = [c for c in pipeline if c["name"] not in CLASSIFIER_PARTS]

    def with_block(block: list[dict]) -> dict:
        config = copy.deepcopy(base)
        config["pipeline"] = copy.deepcopy(frame[:at] + block + frame[at:])
        return config

    diet = DIET_BLOCK[-1]
    return {
        "diet": with_block(DIET_BLOCK),
        "linear": with_block([{"name": LINEAR, **linear_options}]),
        # The same with multinomial logistic regression (its own probabilities, no CV calibration).
        "linear_lr": with_block([{"name": LINEAR, **linear_options, "model": "logistic_regression", "C": 30.0}]),
        "ensemble": with_block(DIET_BLOCK[:-1] + [
            {**diet, "ranking_length": 0},  # every intent, so the average sees DIET's whole distribution
            {"name": LINEAR, **linear_options, "combine_with_previous": True, "previous_weight": 0.5},
        ]),
    }


def fallback_settings(config: dict) -> tuple[float, float]:
    component = next(c for c in config["pipeline"] if c["name"] == "FallbackClassifier")
    return float(component["threshold"]), float(component["ambiguity_threshold"])


# ------------------------------------------------------------------ test sets
def load_examples(path: Path) -> list[tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    return [(m.get("text"), m.get("intent")) for m in load_data(str(path)).intent_examples]


def test_sets(cross_author: Path) -> dict[str, Path]:
    sets = {"heldout2_en": ROOT / "tests/nlu/heldout2_en.yml", "heldout2_zh": ROOT / "tests/nlu/heldout2_zh.yml",
            "oos_clinc150_val": ROOT / "tests/nlu/oos_clinc150_val.yml"}
    for writer in WRITERS:
        for lang in ("en", "zh"):
            path = cross_author / f"{writer}_{lang}.yml"
            if path.exists():
                sets[f"{writer}_{lang}"] = path
    return sets


def is_cross_author(set_name: str) -> bool:
    return set_name.rsplit("_", 1)[0] in WRITERS


def normalise(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def training_texts() -> set[str]:
    from rasa.shared.nlu.training_data.loading import load_data

    return {normalise(m.get("text")) for p in sorted((ROOT / "data/nlu").rglob("*.yml"))
            for m in load_data(str(p)).intent_examples}


def training_overlap(sets: dict[str, list], train: set[str]) -> dict[str, int]:
    """How many sentences of each test set equal a training example after normalisation."""
    return {name: sum(normalise(text) in train for text, _ in examples) for name, examples in sets.items()}


# ------------------------------------------------------------------ metrics
def macro_f1(gold: list[str], pred: list[str]) -> float:
    scores = []
    for label in set(gold):
        tp = sum(g == label and p == label for g, p in zip(gold, pred))
        fp = sum(g != label and p == label for g, p in zip(gold, pred))
        fn = sum(g == label and p != label for g, p in zip(gold, pred))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def ece(confidences: list[float], correct: list[bool], bins: int = 10) -> float:
    total, n = 0.0, len(confidences)
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        idx = [i for i, c in enumerate(confidences) if (low < c <= high) or (b == 0 and c == 0.0)]
        if idx:
            acc = sum(correct[i] for i in idx) / len(idx)
            conf = sum(confidences[i] for i in idx) / len(idx)
            total += len(idx) / n * abs(acc - conf)
    return total


def with_fallback(record: dict, threshold: float, ambiguity: float) -> str:
    """FallbackClassifier's decision on the classifier's ranking, then the safety net's override."""
    if record["safety_net"]:
        return SELF_HARM
    ranking = record["ranking"]
    if not ranking:
        return FALLBACK
    top = ranking[0][1]
    second = ranking[1][1] if len(ranking) > 1 else 0.0
    if top < threshold or top - second < ambiguity:
        return FALLBACK
    return ranking[0][0]


def summarise(records: list[dict], threshold: float, ambiguity: float) -> dict:
    gold = [r["gold"] for r in records]
    final = [r["final"] for r in records]
    top = [r["ranking"][0][0] if r["ranking"] else FALLBACK for r in records]
    conf = [r["ranking"][0][1] if r["ranking"] else 0.0 for r in records]
    return {
        "n": len(records),
        "accuracy": sum(g == p for g, p in zip(gold, final)) / len(records),
        "macro_f1": macro_f1(gold, final),
        "fallback_rate": sum(p == FALLBACK for p in final) / len(records),
        "accuracy_without_fallback": sum(g == p for g, p in zip(gold, top)) / len(records),
        "ece": ece([c for c, r in zip(conf, records) if not r["safety_net"]],
                   [g == p for g, p, r in zip(gold, top, records) if not r["safety_net"]]),
        "mean_confidence": sum(conf) / len(conf),
        # Sentences that equal a training example (after normalisation) left out.
        "accuracy_unseen": (sum(r["final"] == r["gold"] for r in records if not r["in_training"])
                            / max(1, sum(not r["in_training"] for r in records))),
        "simulated_accuracy_matches": sum(with_fallback(r, threshold, ambiguity) == r["final"]
                                          for r in records) / len(records),
    }


# ------------------------------------------------------------------ one candidate
def quiet_rasa() -> None:
    import logging

    import structlog

    logging.getLogger().setLevel(logging.WARNING)
    logging.disable(logging.INFO)  # Rasa logs each parsed text at debug/info level
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


async def evaluate(name: str, config: dict, sets: dict[str, list], workdir: Path, train: set[str],
                   reuse: bool = False) -> dict:
    import yaml
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    config_path = workdir / f"config_{name}.yml"
    timing = workdir / f"{name}.training.json"
    if reuse:  # evaluate the model a previous run trained with this config (test sets changed)
        if yaml.safe_load(config_path.read_text()) != config:
            raise SystemExit(f"{config_path} differs from the {name} candidate: train again")
        model = str(workdir / f"{name}.tar.gz")
        training_seconds = json.loads(timing.read_text())["training_seconds"]
    else:
        config_path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
        started = time.perf_counter()
        model = train_nlu(str(config_path), str(ROOT / "data/nlu"), str(workdir), fixed_model_name=name)
        training_seconds = time.perf_counter() - started
        timing.write_text(json.dumps({"training_seconds": training_seconds}))
    quiet_rasa()
    agent = Agent.load(model)
    threshold, ambiguity = fallback_settings(config)

    latencies: list[float] = []
    records: dict[str, list[dict]] = {}
    for set_name, examples in sets.items():
        out = []
        for text, gold in examples:
            t0 = time.perf_counter()
            parsed = await agent.parse_message(text)
            latencies.append((time.perf_counter() - t0) * 1000)
            ranking = [(r["name"], float(r["confidence"])) for r in parsed.get("intent_ranking") or []
                       if r["name"] != FALLBACK]
            final = parsed["intent"]["name"]
            # The safety net puts self_harm first at 1.0 after the fallback decided; the
            # classifier's own confidence in self_harm is then lost, so such messages are left
            # out of the calibration error.
            safety = final == SELF_HARM and ranking[:1] == [(SELF_HARM, 1.0)]
            ranking.sort(key=lambda r: -r[1])
            out.append({"gold": gold, "final": final, "ranking": ranking[:3], "safety_net": safety,
                        "in_training": normalise(text) in train})
        records[set_name] = out
    return {"training_seconds": training_seconds, "latencies_ms": latencies, "records": records,
            "threshold": threshold, "ambiguity": ambiguity, "model": model}


def report(name: str, run: dict) -> dict:
    threshold, ambiguity = run["threshold"], run["ambiguity"]
    records = run["records"]
    result: dict = {"training_seconds": round(run["training_seconds"], 1), "sets": {}}
    for set_name, recs in records.items():
        if set_name == "oos_clinc150_val":
            continue
        result["sets"][set_name] = summarise(recs, threshold, ambiguity)
    oos = records.get("oos_clinc150_val", [])
    if oos:
        result["oos_recall"] = sum(r["final"] in ("out_of_scope", FALLBACK) for r in oos) / len(oos)
    cross = [r for s, recs in records.items() if is_cross_author(s) for r in recs]
    heldout = [r for s, recs in records.items() if s.startswith("heldout2") for r in recs]
    if cross:
        result["cross_author"] = summarise(cross, threshold, ambiguity)
        for lang in ("en", "zh"):
            pooled = [r for s, recs in records.items() if is_cross_author(s)
                      and s.endswith(lang) for r in recs]
            if pooled:
                result[f"cross_author_{lang}"] = summarise(pooled, threshold, ambiguity)
        per_intent: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in cross:
            per_intent[r["gold"]][0] += r["final"] == r["gold"]
            per_intent[r["gold"]][1] += 1
        result["cross_author_recall_per_intent"] = {k: [v[0], v[1]] for k, v in sorted(per_intent.items())}
    if heldout:
        result["heldout2"] = summarise(heldout, threshold, ambiguity)
    latencies = sorted(run["latencies_ms"])
    result["parse_ms_p50"] = round(statistics.median(latencies), 2)
    result["parse_ms_p95"] = round(latencies[int(0.95 * (len(latencies) - 1))], 2)
    # What other FallbackClassifier thresholds would have done (same rankings, no retraining).
    sweep = {}
    for t in (0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7):
        entry = {}
        if cross:
            entry["cross_author_accuracy"] = sum(with_fallback(r, t, ambiguity) == r["gold"] for r in cross) / len(cross)
            # A confident wrong intent (not a fallback) is the costly error: it acts on a misreading.
            entry["cross_author_wrong_intent"] = sum(with_fallback(r, t, ambiguity) not in (r["gold"], FALLBACK)
                                                     for r in cross) / len(cross)
        if heldout:
            entry["heldout2_accuracy"] = sum(with_fallback(r, t, ambiguity) == r["gold"] for r in heldout) / len(heldout)
        if oos:
            entry["oos_recall"] = sum(with_fallback(r, t, ambiguity) in ("out_of_scope", FALLBACK) for r in oos) / len(oos)
        sweep[str(t)] = entry
    result["threshold_sweep"] = sweep
    return result


def print_table(results: dict) -> None:
    names = list(results["candidates"])
    sets = list(next(iter(results["candidates"].values()))["sets"])
    width = 11
    print("\n" + "metric".ljust(34) + "".join(n.rjust(width) for n in names))

    def row(label, getter, fmt="{:.3f}"):
        cells = []
        for n in names:
            try:
                cells.append(fmt.format(getter(results["candidates"][n])))
            except (KeyError, TypeError):
                cells.append("-")
        print(label.ljust(34) + "".join(c.rjust(width) for c in cells))

    for pooled in ("cross_author", "cross_author_en", "cross_author_zh", "heldout2"):
        row(f"{pooled} accuracy", lambda c, p=pooled: c[p]["accuracy"])
        row(f"{pooled} acc. unseen only", lambda c, p=pooled: c[p]["accuracy_unseen"])
        row(f"{pooled} macro F1", lambda c, p=pooled: c[p]["macro_f1"])
        row(f"{pooled} ECE", lambda c, p=pooled: c[p]["ece"])
        row(f"{pooled} fallback rate", lambda c, p=pooled: c[p]["fallback_rate"])
    for s in sets:
        row(f"{s} acc (n={results['candidates'][names[0]]['sets'][s]['n']})", lambda c, s=s: c["sets"][s]["accuracy"])
    row("oos_clinc150_val recall", lambda c: c["oos_recall"])
    row("parse p50 ms", lambda c: c["parse_ms_p50"], "{:.1f}")
    row("parse p95 ms", lambda c: c["parse_ms_p95"], "{:.1f}")
    row("training s", lambda c: c["training_seconds"], "{:.1f}")
    print("\nFallbackClassifier threshold sweep (ambiguity 0.05; simulated on the recorded rankings)")
    print("threshold".ljust(10) + "".join(f"{n}: cross (wrong) / heldout2 / oos".rjust(44) for n in names))
    for t in next(iter(results["candidates"].values()))["threshold_sweep"]:
        cells = []
        for n in names:
            e = results["candidates"][n]["threshold_sweep"][t]
            cells.append(f"{e.get('cross_author_accuracy', float('nan')):.3f} "
                         f"({e.get('cross_author_wrong_intent', float('nan')):.3f}) / "
                         f"{e.get('heldout2_accuracy', float('nan')):.3f} / {e.get('oos_recall', float('nan')):.3f}")
        print(t.ljust(10) + "".join(c.rjust(44) for c in cells))


def main() -> int:
    import yaml

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", default="diet,linear,linear_lr,ensemble")
    parser.add_argument("--base-config", default=str(ROOT / "config.yml"),
                        help="the frame every candidate shares (its classifier block is replaced)")
    parser.add_argument("--linear-options", default='{"model": "linear_svc", "C": 1.0}', help="JSON options for the linear component")
    parser.add_argument("--cross-author", default=str(CROSS_AUTHOR))
    parser.add_argument("--out", default=str(ROOT / "results/nlu_compare.json"))
    parser.add_argument("--models", help="keep the trained models (and their training times) in this folder")
    parser.add_argument("--reuse", action="store_true",
                        help="evaluate the models of --models again instead of training (same data and configs)")
    args = parser.parse_args()

    base = yaml.safe_load(Path(args.base_config).read_text())
    configs = candidate_configs(base, json.loads(args.linear_options))
    wanted = args.candidates.split(",")
    paths = test_sets(Path(args.cross_author))
    sets = {name: load_examples(path) for name, path in paths.items()}
    train = training_texts()
    results: dict = {
        "command": "python -m scripts.nlu_compare " + " ".join(sys.argv[1:]),
        "test_sets": {name: len(examples) for name, examples in sets.items()},
        "test_set_sentences_equal_to_training": training_overlap(sets, train),
        "configs": {n: configs[n]["pipeline"] for n in wanted},
        "candidates": {},
    }
    print("test sets:", ", ".join(f"{k} ({v})" for k, v in results["test_sets"].items()), flush=True)
    if args.reuse and not args.models:
        raise SystemExit("--reuse needs --models")
    with tempfile.TemporaryDirectory(prefix="nlu-compare-") as tmp:
        workdir = Path(args.models or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        results["models_reused"] = bool(args.reuse)
        for name in wanted:
            print(f"{'evaluating' if args.reuse else 'training'} {name} ...", flush=True)
            run = asyncio.run(evaluate(name, configs[name], sets, workdir, train, reuse=args.reuse))
            results["candidates"][name] = report(name, run)
            print(f"  {name}: trained in {run['training_seconds']:.1f} s", flush=True)
    out = Path(args.out)
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print_table(results)
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
