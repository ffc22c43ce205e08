"""The sync's event, resume state and report."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from chatwoot_integration.sync.models import IntegrationSyncReport, SyncProgress, SyncReport, SyncRequest


def test_the_scheduler_events_and_an_integration_of_one_are_accepted() -> None:
    assert SyncRequest.model_validate({"mode": "incremental"}) == SyncRequest()
    assert SyncRequest.model_validate({"mode": "full", "integration_id": 3}).integration_id == 3


@pytest.mark.parametrize(
    "event",
    [{"mode": "nightly"}, {"mode": "full", "integration_id": 0}, {"mode": "full", "extra": True}],
)
def test_an_event_the_sync_does_not_understand_is_refused(event: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SyncRequest.model_validate(event)


def test_the_resume_state_survives_its_json_round_trip_through_the_integration_row() -> None:
    progress = SyncProgress(
        mode="full",
        started_at=datetime(2026, 6, 17, 3, 0, tzinfo=UTC),
        db_started_at=datetime(2026, 6, 17, 3, 0, 1, 250000, tzinfo=UTC),
        next_page=41,
        page_size=25,
        phase="deletions",
        runs=3,
    )

    assert SyncProgress.model_validate_json(progress.model_dump_json()) == progress


def test_a_run_is_ok_unless_an_integration_failed() -> None:
    def item(status: str) -> IntegrationSyncReport:
        return IntegrationSyncReport.model_validate(
            {"integration_id": 1, "account_id": 1, "mode": "full", "status": status}
        )

    assert SyncReport(mode="full", integrations=[item("ok"), item("cut"), item("skipped")]).ok
    assert not SyncReport(mode="full", integrations=[item("ok"), item("auth_error")]).ok
    assert not SyncReport(mode="full", integrations=[item("error")]).ok
