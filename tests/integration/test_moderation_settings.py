"""Escalation thresholds and the unfounded-reporter policy are deployment settings."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.conftest import make_settings

from personae.bootstrap import build


def test_thresholds_come_from_settings(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path / "data", database_url).model_copy(
        update={
            "strike_suspension_weight": 2,
            "strike_escalation_weight": 4,
            "reporter_warn_after": 1,
            "reporter_deprioritise_after": 2,
            "reporter_deprioritise_days": 7,
        }
    )
    services = build(settings)
    try:
        thresholds = services.cases.thresholds
        assert thresholds.suggestion(1) is None
        assert "suspension" in (thresholds.suggestion(2) or "")
        assert "escalating" in (thresholds.suggestion(4) or "")
        policy = services.decisions.reporter_policy
        assert (policy.warn_after, policy.deprioritise_after) == (1, 2)
        assert policy.deprioritise_for == timedelta(days=7)
    finally:
        services.close()
