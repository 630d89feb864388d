"""A seeded synthetic loan portfolio whose risk signal is known, for developing and testing the risk model.

Each borrower gets fixed traits, then lives `HISTORY_MONTHS` month-ends as a Markov chain over the
days-past-due buckets (current, 1-29, 30-59, 60-89, 90+), then one more month whose outcome is the label.

The traits:
- `income_stability` in [0, 1] (Beta(4, 2)): a *hidden* driver, never a feature. What the model can see
  of it is only its behavioural trace (payments, returns, promises, plans, contacts), as in real books.
- a hardship cause (none for about half the borrowers, likelier for unstable incomes) and whether the
  borrower says it is temporary;
- protected attributes `age_band` and `sex`, kept only for the fairness report and NEVER fed to a model.
  They do not enter the chain; the youngest band has a slightly lower income stability (-0.05), so a
  fair model shows a small, explainable difference in score by age band and none by sex.

Each month, before the transition, behaviour is drawn from the traits: a returned payment
(3% + 25% x instability), and for a loan in arrears a contact attempt delivered with probability
0.35 + 0.55 x stability, a promise to pay made with probability 0.4 and kept with probability
0.25 + 0.6 x stability (less for a lasting income hardship), a repayment plan agreed with probability 0.15
(once) and broken each month with probability 0.05 + 0.25 x instability.

The transition (the known signal): with z = sum of `TRUE_WEIGHTS` x driver,
  P(worse) = sigmoid(WORSEN_BASE[bucket] + z): one bucket worse, except that a current loan whose
    instalment falls due early in the month (`early_due_day`, 70% of borrowers, hidden) is already
    30+ days past due at the next month-end when it misses that instalment;
  P(cured to current) = (1 - P(worse)) x sigmoid(CURE_BASE[bucket] - z)
  otherwise the loan stays in its bucket.
The month's payments follow the transition (a cure pays the arrears, a roll pays little, otherwise the
instalment is paid short by about 50% x instability).

Label: the loan rolls into, or deeper into, 30+ days past due by the next month-end
(next bucket >= 30-59 and worse than now).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BUCKETS = ("current", "1-29", "30-59", "60-89", "90+")
BUCKET_DAYS = ((0, 0), (1, 29), (30, 59), (60, 89), (90, 180))
HISTORY_MONTHS = 7            # month-ends observed up to and including "now"
BURN_IN_MONTHS = 6            # months simulated before the observed history starts
CAUSES = ("job_loss", "reduced_income", "business", "illness", "family", "bereavement", "forgot")
INCOME_CAUSES = frozenset({"job_loss", "reduced_income", "business"})
AGE_BANDS = ("18-29", "30-44", "45-59", "60+")
SEXES = ("female", "male")

# The true effect of each driver on the log-odds of rolling one bucket worse in a month.
TRUE_WEIGHTS = {
    "income_instability": 1.0,      # 1 - income_stability (hidden)
    "hardship_income": 1.0,         # job loss, reduced income, failing business
    "hardship_lasting": 0.6,        # a hardship the borrower does not call temporary
    "hardship_temporary": -0.3,
    "returned_this_month": 1.2,
    "promises_broken_3m": 0.5,      # per promise
    "promises_kept_3m": -0.4,       # per promise
    "plan_active": -0.8,
    "plan_broken": 0.7,
    "contacts_not_delivered_3m": 0.25,  # per attempt
}
WORSEN_BASE = (-4.2, -2.4, -1.8, -1.6, -9.0)   # 90+ cannot roll further
CURE_BASE = (-9.0, 0.6, 0.0, -0.4, 0.4)         # current has nothing to cure


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Portfolio:
    """One row per borrower; arrays indexed [borrower] or [borrower, month] (month H-1 is "now")."""

    seed: int
    references: list[str]
    bucket: np.ndarray            # (n, H) int, bucket at each observed month-end
    dpd: np.ndarray               # (n, H) int, days past due at each observed month-end
    due: np.ndarray               # (n, H) instalment due in each month
    paid: np.ndarray              # (n, H) paid (and not returned) in each month
    returned: np.ndarray          # (n, H) returned payments in each month
    promises_kept: np.ndarray     # (n, H)
    promises_broken: np.ndarray   # (n, H)
    contacts_delivered: np.ndarray      # (n, H)
    contacts_not_delivered: np.ndarray  # (n, H)
    plan_active: np.ndarray       # (n,) bool, at "now"
    plan_broken: np.ndarray       # (n,) bool, ever
    hardship_cause: np.ndarray    # (n,) str, "" when none recorded
    hardship_temporary: np.ndarray  # (n,) bool
    income_stability: np.ndarray  # (n,) hidden driver, not a feature
    age_band: np.ndarray          # (n,) protected: fairness report only
    sex: np.ndarray               # (n,) protected: fairness report only
    next_bucket: np.ndarray       # (n,) bucket one month after "now"
    label: np.ndarray             # (n,) 1 if the loan rolls into or deeper into 30+ DPD

    def __len__(self) -> int:
        return len(self.references)


def generate(n: int, seed: int = 7) -> Portfolio:
    """`n` borrowers, the same for the same seed (numpy's PCG64 generator)."""
    rng = np.random.default_rng(seed)
    age = rng.choice(len(AGE_BANDS), size=n, p=[0.25, 0.35, 0.25, 0.15])
    sex = rng.choice(len(SEXES), size=n)
    stability = np.clip(rng.beta(4, 2, size=n) - 0.05 * (age == 0), 0.0, 1.0)
    instability = 1.0 - stability
    has_hardship = rng.random(n) < 0.25 + 0.5 * instability
    cause_index = rng.choice(len(CAUSES), size=n)
    cause = np.where(has_hardship, np.array(CAUSES, dtype=object)[cause_index], "")
    income_cause = np.isin(cause, list(INCOME_CAUSES))
    temporary = has_hardship & (rng.random(n) < np.where(income_cause, 0.4, 0.6))
    lasting = has_hardship & ~temporary
    instalment = np.round(rng.uniform(500, 3000, size=n), 2)
    early_due_day = rng.random(n) < 0.7

    months = BURN_IN_MONTHS + HISTORY_MONTHS + 1
    bucket = np.zeros((n, months), dtype=int)
    bucket[:, 0] = rng.choice(5, size=n, p=[0.72, 0.14, 0.07, 0.04, 0.03])
    shape = (n, months)
    paid, returned = np.zeros(shape), np.zeros(shape, dtype=int)
    kept, broken = np.zeros(shape, dtype=int), np.zeros(shape, dtype=int)
    delivered, undelivered = np.zeros(shape, dtype=int), np.zeros(shape, dtype=int)
    plan_active = np.zeros(n, dtype=bool)
    plan_broken = np.zeros(n, dtype=bool)
    base_z = (TRUE_WEIGHTS["income_instability"] * instability + TRUE_WEIGHTS["hardship_income"] * income_cause
              + TRUE_WEIGHTS["hardship_lasting"] * lasting + TRUE_WEIGHTS["hardship_temporary"] * temporary)
    now_index = BURN_IN_MONTHS + HISTORY_MONTHS - 1
    plan_now = (plan_active.copy(), plan_broken.copy())
    for t in range(months - 1):
        # What happens during the month from month-end t to t + 1 is recorded at t + 1.
        if t == now_index:
            plan_now = (plan_active.copy(), plan_broken.copy())
        b, m = bucket[:, t], t + 1
        late = b >= 1
        returned[:, m] = rng.random(n) < 0.03 + 0.25 * instability
        attempts = late * rng.integers(1, 3, size=n)
        delivered[:, m] = rng.binomial(attempts, 0.35 + 0.55 * stability)
        undelivered[:, m] = attempts - delivered[:, m]
        promised = late & (rng.random(n) < 0.4)
        keeps = rng.random(n) < 0.25 + 0.6 * stability - 0.15 * (lasting & income_cause)
        kept[:, m] = promised & keeps
        broken[:, m] = promised & ~keeps
        plan_active |= late & ~plan_active & ~plan_broken & (rng.random(n) < 0.15)
        breaks = plan_active & (rng.random(n) < 0.05 + 0.25 * instability)
        plan_broken |= breaks
        plan_active &= ~breaks
        window = slice(max(0, m - 2), m + 1)
        z = (base_z + TRUE_WEIGHTS["returned_this_month"] * returned[:, m]
             + TRUE_WEIGHTS["promises_broken_3m"] * broken[:, window].sum(axis=1)
             + TRUE_WEIGHTS["promises_kept_3m"] * kept[:, window].sum(axis=1)
             + TRUE_WEIGHTS["plan_active"] * plan_active + TRUE_WEIGHTS["plan_broken"] * plan_broken
             + TRUE_WEIGHTS["contacts_not_delivered_3m"] * undelivered[:, window].sum(axis=1))
        p_worse = _sigmoid(np.array(WORSEN_BASE)[b] + z)
        p_cure = (1 - p_worse) * _sigmoid(np.array(CURE_BASE)[b] - z)
        draw = rng.random(n)
        worse, cure = draw < p_worse, (draw >= p_worse) & (draw < p_worse + p_cure)
        step = np.where((b == 0) & early_due_day, 2, 1)
        bucket[:, m] = np.where(worse, np.minimum(b + step, 4), np.where(cure, 0, b))
        # A roll pays little, a cure pays the arrears; otherwise the instalment is kept up, short by about
        # 50% x instability (tolerated short payments: the visible trace of an unstable income).
        kept_up = 1.0 - 0.5 * instability * rng.uniform(0.8, 1.2, n)
        ratio = np.where(worse, rng.uniform(0.0, 0.5, n), np.where(cure, 1.0 + b, kept_up))
        paid[:, m] = np.round(np.maximum(ratio - returned[:, m], 0.0) * instalment, 2)

    observed = slice(BURN_IN_MONTHS, BURN_IN_MONTHS + HISTORY_MONTHS)
    obs_bucket = bucket[:, observed]
    low = np.array([d[0] for d in BUCKET_DAYS])[obs_bucket]
    high = np.array([d[1] for d in BUCKET_DAYS])[obs_bucket]
    dpd = np.floor(low + rng.random(obs_bucket.shape) * (high - low + 1)).astype(int)
    now, after = bucket[:, now_index], bucket[:, -1]
    return Portfolio(
        seed=seed, references=[f"SYN-{seed}-{i:07d}" for i in range(n)],
        bucket=obs_bucket, dpd=dpd,
        due=np.repeat(instalment[:, None], HISTORY_MONTHS, axis=1), paid=paid[:, observed],
        returned=returned[:, observed], promises_kept=kept[:, observed], promises_broken=broken[:, observed],
        contacts_delivered=delivered[:, observed], contacts_not_delivered=undelivered[:, observed],
        plan_active=plan_now[0], plan_broken=plan_now[1],
        hardship_cause=cause, hardship_temporary=temporary, income_stability=stability,
        age_band=np.array(AGE_BANDS, dtype=object)[age], sex=np.array(SEXES, dtype=object)[sex],
        next_bucket=after, label=((after >= 2) & (after > now)).astype(int),
    )
