"""`python -m bot.risk.report` (make risk-report, part of make eval): the risk model's evaluation.

Prints, on the synthetic holdout, logistic regression, gradient boosting and the days-past-due baseline side
by side (AUC, KS, Brier, calibration by decile) with the targets; the population stability index; the German
credit cross-validated AUC; and the fairness table (score mean and deciles by each protected attribute).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from bot.risk import german_credit
from bot.risk import model as risk_model
from bot.risk.features import FEATURES, facts_from_portfolio, feature_matrix
from bot.risk.scoring import TRAINING_LOANS, TRAINING_SEED
from bot.risk.synthetic import generate

LIFT_TARGET = 0.05
GERMAN_PUBLISHED_AUC, GERMAN_TOLERANCE = 0.78, 0.03


def _deciles(scores: np.ndarray) -> str:
    return " ".join(f"{q:.3f}" for q in np.quantile(scores, np.linspace(0.1, 0.9, 9)))


def fairness_table(title: str, scores: np.ndarray, groups: dict[str, np.ndarray]) -> list[str]:
    lines = [f"{title}", f"  {'attribute':<15}{'group':<9}{'n':>6} {'mean':>7}  deciles 10..90%"]
    for attribute, values in groups.items():
        for group in sorted(set(values)):
            part = scores[values == group]
            lines.append(f"  {attribute:<15}{group:<9}{len(part):>6} {part.mean():>7.3f}  {_deciles(part)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.risk.report")
    parser.add_argument("--loans", type=int, default=TRAINING_LOANS, help="synthetic training loans")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    train, holdout = generate(args.loans, seed=TRAINING_SEED), generate(args.loans // 2, seed=TRAINING_SEED + 1)
    x_train, x_test = (feature_matrix(facts_from_portfolio(p)) for p in (train, holdout))
    dpd = FEATURES.index("dpd_now")
    logistic = risk_model.train_logistic(x_train, train.label)
    with threadpool_limits(1):  # OpenMP threads fight over a shared 2-core machine: one is faster
        challenger = risk_model.train_challenger(x_train, train.label)
        baseline = risk_model.BucketBaseline().fit(x_train[:, dpd], train.label)
        scores = {"logistic regression": logistic.predict_proba(x_test)[:, 1],
                  "gradient boosting": challenger.predict_proba(x_test)[:, 1],
                  "baseline (DPD bucket)": baseline.predict_proba(x_test[:, dpd])}
    results = {name: risk_model.evaluate(holdout.label, p) for name, p in scores.items()}
    print(f"Risk model: P(roll into or deeper into 30+ DPD within 30 days)  model {risk_model.version_of(x_train, train.label)}")
    print(f"synthetic portfolio: train {len(train)} loans (seed {TRAINING_SEED}), holdout {len(holdout)} "
          f"(seed {TRAINING_SEED + 1}); base rate train {train.label.mean():.3f}, holdout {holdout.label.mean():.3f}")
    print(f"  {'model':<24}{'AUC':>7}{'KS':>7}{'Brier':>8}")
    for name, m in results.items():
        print(f"  {name:<24}{m.auc:>7.3f}{m.ks:>7.3f}{m.brier:>8.4f}")
    lift = results["logistic regression"].auc - results["baseline (DPD bucket)"].auc
    print(f"  LR AUC - baseline AUC = {lift:+.3f} (target >= +{LIFT_TARGET}: {'met' if lift >= LIFT_TARGET else 'NOT met'})")
    print("  calibration by score decile (mean predicted / observed rate):")
    for name, m in results.items():
        print(f"    {name:<24}" + " ".join(f"{p:.3f}/{o:.3f}" for p, o, _ in m.calibration))
    train_scores = logistic.predict_proba(x_train)[:, 1]
    stability = risk_model.psi(train_scores, scores["logistic regression"])
    print(f"population stability index, training vs holdout scores: {stability:.4f}"
          + (f"  {risk_model.psi_warning(stability)}" if risk_model.psi_warning(stability) else " (stable)"))

    data = german_credit.load()
    with threadpool_limits(1):
        german = german_credit.cross_validated_scores(data)
    print(f"German credit (UCI Statlog, {len(data.bad)} applicants, bad rate {data.bad.mean():.2f}), 10-fold CV, "
          f"protected attributes {', '.join(german_credit.PROTECTED)} left out:")
    for name, p in german.items():
        auc = roc_auc_score(data.bad, p)
        verdict = "within" if abs(auc - GERMAN_PUBLISHED_AUC) <= GERMAN_TOLERANCE else "NOT within"
        print(f"  {name:<24} AUC {auc:.3f} ({verdict} {GERMAN_TOLERANCE} of the published ~{GERMAN_PUBLISHED_AUC})")

    print("Fairness: score distributions by protected attribute (never model features)")
    for line in fairness_table("synthetic holdout, logistic regression", scores["logistic regression"],
                               {"age band": holdout.age_band, "sex": holdout.sex}):
        print(f"  {line}")
    for line in fairness_table("German credit, logistic regression (out-of-fold)", german["logistic regression"],
                               german_credit.fairness_groups(data)):
        print(f"  {line}")
    print(f"({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
