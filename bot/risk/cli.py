"""`python -m bot.cli score [--retrain] [--as-of YYYY-MM-DD]`: score every active loan and store the scores."""
from __future__ import annotations

import argparse
import time
from datetime import date, datetime, timezone

from bot.config import Settings
from bot.risk import model as risk_model
from bot.risk.scoring import current_or_trained, score_book, train_on_synthetic
from bot.storage import Database


def score_main(argv: list[str], settings: Settings) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cli score")
    parser.add_argument("--retrain", action="store_true", help="train a new model on the synthetic portfolio first")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="business day (default: today)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.retrain:
        stored, trained = train_on_synthetic(), True
        risk_model.save(stored, settings.var_dir)
    else:
        stored, trained = current_or_trained(settings.var_dir)
    if trained:
        print(f"no stored model was used: trained {stored.version} on the {stored.trained_on} "
              f"({time.perf_counter() - started:.1f} s), saved under {risk_model.model_dir(settings.var_dir)}")
    else:
        print(f"model {stored.version} ({stored.trained_on})")
    database = Database(settings.database_url)
    try:
        run = score_book(database, stored, args.as_of or date.today(),
                         datetime.now(timezone.utc).replace(tzinfo=None))
    finally:
        database.dispose()
    print(f"scored {run.loans} active loans with {run.version}: "
          + ", ".join(f"{name} {count}" for name, count in run.bands.items()))
    print(f"time: features {run.seconds_features:.2f} s, scoring {run.seconds_scoring:.2f} s, "
          f"storing {run.seconds_storing:.2f} s, total {time.perf_counter() - started:.2f} s")
    print(f"population stability index (training vs scored): {run.psi:.3f}"
          + (" (fewer than 100 loans: not meaningful)" if run.loans < 100 else ""))
    warning = risk_model.psi_warning(run.psi)
    if warning:
        print(warning)
    return 0
