"""Reason codes, population stability, bands and the stored model."""
from __future__ import annotations

import json

import numpy as np
import pytest

from bot.risk import model as risk_model
from bot.risk.features import FEATURES, facts_from_portfolio, feature_matrix
from bot.risk.synthetic import generate


@pytest.fixture(scope="module")
def trained():
    portfolio = generate(10000, seed=21)
    x = feature_matrix(facts_from_portfolio(portfolio))
    return risk_model.train_logistic(x, portfolio.label), x


def test_reason_codes_name_the_features_that_drive_an_extreme_case(trained):
    model, x = trained
    typical = x.mean(axis=0)
    extreme = typical.copy()
    extreme[FEATURES.index("promises_broken_6m")] = 6
    extreme[FEATURES.index("plan_broken")] = 1
    extreme[FEATURES.index("contacts_not_delivered_3m")] = 6
    [reasons] = risk_model.reason_codes(model, extreme[None, :])
    assert {reason["feature"] for reason in reasons} == {"promises_broken_6m", "plan_broken",
                                                         "contacts_not_delivered_3m"}
    contributions = [reason["contribution"] for reason in reasons]
    assert contributions == sorted(contributions, reverse=True) and contributions[-1] > 0
    broken = next(reason for reason in reasons if reason["feature"] == "promises_broken_6m")
    assert broken["en"] == "promises to pay broken in the last 6 months - higher than usual"
    assert broken["zh"] == "近6个月未兑现的还款承诺：高于一般"
    plan = next(reason for reason in reasons if reason["feature"] == "plan_broken")
    assert (plan["en"], plan["zh"]) == ("a repayment plan was broken - yes", "曾违反还款计划：是")
    assert broken["value"] == 6


def test_the_stored_reason_text_is_the_same_as_the_reason_codes(trained):
    model, x = trained
    assert [json.loads(text) for text in risk_model.reason_codes_json(model, x[:500])] == risk_model.reason_codes(
        model, x[:500])


def test_a_loan_at_the_training_means_has_no_reasons(trained):
    model, x = trained
    assert risk_model.reason_codes(model, x.mean(axis=0)[None, :]) == [[]]


def test_psi_of_identical_populations_is_about_zero_and_of_a_shifted_one_above_025_with_a_warning():
    rng = np.random.default_rng(0)
    training = rng.beta(1, 12, 20000)
    assert risk_model.psi(training, training) == pytest.approx(0.0, abs=1e-9)
    assert risk_model.psi(training, rng.beta(1, 12, 20000)) < 0.01
    assert risk_model.psi_warning(0.01) is None
    shifted = risk_model.psi(training, rng.beta(2, 6, 20000))
    assert shifted > 0.25
    assert "WARNING" in risk_model.psi_warning(shifted) and "0.25" in risk_model.psi_warning(shifted)


def test_bands_split_at_ten_and_thirty_percent():
    assert [risk_model.band(p) for p in (0.0, 0.099, 0.1, 0.299, 0.3, 1.0)] == [
        "low", "low", "medium", "medium", "high", "high"]


def test_the_metrics_of_a_perfect_and_a_useless_score():
    y = np.array([0, 0, 1, 1] * 50)
    perfect = risk_model.evaluate(y, y.astype(float))
    assert perfect.auc == 1.0 and perfect.ks == 1.0 and perfect.brier == 0.0
    useless = risk_model.evaluate(y, np.full(len(y), 0.5))
    assert useless.auc == 0.5 and useless.brier == 0.25
    assert len(useless.calibration) == 10 and sum(n for _, _, n in useless.calibration) == len(y)


def test_the_stored_model_round_trips_and_its_version_follows_the_training_data(tmp_path, trained):
    model, x = trained
    y = (x[:, FEATURES.index("dpd_30_59")] > 0).astype(int)
    stored = risk_model.StoredModel(version=risk_model.version_of(x, y), model=model, features=FEATURES,
                                    trained_on="test", training_scores=model.predict_proba(x)[:, 1])
    assert risk_model.load(tmp_path) is None
    path = risk_model.save(stored, tmp_path)
    assert path.name == f"{stored.version}.joblib"
    loaded = risk_model.load(tmp_path)
    assert loaded.version == stored.version
    assert np.allclose(loaded.predict(x[:5]), stored.predict(x[:5]))
    assert risk_model.version_of(x, 1 - y) != stored.version
