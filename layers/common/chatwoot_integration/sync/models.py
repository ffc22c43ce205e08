"""The sync's input (the scheduler's event), its tunables, its resume state and its report."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SyncMode = Literal["incremental", "full"]
IntegrationOutcome = Literal["ok", "cut", "error", "auth_error", "skipped"]
PassPhase = Literal["pages", "deletions"]


class SyncRequest(BaseModel):
    """The sync function's event: ``{"mode": ...}`` from EventBridge Scheduler, optionally one integration."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    mode: SyncMode = "incremental"
    integration_id: int | None = Field(default=None, gt=0)


class SyncSettings(BaseModel):
    """How the sync paces itself. The defaults suit the Lambda; tests shrink them."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    # Added to the incremental window so that clock skew between Chatwoot and us, and changes committed while the
    # previous window was being read, are not missed.
    overlap_seconds: float = Field(default=120.0, ge=0)
    # Conversations per upsert statement when an unpaged (updated_within) answer is written.
    chunk_size: int = Field(default=500, ge=1, le=5000)
    # No new unit of work (a page, a chunk, a message fetch) starts with less time than this before the deadline.
    reserve_seconds: float = Field(default=3.0, ge=0)
    # A lease outlives the run's deadline by this much, so a run that is still finishing is never overtaken.
    lease_margin_seconds: float = Field(default=60.0, gt=0)
    # Lease length when the run has no deadline (a local run started by hand).
    lease_seconds_without_deadline: float = Field(default=900.0, gt=0)
    # An incremental window older than this becomes a full pass: pages can resume, one unpaged answer cannot.
    max_incremental_age_seconds: float = Field(default=86_400.0, gt=0)
    # Pages of a full pass requested ahead while the current one is written (0: one at a time), so Chatwoot is kept
    # busy while a page is parsed and written; each adds one request in flight, well within its rate limits.
    read_ahead_pages: int = Field(default=3, ge=0, le=8)
    # Conversations whose messages are read at once by the catch-up (a first sync reads every conversation's).
    message_readers: int = Field(default=4, ge=1, le=16)
    # Chatwoot answers ``after=`` with up to 100 messages; a shorter page is the last one.
    messages_page_size: int = Field(default=100, ge=1)
    # Bound on message pages read for one conversation in one run (100 pages is 10,000 messages).
    max_message_pages: int = Field(default=100, ge=1)
    # Deleted-in-Chatwoot candidates checked per query while finishing a full pass.
    deletion_batch: int = Field(default=100, ge=1)


class SyncProgress(BaseModel):
    """Where an unfinished pass stands, kept in ``integracoes_chatwoot.sync_progress`` so the next run resumes.

    ``started_at`` is read from the sync's clock when the pass begins and becomes the cursor when it completes.
    ``db_started_at`` is the database's clock at the start of a full pass: rows the pass confirmed have
    ``synced_at`` at or after it, rows a webhook wrote meanwhile have ``updated_at`` at or after it, and only rows
    with neither are candidates for deletion.
    """

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore")

    mode: SyncMode
    started_at: datetime
    db_started_at: datetime | None = None
    window_start: datetime | None = None
    next_page: int = Field(default=1, ge=1)
    page_size: int | None = Field(default=None, ge=1)
    phase: PassPhase = "pages"
    runs: int = Field(default=1, ge=1)


class IntegrationSyncReport(BaseModel):
    """What one run did for one integration. Counts only, never content or credentials."""

    model_config = ConfigDict(defer_build=True)

    integration_id: int
    account_id: int
    mode: SyncMode
    status: IntegrationOutcome = "ok"
    reason: str | None = None
    resumed: bool = False
    cut: bool = False
    pass_completed: bool = False
    agents_changed: int = 0
    availability_changes: int = 0
    conversations_seen: int = 0
    conversations_written: int = Field(default=0, description="new to the mirror, or a newer version than it held")
    conversations_created: int = 0
    conversations_deleted: int = 0
    conversations_restored: int = 0
    conversations_failed: int = 0
    contacts_written: int = 0
    messages_inserted: int = 0
    pages: int = 0
    requests: int = Field(default=0, description="Chatwoot calls made (retries of one call count once)")
    upsert_round_trips: int = Field(default=0, description="conversation upsert statements sent to the database")
    conversations_assigned: int = 0
    assignment_error: str | None = None
    duration_seconds: float = 0.0


class SyncReport(BaseModel):
    """One run over the integrations it was asked for."""

    model_config = ConfigDict(defer_build=True)

    mode: SyncMode
    integrations: list[IntegrationSyncReport] = Field(default_factory=list)
    events_published: int = 0
    publish_error: str | None = None

    @property
    def ok(self) -> bool:
        return all(item.status in ("ok", "cut", "skipped") for item in self.integrations)
