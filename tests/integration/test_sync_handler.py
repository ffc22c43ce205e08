"""The sync function as Lambda runs it: the scheduler's event in, the run's report out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from chatwoot_integration.db import Database
from chatwoot_simulator import serve
from localdev.invoke import FunctionInvoker
from localdev.template_routes import read_template
from tests.unit.sync.support import build_office, connect, converged_with, new_simulator

REPO_ROOT = Path(__file__).resolve().parents[2]
EVENT = REPO_ROOT / "events" / "sync.json"


@pytest.fixture
def invoker(db: Database) -> Iterator[FunctionInvoker]:
    invoker = FunctionInvoker(read_template(REPO_ROOT / "template.yaml").functions)
    yield invoker
    invoker.close()


def test_the_scheduled_event_syncs_every_active_integration_and_returns_the_report(
    db: Database, invoker: FunctionInvoker
) -> None:
    with new_simulator() as sim, serve(simulator=sim) as server:
        office = build_office(sim, conversations=30)
        integration_id = connect(db, server.url, office)

        report = invoker.invoke("SyncFunction", json.loads(EVENT.read_text()))

        assert report["mode"] == "incremental"
        [item] = report["integrations"]
        assert (item["integration_id"], item["status"], item["mode"], item["conversations_seen"]) == (
            integration_id,
            "ok",
            "full",
            30,
        )
        assert converged_with(db, sim, office.account_id) == []


def test_the_sample_event_is_the_schedulers_incremental_event() -> None:
    assert EVENT.read_text().strip() == '{"mode": "incremental"}'


def test_an_expired_invocation_stops_before_calling_chatwoot(db: Database, invoker: FunctionInvoker) -> None:
    with new_simulator() as sim, serve(simulator=sim) as server:
        office = build_office(sim, conversations=5)
        connect(db, server.url, office)
        context = invoker.new_context("SyncFunction")
        context.expire()  # what the local runner does on Ctrl-C

        report = invoker.invoke("SyncFunction", {"mode": "full"}, context)

        assert report["integrations"][0]["status"] == "cut"
        assert sim.requests.total() == 0


def test_an_event_the_sync_does_not_understand_fails_the_invocation(invoker: FunctionInvoker) -> None:
    with pytest.raises(ValidationError):
        invoker.invoke("SyncFunction", {"mode": "weekly"})
