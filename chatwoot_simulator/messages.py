"""Messages and what each one does to its conversation and contact.

An incoming message reopens a resolved or snoozed conversation, starts ``waiting_since`` when empty and
bumps the contact (``contact_updated``); a public agent reply clears ``waiting_since`` and sets
``first_reply_created_at``. ``message_created`` is sent for every message except activity messages.
"""

from __future__ import annotations

from typing import Any

from chatwoot_simulator.changes import ChangeTrackingMixin
from chatwoot_simulator.core import clone
from chatwoot_simulator.state import (
    MESSAGE_TYPE_CODES,
    Conversation,
    InvalidValueError,
    Message,
    MessageType,
    SenderType,
)

JSON = dict[str, Any]


class MessagesMixin(ChangeTrackingMixin):
    def add_message(
        self,
        account_id: int,
        display_id: int,
        content: str,
        *,
        message_type: MessageType = "incoming",
        private: bool = False,
        sender_id: int | None = None,
    ) -> Message:
        """Add a message. Incoming ones come from the contact; outgoing ones from ``sender_id``, else the
        assignee, else the account's administrator. ``private=True`` makes an outgoing private note."""
        if message_type not in MESSAGE_TYPE_CODES:
            raise InvalidValueError(f"invalid message_type {message_type!r}")
        with self._lock:
            conversation = self._store.conversation(account_id, display_id)
            if sender_id is not None:
                self._store.agent(account_id, sender_id)
            message = self._add_message(conversation, message_type, content, private=private, sender_id=sender_id)
            result = clone(message)
        self.webhooks.after_change()
        return result

    def _add_message(
        self,
        conversation: Conversation,
        message_type: MessageType,
        content: str,
        *,
        private: bool,
        sender_id: int | None,
    ) -> Message:
        sender_type, sender_id = self._sender(conversation, message_type, sender_id)
        now = self._now()
        message = Message(
            id=self._next_id("message"),
            account_id=conversation.account_id,
            conversation_pk=conversation.pk,
            inbox_id=conversation.inbox_id,
            message_type=message_type,
            content=content,
            private=private,
            sender_type=sender_type,
            sender_id=sender_id,
            created_at=now,
            updated_at=now,
        )
        self._store.messages[message.id] = message
        conversation.message_ids.append(message.id)
        if message_type == "incoming" and not conversation.muted and conversation.status in ("resolved", "snoozed"):
            self._update_conversation(conversation, {"status": "open"})
        # Message#set_conversation_activity writes with update_columns: no callbacks, so no webhook.
        conversation.last_activity_at = now
        self._touch(conversation)
        if message_type != "activity":
            self._emit(conversation.account_id, "message_created", "message", message.id)
        self._update_waiting_since(conversation, message)
        if message_type == "incoming":
            contact = self._store.contacts[conversation.contact_id]
            self._update_contact(contact, {"last_activity_at": now})
        return message

    def _sender(
        self, conversation: Conversation, message_type: MessageType, sender_id: int | None
    ) -> tuple[SenderType | None, int | None]:
        if message_type == "incoming":
            return "Contact", conversation.contact_id
        if message_type == "activity":
            return None, None
        if sender_id is None and message_type == "outgoing":
            sender_id = conversation.assignee_id or self._store.accounts[conversation.account_id].admin_id
        return ("User", sender_id) if sender_id is not None else (None, None)

    def _update_waiting_since(self, conversation: Conversation, message: Message) -> None:
        human_reply = message.message_type == "outgoing" and message.sender_type == "User" and not message.private
        changes: JSON = {}
        if human_reply:
            if conversation.waiting_since is not None:
                changes["waiting_since"] = None
            if conversation.first_reply_created_at is None:
                changes["first_reply_created_at"] = message.created_at
        elif message.message_type == "incoming" and conversation.waiting_since is None:
            changes["waiting_since"] = message.created_at
        if changes:
            self._update_conversation(conversation, changes)

    def _activity(self, conversation: Conversation, content: str) -> None:
        if self._activity_messages:
            self._add_message(conversation, "activity", content, private=False, sender_id=None)
