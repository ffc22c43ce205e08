"""Setting up an account: the account itself, its agents, inboxes and teams.

None of these changes sends a webhook in Chatwoot (agent availability included: clients poll the agents
endpoint), so this part of the simulator only writes the tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chatwoot_simulator.core import SimulatorCore, check_choice, clone
from chatwoot_simulator.state import (
    AVAILABILITIES,
    CHANNEL_TYPES,
    ROLES,
    Account,
    Agent,
    Availability,
    Inbox,
    InvalidValueError,
    Role,
    Team,
)

JSON = dict[str, Any]


class AccountsMixin(SimulatorCore):
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
            return clone(account)

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
            return clone(
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
        check_choice(role, ROLES, "role")
        check_choice(availability, AVAILABILITIES, "availability")
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
                agent.role = check_choice(role, ROLES, "role")
            if availability is not None:
                agent.availability = check_choice(availability, AVAILABILITIES, "availability")
            if name is not None:
                agent.name = name
            if auto_offline is not None:
                agent.auto_offline = auto_offline
            return clone(agent)

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
            return clone(inbox)

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
            return clone(team)

    def add_team_member(self, account_id: int, team_id: int, agent_id: int) -> None:
        with self._lock:
            team = self._store.team(account_id, team_id)
            self._add_member(team.member_ids, self._store.agent(account_id, agent_id).id)

    @staticmethod
    def _add_member(members: list[int], agent_id: int) -> None:
        if agent_id not in members:
            members.append(agent_id)
