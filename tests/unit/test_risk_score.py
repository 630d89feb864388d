"""`python -m bot.cli score`: one stored score per active loan, with the model version."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from bot.accounts.models import Borrower, Loan, Payment, PaymentStatus, ScheduledInstalment
from bot.cli import run_command
from bot.risk.models import RiskScore


def add_loan(session, reference: str, paid_off: bool) -> None:
    loan = Loan(reference=reference, currency="CNY", principal=Decimal("300.00"), annual_rate=Decimal("0.1"),
                contractual_instalment=Decimal("100.00"), start_date=date(2026, 1, 1),
                borrower=Borrower(full_name=reference, date_of_birth=date(1990, 1, 1), preferred_language="zh"))
    session.add(loan)
    session.flush()
    for number in range(1, 4):
        session.add(ScheduledInstalment(loan_id=loan.id, number=number, due_date=date(2026, number, 5),
                                        amount=Decimal("100.00"), principal=Decimal("100.00"),
                                        interest=Decimal("0.00")))
    if paid_off:
        session.add(Payment(loan_id=loan.id, amount=Decimal("300.00"), paid_on=date(2026, 3, 5),
                            status=PaymentStatus.SUCCEEDED))


def test_score_stores_one_row_per_active_loan_with_the_model_version(database, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("APP_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DATABASE_URL", database.url)
    with database.unit_of_work() as session:
        for index in range(5):
            add_loan(session, f"HCF-600{index}", paid_off=index == 4)

    assert run_command(["score", "--as-of", "2026-04-01"]) == 0
    first = capsys.readouterr().out
    assert "no stored model was used: trained lr-" in first and "scored 4 active loans" in first
    with database.unit_of_work() as session:
        rows = session.execute(select(RiskScore)).scalars().all()
    assert sorted(row.loan_reference for row in rows) == ["HCF-6000", "HCF-6001", "HCF-6002", "HCF-6003"]
    version = rows[0].model_version
    assert version.startswith("lr-") and all(row.model_version == version for row in rows)
    assert all(0 <= row.probability <= 1 and row.band in ("low", "medium", "high") for row in rows)
    reasons = json.loads(rows[0].reasons)
    assert reasons and {"feature", "en", "zh", "contribution"} <= set(reasons[0])

    assert run_command(["score", "--as-of", "2026-04-01"]) == 0
    second = capsys.readouterr().out
    assert f"model {version}" in second and "trained" not in second.splitlines()[0]
    with database.unit_of_work() as session:
        assert len(session.execute(select(RiskScore.id)).all()) == 8
