"""Errors raised by the Chatwoot REST client.

Every error carries a ``message`` that is safe to log and to show to an operator: it names the method and
path, never the API token, and never message content.
"""

from __future__ import annotations


class ChatwootError(Exception):
    """Base of every error the Chatwoot client raises."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.method = method
        self.path = path


class ChatwootAuthError(ChatwootError):
    """401/403: the token is wrong, revoked, or lacks the role (use an administrator's user token)."""


class ChatwootNotFound(ChatwootError):
    """404: the conversation, agent, inbox, team or contact does not exist in this account."""


class ChatwootClientError(ChatwootError):
    """Any other 4xx; ``message`` carries what Chatwoot said was wrong."""


class ChatwootRateLimited(ChatwootClientError):
    """429 still returned after every allowed attempt. ``retry_after`` is Chatwoot's last hint, in seconds."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status_code: int | None = 429,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, method=method, path=path)
        self.retry_after = retry_after


class ChatwootServerError(ChatwootError):
    """5xx: returned at once for 500, or after the retries for 502/503/504."""


class ChatwootUnavailable(ChatwootError):
    """Chatwoot could not be reached (connect failure, timeout, dropped connection) after the retries."""


class ChatwootEgressRefused(ChatwootError):
    """The integration's Chatwoot is, or now resolves to, an address the egress policy refuses; nothing was sent.

    Retrying cannot help: the base URL (or the DNS behind it) must change, or the operator must allow it.
    """


class ChatwootOutcomeUnknown(ChatwootUnavailable):
    """A write may or may not have been applied, and re-reading the conversation to find out failed too.

    Nothing was re-sent. The scheduled sync will bring the mirror back in line with whatever Chatwoot holds.
    """


class ChatwootBudgetExceeded(ChatwootError):
    """The next attempt or backoff would end past the deadline or the time budget, so it was not started.

    ``status_code`` is the last HTTP status seen, if any; the last failure is chained as ``__cause__``.
    """


class ChatwootInvalidResponse(ChatwootError):
    """Chatwoot answered 2xx with a body that is not the JSON shape this client expects."""


class UnknownAgentError(ChatwootError):
    """The agent id is not one of the account's agents; assigning it would silently unassign in Chatwoot."""

    def __init__(self, agent_id: int) -> None:
        super().__init__(f"agent {agent_id} is not an agent of this Chatwoot account; assignment refused")
        self.agent_id = agent_id


class UnknownTeamError(ChatwootError):
    """The team id is not one of the account's teams; assigning it would silently remove the team."""

    def __init__(self, team_id: int) -> None:
        super().__init__(f"team {team_id} is not a team of this Chatwoot account; assignment refused")
        self.team_id = team_id
