"""A small, faithful Chatwoot: state, the side effects Chatwoot's callbacks have, and the webhooks they send.

Everything is in memory behind one lock. Ids are sequential (conversation display ids per account, every
other id global, as in Chatwoot's tables); tokens, uuids and delivery ids come from a seeded generator, and
time from an injectable clock, so a test that fixes ``seed`` and ``clock`` sees the same values every run.

The rules reproduced here are the ones chatwoot.md documents (app/models/conversation.rb, message.rb):

* a conversation's ``updated_at`` moves on every change, messages included, and strictly increases;
* a status change sends ``conversation_status_changed`` (``changed_attributes: null``) and
  ``conversation_updated``; assignee, team, labels, priority, custom attributes, ``waiting_since`` and
  ``first_reply_created_at`` changes send ``conversation_updated``; ``last_activity_at`` alone sends nothing;
* ``waiting_since`` is set at creation and by an incoming message when empty, cleared by a public agent reply;
* an incoming message reopens a resolved or snoozed conversation and bumps the contact (``contact_updated``);
* ``message_created`` is sent for incoming, outgoing and template messages, private notes included, never
  for activity messages; deletes and agent changes send nothing.
"""

from __future__ import annotations

import copy
import dataclasses
import random
import string
import threading
import time
import typing
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx

from chatwoot_simulator.clock import Clock, WallClock, to_iso
from chatwoot_simulator.counters import RequestCounters
from chatwoot_simulator.faults import FaultInjector
from chatwoot_simulator.presenters import contact_webhook_data as _contact_webhook_data
from chatwoot_simulator.presenters import conversation_webhook_data, rest_conversation
from chatwoot_simulator.presenters import message_webhook_data as _message_webhook_data
from chatwoot_simulator.state import (
    AVAILABILITIES,
    CHANNEL_TYPES,
    CONVERSATION_STATUSES,
    MESSAGE_TYPE_CODES,
    PRIORITIES,
    ROLES,
    Account,
    Agent,
    Availability,
    Contact,
    ContactInbox,
    Conversation,
    ConversationStatus,
    Inbox,
    InvalidValueError,
    Message,
    MessageType,
    Priority,
    Role,
    SenderType,
    Team,
)
from chatwoot_simulator.store import Store
from chatwoot_simulator.webhooks import (
    DEFAULT_SUBSCRIPTIONS,
    DeliveryMode,
    PendingEvent,
    Subject,
    WebhookDispatcher,
    WebhookHandler,
    WebhookTarget,
)

JSON = dict[str, Any]

_TOKEN_ALPHABET = string.ascii_letters + string.digits
_TIME_ATTRIBUTES = frozenset({"snoozed_until", "waiting_since", "first_reply_created_at"})


class Simulator:
    """The simulated installation. Every public method is thread-safe.

    ``delivery="sync"`` sends webhooks in the thread that made the change, right after it (no threads,
    for tests and benchmarks); ``"async"`` sends them from a background thread (local runs).
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: Clock | None = None,
        page_size: int = 25,
        delivery: DeliveryMode = "sync",
        activity_messages: bool = True,
        webhook_transport: httpx.BaseTransport | None = None,
        rest_sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._lock = threading.RLock()
        self._clock: Clock = clock or WallClock()
        self._rng = random.Random(seed)  # noqa: S311 - seeded on purpose, so runs are reproducible
        self._store = Store()
        self._ids: defaultdict[str, int] = defaultdict(int)
        self._display_ids: defaultdict[int, int] = defaultdict(int)
        self._activity_messages = activity_messages
        self.page_size = page_size
        # Separate generators, so turning one fault switch on does not shift the values of the others.
        self.webhooks = WebhookDispatcher(
            render=self._render_event,
            clock=self._clock,
            seed=seed + 1,
            mode=delivery,
            transport=webhook_transport,
        )
        self.faults = FaultInjector(seed=seed + 2, sleep=rest_sleep)
        self.requests = RequestCounters()

    @property
    def clock(self) -> Clock:
        return self._clock

    def close(self) -> None:
        self.webhooks.close()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def locked(self) -> Iterator[Store]:
        """Read the tables directly (REST views do); never keep references past the block."""
        with self._lock:
            yield self._store

    # ------------------------------------------------------------ accounts, agents, inboxes, teams

    def create_account(
        self,
        name: str,
        *,
        admin_name: str | None = "Administrador",
        admin_email: str | None = None,
        api_token: str | None = None,
    ) -> Account:
        """Create an account and, unless ``admin_name`` is None, its first administrator.

        The administrator is a real (offline) user, listed by the agents endpoint as Chatwoot lists
        every user; its token is ``account.api_token``.
        """
        with self._lock:
            account = Account(id=self._next_id("account"), name=name, created_at=self._now())
            self._store.accounts[account.id] = account
            if admin_name is not None:
                admin = self._new_agent(
                    account.id,
                    admin_name,
                    email=admin_email or f"admin{account.id}@chatwoot.example",
                    role="administrator",
                    availability="offline",
                    access_token=api_token,
                )
                account.admin_id = admin.id
                account.api_token = admin.access_token
            return _clone(account)

    def create_agent(
        self,
        account_id: int,
        name: str,
        *,
        email: str | None = None,
        role: Role = "agent",
        availability: Availability = "online",
        access_token: str | None = None,
    ) -> Agent:
        with self._lock:
            self._store.account(account_id)
            return _clone(
                self._new_agent(
                    account_id, name, email=email, role=role, availability=availability, access_token=access_token
                )
            )

    def _new_agent(
        self,
        account_id: int,
        name: str,
        *,
        email: str | None,
        role: Role,
        availability: Availability,
        access_token: str | None,
    ) -> Agent:
        _check(role, ROLES, "role")
        _check(availability, AVAILABILITIES, "availability")
        token = access_token or self._token()
        if token in self._store.tokens:
            raise InvalidValueError("access token already in use")
        agent_id = self._next_id("user")
        agent = Agent(
            id=agent_id,
            account_id=account_id,
            name=name,
            email=email or f"agent{agent_id}@chatwoot.example",
            role=role,
            availability=availability,
            access_token=token,
            created_at=self._now(),
        )
        self._store.agents[agent.id] = agent
        self._store.tokens[token] = agent.id
        return agent

    def set_agent_availability(self, account_id: int, agent_id: int, availability: Availability) -> Agent:
        """Change an agent's availability. Chatwoot sends no webhook for it: poll the agents endpoint."""
        return self.update_agent(account_id, agent_id, availability=availability)

    def update_agent(
        self,
        account_id: int,
        agent_id: int,
        *,
        name: str | None = None,
        role: Role | None = None,
        availability: Availability | None = None,
        auto_offline: bool | None = None,
    ) -> Agent:
        with self._lock:
            agent = self._store.agent(account_id, agent_id)
            if role is not None:
                agent.role = _check(role, ROLES, "role")
            if availability is not None:
                agent.availability = _check(availability, AVAILABILITIES, "availability")
            if name is not None:
                agent.name = name
            if auto_offline is not None:
                agent.auto_offline = auto_offline
            return _clone(agent)

    def create_inbox(
        self,
        account_id: int,
        name: str,
        channel: str = "web_widget",
        *,
        members: Iterable[int] = (),
        enable_auto_assignment: bool = False,
    ) -> Inbox:
        """Create an inbox; ``channel`` is whatsapp, email, web_widget or api (or a ``Channel::`` type)."""
        channel_type = CHANNEL_TYPES.get(channel, channel)
        if channel_type not in CHANNEL_TYPES.values():
            raise InvalidValueError(f"unknown channel {channel!r}")
        with self._lock:
            self._store.account(account_id)
            inbox = Inbox(
                id=self._next_id("inbox"),
                account_id=account_id,
                name=name,
                channel_type=channel_type,
                channel_id=self._next_id(channel_type),
                created_at=self._now(),
                enable_auto_assignment=enable_auto_assignment,
            )
            inbox.settings = self._channel_settings(inbox)
            self._store.inboxes[inbox.id] = inbox
            for agent_id in members:
                self._add_member(inbox.member_ids, self._store.agent(account_id, agent_id).id)
            return _clone(inbox)

    def _channel_settings(self, inbox: Inbox) -> JSON:
        if inbox.channel_type == "Channel::WebWidget":
            token = self._token()
            return {
                "website_url": "https://escritorio.example",
                "widget_color": "#1f93ff",
                "website_token": token,
                "welcome_title": "",
                "welcome_tagline": "",
                "web_widget_script": f"<script>window.chatwootSettings={{}};/* {token} */</script>",
                "selected_feature_flags": ["attachments", "emoji_picker", "end_conversation"],
                "reply_time": "in_a_few_minutes",
                "hmac_mandatory": False,
            }
        if inbox.channel_type == "Channel::Email":
            return {"email": f"contato{inbox.id}@escritorio.example", "provider": None}
        if inbox.channel_type == "Channel::Whatsapp":
            return {"phone_number": f"+551130{inbox.id:06d}", "provider": "whatsapp_cloud"}
        return {}

    def add_inbox_member(self, account_id: int, inbox_id: int, agent_id: int) -> None:
        with self._lock:
            inbox = self._store.inbox(account_id, inbox_id)
            self._add_member(inbox.member_ids, self._store.agent(account_id, agent_id).id)

    def remove_inbox_member(self, account_id: int, inbox_id: int, agent_id: int) -> None:
        with self._lock:
            inbox = self._store.inbox(account_id, inbox_id)
            if agent_id in inbox.member_ids:
                inbox.member_ids.remove(agent_id)

    def create_team(
        self,
        account_id: int,
        name: str,
        *,
        description: str | None = None,
        allow_auto_assign: bool = False,
        members: Iterable[int] = (),
    ) -> Team:
        """Create a team. ``allow_auto_assign`` is stored and shown; the simulator never auto-assigns."""
        with self._lock:
            self._store.account(account_id)
            now = self._now()
            team = Team(
                id=self._next_id("team"),
                account_id=account_id,
                name=name,
                description=description,
                allow_auto_assign=allow_auto_assign,
                created_at=now,
                updated_at=now,
            )
            self._store.teams[team.id] = team
            for agent_id in members:
                self._add_member(team.member_ids, self._store.agent(account_id, agent_id).id)
            return _clone(team)

    def add_team_member(self, account_id: int, team_id: int, agent_id: int) -> None:
        with self._lock:
            team = self._store.team(account_id, team_id)
            self._add_member(team.member_ids, self._store.agent(account_id, agent_id).id)

    @staticmethod
    def _add_member(members: list[int], agent_id: int) -> None:
        if agent_id not in members:
            members.append(agent_id)

    # ------------------------------------------------------------ contacts

    def create_contact(
        self,
        account_id: int,
        name: str,
        *,
        email: str | None = None,
        phone_number: str | None = None,
        identifier: str | None = None,
        custom_attributes: JSON | None = None,
        additional_attributes: JSON | None = None,
    ) -> Contact:
        """Create a contact (sends ``contact_created``)."""
        with self._lock:
            self._store.account(account_id)
            now = self._now()
            contact = Contact(
                id=self._next_id("contact"),
                account_id=account_id,
                name=name,
                email=email,
                phone_number=phone_number,
                identifier=identifier,
                created_at=now,
                updated_at=now,
                custom_attributes=dict(custom_attributes or {}),
                additional_attributes=dict(additional_attributes or {}),
            )
            self._store.contacts[contact.id] = contact
            self._emit(account_id, "contact_created", "contact", contact.id)
            result = _clone(contact)
        self.webhooks.after_change()
        return result

    def update_contact(
        self,
        account_id: int,
        contact_id: int,
        *,
        name: str | None = None,
        email: str | None = None,
        phone_number: str | None = None,
        identifier: str | None = None,
        custom_attributes: JSON | None = None,
    ) -> Contact:
        """Change contact fields (sends ``contact_updated`` with ``changed_attributes`` if anything changed)."""
        changes = {
            key: value
            for key, value in {
                "name": name,
                "email": email,
                "phone_number": phone_number,
                "identifier": identifier,
                "custom_attributes": custom_attributes,
            }.items()
            if value is not None
        }
        with self._lock:
            contact = self._store.contact(account_id, contact_id)
            self._update_contact(contact, changes)
            result = _clone(contact)
        self.webhooks.after_change()
        return result

    def _update_contact(self, contact: Contact, changes: JSON) -> None:
        diffs: list[JSON] = []
        for attr, new in changes.items():
            old = getattr(contact, attr)
            if old == new:
                continue
            setattr(contact, attr, copy.deepcopy(new))
            if attr == "last_activity_at":
                diffs.append({attr: {"previous_value": to_iso(old), "current_value": to_iso(new)}})
            else:
                diffs.append({attr: {"previous_value": old, "current_value": copy.deepcopy(new)}})
        if not diffs:
            # contact_updated is skipped when nothing changed.
            return
        before = contact.updated_at
        contact.updated_at = max(self._now(), before)
        diffs.append({"updated_at": {"previous_value": to_iso(before), "current_value": to_iso(contact.updated_at)}})
        self._emit(contact.account_id, "contact_updated", "contact", contact.id, changed=diffs)

    # ------------------------------------------------------------ conversations

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
        _check(status, CONVERSATION_STATUSES, "status")
        if priority is not None:
            _check(priority, PRIORITIES, "priority")
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
            result = _clone(conversation)
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
            result = _clone(message)
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

    def set_status(
        self,
        account_id: int,
        display_id: int,
        status: ConversationStatus,
        *,
        snoozed_until: float | None = None,
    ) -> Conversation:
        """Change the status; ``snoozed_until`` (unix seconds) only counts when snoozing."""
        _check(status, CONVERSATION_STATUSES, "status")
        with self._lock:
            conversation = self._store.conversation(account_id, display_id)
            changes: JSON = {"status": status}
            if status == "snoozed":
                changes["snoozed_until"] = snoozed_until
            if self._update_conversation(conversation, changes):
                self._activity(conversation, _status_activity(status))
            result = _clone(conversation)
        self.webhooks.after_change()
        return result

    def set_priority(self, account_id: int, display_id: int, priority: Priority | None) -> Conversation:
        if priority is not None:
            _check(priority, PRIORITIES, "priority")
        with self._lock:
            conversation = self._store.conversation(account_id, display_id)
            if self._update_conversation(conversation, {"priority": priority}):
                self._activity(conversation, f"Priority set to {priority}" if priority else "Priority removed")
            result = _clone(conversation)
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
            result = _clone(conversation)
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
            result = _clone(conversation)
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
            result = _clone(conversation)
        self.webhooks.after_change()
        return result

    def set_custom_attributes(self, account_id: int, display_id: int, attributes: JSON) -> Conversation:
        with self._lock:
            conversation = self._store.conversation(account_id, display_id)
            self._update_conversation(conversation, {"custom_attributes": dict(attributes)})
            result = _clone(conversation)
        self.webhooks.after_change()
        return result

    def mark_seen(self, account_id: int, display_id: int) -> Conversation:
        """An agent opened the conversation: unread count goes to zero (an update_columns write, no event)."""
        with self._lock:
            conversation = self._store.conversation(account_id, display_id)
            conversation.agent_last_seen_at = self._now()
            if conversation.assignee_id is not None:
                conversation.assignee_last_seen_at = conversation.agent_last_seen_at
            return _clone(conversation)

    def delete_conversation(self, account_id: int, display_id: int) -> None:
        """Delete a conversation and its messages. Chatwoot sends no webhook for this; queued deliveries about
        it are discarded when their turn comes, as Chatwoot's jobs are."""
        with self._lock:
            conversation = self._store.conversation(account_id, display_id)
            for message_id in conversation.message_ids:
                del self._store.messages[message_id]
            del self._store.conversations[conversation.pk]
            del self._store.display_index[(account_id, display_id)]

    # ------------------------------------------------------------ change tracking

    def _update_conversation(self, conversation: Conversation, changes: JSON) -> bool:
        """Apply ``changes`` like an ActiveRecord save and dispatch what Chatwoot's callbacks would.

        Returns whether anything changed.
        """
        diffs: list[JSON] = []
        for attr, new in changes.items():
            old = _read_attr(conversation, attr)
            if old != new:
                _write_attr(conversation, attr, new)
                diffs.append(_diff(attr, old, new))
        # ensure_snooze_until_reset: leaving "snoozed" clears the snooze time.
        if conversation.status != "snoozed" and conversation.snoozed_until is not None:
            diffs.append(_diff("snoozed_until", conversation.snoozed_until, None))
            conversation.snoozed_until = None
        if not diffs:
            return False
        before = conversation.updated_at
        self._touch(conversation)
        diffs.append(
            {"updated_at": {"previous_value": to_iso(before), "current_value": to_iso(conversation.updated_at)}}
        )
        account_id = conversation.account_id
        if any("status" in diff for diff in diffs):
            # notify_status_change reads status_change after commit, where it is already nil.
            self._emit(account_id, "conversation_status_changed", "conversation", conversation.pk, changed=None)
        self._emit(account_id, "conversation_updated", "conversation", conversation.pk, changed=diffs)
        return True

    def _activity(self, conversation: Conversation, content: str) -> None:
        if self._activity_messages:
            self._add_message(conversation, "activity", content, private=False, sender_id=None)

    def _touch(self, conversation: Conversation) -> None:
        now_us = round(self._now() * 1_000_000)
        conversation.updated_at_us = max(now_us, conversation.updated_at_us + 1)

    def _emit(
        self,
        account_id: int,
        event: str,
        subject: Subject,
        subject_id: int,
        *,
        changed: list[JSON] | None = None,
    ) -> None:
        with_changed = event in ("conversation_updated", "conversation_status_changed", "contact_updated")
        self.webhooks.emit(
            PendingEvent(
                account_id=account_id,
                event=event,
                subject=subject,
                subject_id=subject_id,
                changed_attributes=copy.deepcopy(changed),
                with_changed_attributes=with_changed,
            )
        )

    def _render_event(self, event: PendingEvent, include_account: bool) -> JSON | None:
        with self._lock:
            store = self._store
            data: JSON
            if event.subject == "conversation":
                conversation = store.conversations.get(event.subject_id)
                if conversation is None:
                    return None
                data = conversation_webhook_data(store, conversation, include_account=include_account)
            elif event.subject == "message":
                message = store.messages.get(event.subject_id)
                if message is None:
                    return None
                data = _message_webhook_data(store, message, include_account=include_account)
            else:
                contact = store.contacts.get(event.subject_id)
                if contact is None:
                    return None
                data = _contact_webhook_data(store, contact)
            data["event"] = event.event
            if event.with_changed_attributes:
                data["changed_attributes"] = copy.deepcopy(event.changed_attributes)
            return data

    # ------------------------------------------------------------ webhooks

    def set_webhook(
        self,
        account_id: int,
        *,
        url: str | None = None,
        secret: str | None = None,
        handler: WebhookHandler | None = None,
        include_account: bool = True,
        subscriptions: Iterable[str] | None = None,
    ) -> None:
        """Configure the account's webhook: an HTTP ``url`` or a Python ``handler`` (not both).

        ``include_account=False`` reproduces Chatwoot before 4.14.2 (no ``account`` in conversation data).
        """
        if (url is None) == (handler is None):
            raise InvalidValueError("give exactly one of url and handler")
        with self._lock:
            self._store.account(account_id)
        self.webhooks.set_target(
            account_id,
            WebhookTarget(
                url=url,
                secret=secret,
                handler=handler,
                include_account=include_account,
                subscriptions=frozenset(subscriptions) if subscriptions is not None else DEFAULT_SUBSCRIPTIONS,
            ),
        )

    def remove_webhook(self, account_id: int) -> None:
        self.webhooks.set_target(account_id, None)

    def deliver_due(self) -> int:
        """Sync mode: send the deliveries whose delay has passed on the simulator's clock."""
        return self.webhooks.pump()

    # ------------------------------------------------------------ reading

    def authenticate(self, token: str) -> Agent | None:
        with self._lock:
            agent_id = self._store.tokens.get(token)
            return _clone(self._store.agents[agent_id]) if agent_id is not None else None

    def get_account(self, account_id: int) -> Account:
        with self._lock:
            return _clone(self._store.account(account_id))

    def get_conversation(self, account_id: int, display_id: int) -> Conversation:
        with self._lock:
            return _clone(self._store.conversation(account_id, display_id))

    def list_conversations(self, account_id: int) -> list[Conversation]:
        with self._lock:
            return [
                _clone(conversation)
                for conversation in self._store.conversations.values()
                if conversation.account_id == account_id
            ]

    def get_messages(self, account_id: int, display_id: int) -> list[Message]:
        with self._lock:
            conversation = self._store.conversation(account_id, display_id)
            return [_clone(message) for message in self._store.conversation_messages(conversation)]

    def get_agent(self, account_id: int, agent_id: int) -> Agent:
        with self._lock:
            return _clone(self._store.agent(account_id, agent_id))

    def list_agents(self, account_id: int) -> list[Agent]:
        with self._lock:
            return [_clone(agent) for agent in self._store.agents_of(account_id)]

    def get_contact(self, account_id: int, contact_id: int) -> Contact:
        with self._lock:
            return _clone(self._store.contact(account_id, contact_id))

    def get_inbox(self, account_id: int, inbox_id: int) -> Inbox:
        with self._lock:
            return _clone(self._store.inbox(account_id, inbox_id))

    def list_inboxes(self, account_id: int) -> list[Inbox]:
        with self._lock:
            return [_clone(i) for i in self._store.inboxes.values() if i.account_id == account_id]

    def get_team(self, account_id: int, team_id: int) -> Team:
        with self._lock:
            return _clone(self._store.team(account_id, team_id))

    def list_teams(self, account_id: int) -> list[Team]:
        with self._lock:
            return [_clone(t) for t in self._store.teams.values() if t.account_id == account_id]

    def rest_conversation(self, account_id: int, display_id: int) -> JSON:
        """The conversation exactly as ``GET …/conversations/{display_id}`` returns it."""
        with self._lock:
            conversation = self._store.conversation(account_id, display_id)
            return rest_conversation(self._store, conversation, viewer_id=None)

    def conversation_webhook_data(self, account_id: int, display_id: int, *, include_account: bool = True) -> JSON:
        """The conversation as webhooks carry it now (without ``event``)."""
        with self._lock:
            conversation = self._store.conversation(account_id, display_id)
            return conversation_webhook_data(self._store, conversation, include_account=include_account)

    def snapshot(self) -> JSON:
        """Every table as plain JSON-ready data (conversations also carry their float ``updated_at``)."""
        with self._lock:
            store = self._store
            conversations = []
            for conversation in store.conversations.values():
                row = dataclasses.asdict(conversation)
                row["updated_at"] = conversation.updated_at
                conversations.append(row)
            return {
                "accounts": [dataclasses.asdict(a) for a in store.accounts.values()],
                "agents": [dataclasses.asdict(a) for a in store.agents.values()],
                "inboxes": [dataclasses.asdict(i) for i in store.inboxes.values()],
                "teams": [dataclasses.asdict(t) for t in store.teams.values()],
                "contacts": [dataclasses.asdict(c) for c in store.contacts.values()],
                "contact_inboxes": [dataclasses.asdict(c) for c in store.contact_inboxes.values()],
                "conversations": conversations,
                "messages": [dataclasses.asdict(m) for m in store.messages.values()],
            }

    # ------------------------------------------------------------ helpers

    def _now(self) -> float:
        return self._clock.now()

    def _next_id(self, table: str) -> int:
        self._ids[table] += 1
        return self._ids[table]

    def _token(self) -> str:
        return "".join(self._rng.choice(_TOKEN_ALPHABET) for _ in range(24))

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


Record = TypeVar("Record", Account, Agent, Inbox, Team, Contact, Conversation, Message)


def _clone(record: Record) -> Record:
    """A copy callers may keep and mutate: lists of ids and labels copied, attribute dicts deep-copied.

    Much cheaper than ``copy.deepcopy`` on the whole record, which matters when listing thousands.
    """
    clone = copy.copy(record)
    lists, dicts = _CONTAINER_FIELDS[type(record)]
    for name in lists:
        setattr(clone, name, list(getattr(record, name)))
    for name in dicts:
        value = getattr(record, name)
        setattr(clone, name, copy.deepcopy(value) if value else {})
    return clone


def _container_fields(record_type: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    hints = typing.get_type_hints(record_type)
    fields = [item.name for item in dataclasses.fields(record_type)]
    lists = tuple(name for name in fields if typing.get_origin(hints[name]) is list)
    dicts = tuple(name for name in fields if typing.get_origin(hints[name]) is dict)
    return lists, dicts


_CONTAINER_FIELDS: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {
    record_type: _container_fields(record_type)
    for record_type in (Account, Agent, Inbox, Team, Contact, Conversation, Message)
}


def _check(value: Any, allowed: tuple[str, ...], name: str) -> Any:
    if value not in allowed:
        raise InvalidValueError(f"invalid {name} {value!r}; expected one of {', '.join(allowed)}")
    return value


def _unique(labels: Iterable[str]) -> list[str]:
    result: list[str] = []
    for raw in labels:
        label = raw.strip()
        if label and label not in result:
            result.append(label)
    return result


def _read_attr(conversation: Conversation, attr: str) -> Any:
    return list(conversation.labels) if attr == "label_list" else getattr(conversation, attr)


def _write_attr(conversation: Conversation, attr: str, value: Any) -> None:
    if attr == "label_list":
        conversation.labels = list(value)
    else:
        setattr(conversation, attr, copy.deepcopy(value))


def _diff(attr: str, old: Any, new: Any) -> JSON:
    """One ``changed_attributes`` entry: times as ISO strings, enums as strings, as Rails serialises them."""
    if attr in _TIME_ATTRIBUTES:
        old, new = to_iso(old), to_iso(new)
    return {attr: {"previous_value": copy.deepcopy(old), "current_value": copy.deepcopy(new)}}


def _status_activity(status: ConversationStatus) -> str:
    return {
        "open": "Conversation was reopened",
        "resolved": "Conversation was marked resolved",
        "pending": "Conversation was marked as pending",
        "snoozed": "Conversation was snoozed",
    }[status]


__all__ = ["Simulator"]
