"""Assignment driven by webhooks: a new open conversation is assigned as soon as its delivery is applied, and
a resolved one frees room for a waiting one (the backstop)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import webhook.app as webhook_app

from chatwoot_integration.db import Database
from chatwoot_simulator import Simulator, WebhookDelivery, serve
from tests.assignment_support import Office, open_office
from tests.polling import wait_for
from tests.unit.ingest.support import LambdaContextStub, http_event


@pytest.fixture(autouse=True)
def local_settings(handler_environment: None, db: Database) -> None:
    """No ingest queue and secrets in the database, as in ``make run``."""


def to_webhook_function(integration_id: int) -> Callable[[WebhookDelivery], int]:
    def deliver(delivery: WebhookDelivery) -> int:
        response = webhook_app.lambda_handler(
            http_event(delivery.body, delivery.headers, integration_id=integration_id), LambdaContextStub()
        )
        return int(response["statusCode"])

    return deliver


@pytest.fixture
def office(db: Database) -> Iterator[Office]:
    # Deliveries from a background sender, as Chatwoot's jobs do: the assignment they trigger calls Chatwoot back.
    sim = Simulator(seed=21, activity_messages=False, delivery="async")
    with serve(simulator=sim) as server:
        office = open_office(db, sim, server.url, agents=2, default_capacity=1)
        sim.set_webhook(office.account_id, handler=to_webhook_function(office.integration_id), secret="s")
        yield office
    sim.close()


def test_a_new_open_conversation_is_assigned_when_its_webhook_arrives(office: Office) -> None:
    contact = office.sim.create_contact(office.account_id, "Joana")
    conversation = office.sim.create_conversation(office.account_id, office.inbox_id, contact.id, message="Oi")
    cid = conversation.display_id
    assert wait_for(lambda: office.assignee(cid) == office.agents[0])
    assert office.sim.get_conversation(office.account_id, cid).assignee_id == office.agents[0]
    # The conversation_updated echo of our own assignment changed nothing more.
    assert wait_for(lambda: office.loads() == {office.agents[0]: 1, office.agents[1]: 0})


def test_resolving_frees_room_for_the_longest_waiting(office: Office) -> None:
    contact = office.sim.create_contact(office.account_id, "Joana")
    ids = [
        office.sim.create_conversation(office.account_id, office.inbox_id, contact.id, message=f"Oi {n}").display_id
        for n in range(3)
    ]
    assert wait_for(lambda: [office.assignee(cid) for cid in ids] == [office.agents[0], office.agents[1], None])
    office.sim.set_status(office.account_id, ids[0], "resolved")
    assert wait_for(lambda: office.assignee(ids[2]) == office.agents[0])
    assert office.sim.get_conversation(office.account_id, ids[2]).assignee_id == office.agents[0]


def test_pending_conversations_are_left_to_the_bot(office: Office) -> None:
    contact = office.sim.create_contact(office.account_id, "Joana")
    cid = office.sim.create_conversation(
        office.account_id, office.inbox_id, contact.id, message="Oi", status="pending"
    ).display_id
    office.sim.webhooks.flush()
    assert office.assignee(cid) is None
    office.sim.set_status(office.account_id, cid, "open")  # the bot hands over: now it is assigned
    assert wait_for(lambda: office.assignee(cid) == office.agents[0])
