"""Conversations: opening them and every change agents make to them, with Chatwoot's activity messages.

A status change sends ``conversation_status_changed`` and ``conversation_updated``; assignee, team,
labels, priority and custom attribute changes send ``conversation_updated``. Marking seen and deleting
send nothing, as in Chatwoot.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chatwoot_simulator.core import check_choice, clone
from chatwoot_simulator.messages import MessagesMixin
from chatwoot_simulator.state import (
    CONVERSATION_STATUSES,
    PRIORITIES,
    Contact,
    ContactInbox,
    Conversation,
    ConversationStatus,
    Inbox,
    Priority,
)

JSON = dict[str, Any]


class ConversationsMixin(MessagesMixin):
    def create_conversation(
        self,
        account_id: int,
        inbox_id: int,
        contact_id: int,
        *,
        message: str | None = None,
        status: ConversationStatus = "open",
        priority: Priority | None = None,
        assignee_id: int | None = None,
        team_id: int | None = None,
        labels: Iterable[str] = (),
        custom_attributes: JSON | None = None,
        additional_attributes: JSON | None = None,
    ) -> Conversation:
        """Open a conversation (sends ``conversation_created``), optionally with the contact's first message."""
        check_choice(status, CONVERSATION_STATUSES, "status")
        if priority is not None:
            check_choice(priority, PRIORITIES, "priority")
        with self._lock:
            store = self._store
            inbox = store.inbox(account_id, inbox_id)
            contact = store.contact(account_id, contact_id)
            if assignee_id is not None:
                store.agent(account_id, assignee_id)
            if team_id is not None:
                store.team(account_id, team_id)
            now = self._now()
            self._display_ids[account_id] += 1
            conversation = Conversation(
                pk=self._next_id("conversation"),
                display_id=self._display_ids[account_id],
                account_id=account_id,
                uuid=self._uuid(),
                inbox_id=inbox.id,
                contact_id=contact.id,
                contact_inbox_id=self._contact_inbox(contact, inbox).id,
                status=status,
                created_at=now,
                last_activity_at=now,
                updated_at_us=round(now * 1_000_000),
                priority=priority,
                assignee_id=assignee_id,
                team_id=team_id,
                labels=_unique(labels),
                custom_attributes=dict(custom_attributes or {}),
                additional_attributes=dict(additional_attributes or {}),
                # ensure_waiting_since: a new conversation waits from the moment it exists.
                waiting_since=now,
            )
            store.conversations[conversation.pk] = conversation
            store.display_index[(account_id, conversation.display_id)] = conversation.pk
            self._emit(account_id, "conversation_created", "conversation", conversation.pk)
            if message is not None:
                self._add_message(conversation, "incoming", message, private=False, sender_id=None)
            result = clone(conversation)
        self.webhooks.after_change()
        return result

    def _contact_inbox(self, contact: Contact, inbox: Inbox) -> ContactInbox:
        for link in self._store.contact_inboxes.values():
            if link.contact_id == contact.id and link.inbox_id == inbox.id:
                return link
        if inbox.channel_type == "Channel::Whatsapp" and contact.phone_number:
            source_id = contact.phone_number.lstrip("+")
        elif inbox.channel_type == "Channel::Email" and contact.email:
            source_id = contact.email
        else:
            source_id = self._uuid()
        now = self._now()
        link = ContactInbox(
            id=self._next_id("contact_inbox"),
            contact_id=contact.id,
            inbox_id=inbox.id,
            source_id=source_id,
            pubsub_token=self._token(),
            created_at=now,
            updated_at=now,
        )
        self._store.contact_inboxes[link.id] = link
        return link

    def set_status(
        self,
        account_id: int,
        display_id: int,
        status: ConversationStatus,
        *,
        snoozed_until: float | None = None,
    ) -> Conversation:
        """Change the status; ``snoozed_until`` (unix seconds) only counts when snoozing."""
        check_choice(status, CONVERSATION_STATUSES, "status")
        with self._lock:
            conversation = self._store.conversation(account_id, display_id)
            changes: JSON = {"status": status}
            if status == "snoozed":
                changes["snoozed_until"] = snoozed_until
            if self._update_conversation(conversation, changes):
                self._activity(conversation, _status_activity(status))
            result = clone(conversation)
        self.webhooks.after_change()
        return result

    def set_priority(self, account_id: int, display_id: int, priority: Priority | None) -> Conversation:
        if priority is not None:
            check_choice(priority, PRIORITIES, "priority")
        with self._lock:
            conversation = self._store.conversation(account_id, display_id)
            if self._update_conversation(conversation, {"priority": priority}):
                self._activity(conversation, f"Priority set to {priority}" if priority else "Priority removed")
            result = clone(conversation)
        self.webhooks.after_change()
        return result

    def assign(self, account_id: int, display_id: int, agent_id: int | None) -> Conversation:
        """Assign to an agent of the account, or unassign with ``None``.

        Like Chatwoot, an id that is not an agent of the account unassigns, and inbox membership is not
        checked.
        """
        with self._lock:
            store = self._store
            conversation = store.conversation(account_id, display_id)
            agent = store.agents.get(agent_id) if agent_id is not None else None
            if agent is not None and agent.account_id != account_id:
                agent = None
            if self._update_conversation(conversation, {"assignee_id": agent.id if agent else None}):
                self._activity(conversation, f"Assigned to {agent.name}" if agent else "Conversation unassigned")
            result = clone(conversation)
        self.webhooks.after_change()
        return result

    def assign_team(self, account_id: int, display_id: int, team_id: int | None) -> Conversation:
        """Set the team (``None`` or an unknown id clears it). An assignee outside the team is unassigned."""
        with self._lock:
            store = self._store
            conversation = store.conversation(account_id, display_id)
            team = store.teams.get(team_id) if team_id is not None else None
            if team is not None and team.account_id != account_id:
                team = None
            changes: JSON = {"team_id": team.id if team else None}
            if team is not None and conversation.assignee_id not in (None, *team.member_ids):
                changes["assignee_id"] = None
            if self._update_conversation(conversation, changes):
                self._activity(conversation, f"Assigned to {team.name} team" if team else "Unassigned from team")
            result = clone(conversation)
        self.webhooks.after_change()
        return result

    def set_labels(self, account_id: int, display_id: int, labels: Iterable[str]) -> Conversation:
        """Replace the labels."""
        with self._lock:
            conversation = self._store.conversation(account_id, display_id)
            before = list(conversation.labels)
            after = _unique(labels)
            if self._update_conversation(conversation, {"label_list": after}):
                added = [label for label in after if label not in before]
                removed = [label for label in before if label not in after]
                if added:
                    self._activity(conversation, f"Added {', '.join(added)}")
                if removed:
                    self._activity(conversation, f"Removed {', '.join(removed)}")
            result = clone(conversation)
        self.webhooks.after_change()
        return result

    def set_custom_attributes(self, account_id: int, display_id: int, attributes: JSON) -> Conversation:
        with self._lock:
            conversation = self._store.conversation(account_id, display_id)
            self._update_conversation(conversation, {"custom_attributes": dict(attributes)})
            result = clone(conversation)
        self.webhooks.after_change()
        return result

    def mark_seen(self, account_id: int, display_id: int) -> Conversation:
        """An agent opened the conversation: unread count goes to zero (an update_columns write, no event)."""
        with self._lock:
            conversation = self._store.conversation(account_id, display_id)
            conversation.agent_last_seen_at = self._now()
            if conversation.assignee_id is not None:
                conversation.assignee_last_seen_at = conversation.agent_last_seen_at
            return clone(conversation)

    def delete_conversation(self, account_id: int, display_id: int) -> None:
        """Delete a conversation and its messages. Chatwoot sends no webhook for this; queued deliveries about
        it are discarded when their turn comes, as Chatwoot's jobs are."""
        with self._lock:
            conversation = self._store.conversation(account_id, display_id)
            for message_id in conversation.message_ids:
                del self._store.messages[message_id]
            del self._store.conversations[conversation.pk]
            del self._store.display_index[(account_id, display_id)]


def _unique(labels: Iterable[str]) -> list[str]:
    result: list[str] = []
    for raw in labels:
        label = raw.strip()
        if label and label not in result:
            result.append(label)
    return result


def _status_activity(status: ConversationStatus) -> str:
    return {
        "open": "Conversation was reopened",
        "resolved": "Conversation was marked resolved",
        "pending": "Conversation was marked as pending",
        "snoozed": "Conversation was snoozed",
    }[status]
