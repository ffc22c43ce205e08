"""The simulator's state follows Chatwoot's rules: ids, timestamps, waiting_since, reopening, deletes."""

from __future__ import annotations

import itertools

import pytest

from chatwoot_simulator import InvalidValueError, ManualClock, NotFoundError, Simulator

from .support import START, World


def test_display_ids_are_numbered_per_account(sim: Simulator, world: World) -> None:
    other = sim.create_account("Outro Escritório")
    other_inbox = sim.create_inbox(other.id, "Site")
    other_contact = sim.create_contact(other.id, "José")

    first = sim.create_conversation(world.account.id, world.site.id, world.contact.id)
    second = sim.create_conversation(world.account.id, world.site.id, world.contact.id)
    elsewhere = sim.create_conversation(other.id, other_inbox.id, other_contact.id)

    assert (first.display_id, second.display_id, elsewhere.display_id) == (1, 2, 1)
    assert len({first.pk, second.pk, elsewhere.pk}) == 3
    assert sim.get_conversation(other.id, 1).pk == elsewhere.pk


def test_message_ids_increase_across_conversations_and_accounts(sim: Simulator, world: World) -> None:
    one = sim.create_conversation(world.account.id, world.site.id, world.contact.id)
    two = sim.create_conversation(world.account.id, world.whatsapp.id, world.contact.id)

    ids = [
        sim.add_message(world.account.id, one.display_id, "a").id,
        sim.add_message(world.account.id, two.display_id, "b").id,
        sim.add_message(world.account.id, one.display_id, "c").id,
    ]

    assert ids == sorted(ids)
    assert len(set(ids)) == 3


def test_updated_at_strictly_increases_even_when_the_clock_stands_still(world: World) -> None:
    frozen = ManualClock(start=START, tick=0.0)
    sim = Simulator(seed=1, clock=frozen)
    account = sim.create_account("A")
    inbox = sim.create_inbox(account.id, "Site")
    contact = sim.create_contact(account.id, "C")
    conversation = sim.create_conversation(account.id, inbox.id, contact.id)

    stamps = [conversation.updated_at]
    stamps.append(sim.set_priority(account.id, 1, "high").updated_at)
    sim.add_message(account.id, 1, "oi")
    stamps.append(sim.get_conversation(account.id, 1).updated_at)
    stamps.append(sim.set_labels(account.id, 1, ["x"]).updated_at)

    assert all(later > earlier for earlier, later in itertools.pairwise(stamps))
    assert stamps[-1] - stamps[0] < 0.001


def test_a_message_bumps_last_activity_and_updated_at(sim: Simulator, world: World, clock: ManualClock) -> None:
    conversation = sim.create_conversation(world.account.id, world.site.id, world.contact.id)
    clock.advance(60)

    message = sim.add_message(world.account.id, conversation.display_id, "Alguma novidade?")

    after = sim.get_conversation(world.account.id, conversation.display_id)
    assert after.last_activity_at == message.created_at
    assert after.updated_at >= message.created_at > conversation.updated_at


def test_waiting_since_starts_at_creation_and_a_public_agent_reply_clears_it(sim: Simulator, world: World) -> None:
    conversation = sim.create_conversation(world.account.id, world.site.id, world.contact.id, message="Olá")
    assert conversation.waiting_since == conversation.created_at

    sim.add_message(world.account.id, 1, "nota", message_type="outgoing", private=True, sender_id=world.ana.id)
    assert sim.get_conversation(world.account.id, 1).waiting_since == conversation.created_at

    reply = sim.add_message(world.account.id, 1, "Bom dia!", message_type="outgoing", sender_id=world.ana.id)
    replied = sim.get_conversation(world.account.id, 1)
    assert replied.waiting_since is None
    assert replied.first_reply_created_at == reply.created_at

    incoming = sim.add_message(world.account.id, 1, "Obrigada")
    assert sim.get_conversation(world.account.id, 1).waiting_since == incoming.created_at


def test_an_incoming_message_reopens_a_resolved_or_snoozed_conversation(sim: Simulator, world: World) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id)
    sim.create_conversation(world.account.id, world.site.id, world.contact.id)
    sim.set_status(world.account.id, 1, "resolved")
    sim.set_status(world.account.id, 2, "snoozed", snoozed_until=START + 3600)

    sim.add_message(world.account.id, 1, "Voltei")
    sim.add_message(world.account.id, 2, "Voltei")

    for display_id in (1, 2):
        conversation = sim.get_conversation(world.account.id, display_id)
        assert conversation.status == "open"
        assert conversation.snoozed_until is None


def test_outgoing_messages_default_to_the_assignee_as_sender(sim: Simulator, world: World) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id, assignee_id=world.bruno.id)

    outgoing = sim.add_message(world.account.id, 1, "Olá", message_type="outgoing")
    incoming = sim.add_message(world.account.id, 1, "Oi")

    assert (outgoing.sender_type, outgoing.sender_id) == ("User", world.bruno.id)
    assert (incoming.sender_type, incoming.sender_id) == ("Contact", world.contact.id)


def test_changes_add_activity_messages_unless_disabled(world: World) -> None:
    for enabled, expected in ((True, ["activity"]), (False, [])):
        sim = Simulator(seed=1, clock=ManualClock(tick=0.001), activity_messages=enabled)
        account = sim.create_account("A")
        inbox = sim.create_inbox(account.id, "Site")
        contact = sim.create_contact(account.id, "C")
        sim.create_conversation(account.id, inbox.id, contact.id)

        sim.set_status(account.id, 1, "resolved")

        assert [m.message_type for m in sim.get_messages(account.id, 1)] == expected


def test_assigning_an_unknown_agent_unassigns(sim: Simulator, world: World) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id, assignee_id=world.ana.id)

    conversation = sim.assign(world.account.id, 1, 9999)

    assert conversation.assignee_id is None


def test_a_team_change_unassigns_an_agent_outside_the_team(sim: Simulator, world: World) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id, assignee_id=world.bruno.id)
    sim.create_conversation(world.account.id, world.site.id, world.contact.id, assignee_id=world.ana.id)

    outsider = sim.assign_team(world.account.id, 1, world.team.id)
    member = sim.assign_team(world.account.id, 2, world.team.id)

    assert (outsider.team_id, outsider.assignee_id) == (world.team.id, None)
    assert (member.team_id, member.assignee_id) == (world.team.id, world.ana.id)


def test_leaving_snoozed_clears_snoozed_until(sim: Simulator, world: World) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id)
    snoozed = sim.set_status(world.account.id, 1, "snoozed", snoozed_until=START + 7200)
    assert snoozed.snoozed_until == START + 7200

    assert sim.set_status(world.account.id, 1, "pending").snoozed_until is None


def test_deleted_conversations_disappear_with_their_messages(sim: Simulator, world: World) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id, message="Olá")
    sim.create_conversation(world.account.id, world.site.id, world.contact.id)

    sim.delete_conversation(world.account.id, 1)

    with pytest.raises(NotFoundError):
        sim.get_conversation(world.account.id, 1)
    assert sim.snapshot()["messages"] == []
    assert [c.display_id for c in sim.list_conversations(world.account.id)] == [2]
    third = sim.create_conversation(world.account.id, world.site.id, world.contact.id)
    assert third.display_id == 3


def test_invalid_values_are_rejected(sim: Simulator, world: World) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id)

    with pytest.raises(InvalidValueError):
        sim.set_status(world.account.id, 1, "closed")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError):
        sim.set_priority(world.account.id, 1, "critical")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError):
        sim.set_agent_availability(world.account.id, world.ana.id, "away")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        sim.add_message(world.account.id, 42, "?")


def test_availability_changes_are_stored_per_agent(sim: Simulator, world: World) -> None:
    sim.set_agent_availability(world.account.id, world.ana.id, "offline")

    assert sim.get_agent(world.account.id, world.ana.id).availability == "offline"
    assert sim.get_agent(world.account.id, world.bruno.id).availability == "busy"


def test_getters_return_copies(sim: Simulator, world: World) -> None:
    conversation = sim.create_conversation(world.account.id, world.site.id, world.contact.id, labels=["a"])

    conversation.labels.append("tampered")

    assert sim.get_conversation(world.account.id, 1).labels == ["a"]


def test_same_seed_and_clock_give_the_same_state(world: World) -> None:
    def build() -> dict[str, object]:
        sim = Simulator(seed=3, clock=ManualClock(tick=0.01))
        account = sim.create_account("A")
        inbox = sim.create_inbox(account.id, "Site")
        contact = sim.create_contact(account.id, "C")
        sim.create_conversation(account.id, inbox.id, contact.id, message="oi")
        sim.set_status(account.id, 1, "resolved")
        return sim.snapshot()

    assert build() == build()
