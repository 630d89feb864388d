"""The synthetic portfolio: seeded, and its known signal is recoverable by the model."""
from __future__ import annotations

import numpy as np

from bot.risk import model as risk_model
from bot.risk.features import FEATURES, PROTECTED_ATTRIBUTES, facts_from_portfolio, feature_matrix
from bot.risk.synthetic import generate


def test_the_same_seed_gives_the_same_portfolio_and_another_seed_another():
    first, again, other = generate(2000, seed=5), generate(2000, seed=5), generate(2000, seed=6)
    for name in ("bucket", "dpd", "paid", "returned", "promises_broken", "label", "hardship_cause", "age_band"):
        assert np.array_equal(getattr(first, name), getattr(again, name)), name
    assert not np.array_equal(first.paid, other.paid)
    assert np.array_equal(feature_matrix(facts_from_portfolio(first)), feature_matrix(facts_from_portfolio(again)))


def test_the_label_is_a_roll_into_or_deeper_into_30_plus_days_past_due():
    portfolio = generate(5000, seed=3)
    now = portfolio.bucket[:, -1]
    assert np.array_equal(portfolio.label, (portfolio.next_bucket >= 2) & (portfolio.next_bucket > now))
    assert 0.02 < portfolio.label.mean() < 0.15


def test_logistic_regression_beats_days_past_due_alone_by_at_least_005_auc_on_a_seeded_holdout():
    train, holdout = generate(20000, seed=11), generate(10000, seed=12)
    x_train, x_test = feature_matrix(facts_from_portfolio(train)), feature_matrix(facts_from_portfolio(holdout))
    dpd = FEATURES.index("dpd_now")
    logistic = risk_model.train_logistic(x_train, train.label)
    baseline = risk_model.BucketBaseline().fit(x_train[:, dpd], train.label)
    lr_auc = risk_model.evaluate(holdout.label, logistic.predict_proba(x_test)[:, 1]).auc
    baseline_auc = risk_model.evaluate(holdout.label, baseline.predict_proba(x_test[:, dpd])).auc
    assert lr_auc >= baseline_auc + 0.05, (lr_auc, baseline_auc)


def test_protected_attributes_are_never_features():
    assert not set(FEATURES) & PROTECTED_ATTRIBUTES
    facts = facts_from_portfolio(generate(100, seed=1))
    assert not set(vars(facts)) & PROTECTED_ATTRIBUTES
    assert feature_matrix(facts).shape == (100, len(FEATURES))


def test_the_german_credit_features_leave_out_its_protected_attributes():
    from bot.risk import german_credit

    data = german_credit.load()
    assert len(data.bad) == 1000 and data.bad.sum() == 300
    assert not set(data.columns) & set(german_credit.PROTECTED)
    assert set(german_credit.PROTECTED) <= PROTECTED_ATTRIBUTES
