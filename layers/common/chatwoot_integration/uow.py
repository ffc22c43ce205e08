"""The unit of work: one PostgreSQL transaction and the repositories that work inside it.

``with uow:`` opens the transaction, the repositories are its attributes, leaving the block commits, and any
exception rolls everything back (the pattern of *Architecture Patterns with Python*). Every use case runs its
writes in exactly one unit of work; nothing else in the layer builds a repository or holds SQL.

A read that a use case needs before it calls Chatwoot (is the conversation mirrored? is the agent known?) runs
in a ``read_only`` unit of work of its own, so no transaction is ever held open across the network: an open
transaction holds back the change feed of every account (see ``repositories/changes.py``). Smart assignment is
the one use case that holds its row locks across Chatwoot's call, on purpose (``services/assignment.py``).

Repositories are built on first use, so a unit of work costs only what its use case touches, and a function
loads only the repository modules it needs (cold start).
"""

from __future__ import annotations

import importlib
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from .observability import traced

if TYPE_CHECKING:
    from .db import Connection, Database
    from .repositories.agents import AgentRepository
    from .repositories.assignment import AssignmentRepository
    from .repositories.changes import ChangeRepository
    from .repositories.conversations import ConversationRepository
    from .repositories.credentials import CredentialRepository
    from .repositories.deliveries import DeliveryRepository
    from .repositories.integrations import IntegrationRepository
    from .repositories.messages import MessageRepository
    from .repositories.parties import PartyRepository
    from .repositories.server import ServerRepository
    from .repositories.sync import SyncRepository

R = TypeVar("R")


class _Repository(Generic[R]):
    """A repository attribute of the unit of work: imported and built on first use, then kept for the block."""

    def __init__(self, module: str, name: str) -> None:
        self._module = f"{__package__}.repositories.{module}"
        self._name = name
        self._attribute = ""

    def __set_name__(self, owner: type, attribute: str) -> None:
        self._attribute = attribute

    def __get__(self, uow: UnitOfWork | None, owner: type) -> R:
        if uow is None:
            raise AttributeError(self._attribute)
        repository_class = getattr(importlib.import_module(self._module), self._name)
        repository: R = repository_class(uow.connection)
        # A non-data descriptor: from now on the instance attribute answers, without this method.
        uow.__dict__[self._attribute] = repository
        return repository


class UnitOfWork:
    """One transaction. Enter it once; the repositories are valid only inside the ``with`` block."""

    agents: _Repository[AgentRepository] = _Repository("agents", "AgentRepository")
    assignment: _Repository[AssignmentRepository] = _Repository("assignment", "AssignmentRepository")
    changes: _Repository[ChangeRepository] = _Repository("changes", "ChangeRepository")
    conversations: _Repository[ConversationRepository] = _Repository("conversations", "ConversationRepository")
    credentials: _Repository[CredentialRepository] = _Repository("credentials", "CredentialRepository")
    deliveries: _Repository[DeliveryRepository] = _Repository("deliveries", "DeliveryRepository")
    integrations: _Repository[IntegrationRepository] = _Repository("integrations", "IntegrationRepository")
    messages: _Repository[MessageRepository] = _Repository("messages", "MessageRepository")
    parties: _Repository[PartyRepository] = _Repository("parties", "PartyRepository")
    server: _Repository[ServerRepository] = _Repository("server", "ServerRepository")
    sync: _Repository[SyncRepository] = _Repository("sync", "SyncRepository")

    def __init__(self, database: Database, *, read_only: bool = False) -> None:
        self._database = database
        self._read_only = read_only
        self._transaction: AbstractContextManager[Connection] | None = None
        self._segment: AbstractContextManager[None] = nullcontext()
        self._connection: Connection | None = None
        self._entered = False

    @property
    def connection(self) -> Connection:
        """The transaction's connection (for the repositories)."""
        if self._connection is None:
            raise RuntimeError("the unit of work is used outside its with block")
        return self._connection

    @property
    def transaction_id(self) -> int:
        """The transaction's id, as every row it writes carries it (``xmin``) and the outbox stores it."""
        return self.server.transaction_id()

    def __enter__(self) -> UnitOfWork:
        if self._entered:
            raise RuntimeError("a unit of work is entered once; ask the factory for a new one")
        self._entered = True
        self._segment = traced("database")
        self._segment.__enter__()
        try:
            self._transaction = self._database.transaction(read_only=self._read_only)
            self._connection = self._transaction.__enter__()
        except BaseException as exc:
            self._segment.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        """Commit when the block ended normally, roll back when it raised (the exception goes on)."""
        transaction, self._transaction, self._connection = self._transaction, None, None
        try:
            assert transaction is not None
            transaction.__exit__(exc_type, exc, traceback)
        finally:
            self._segment.__exit__(exc_type, exc, traceback)


class UnitOfWorkFactory(Protocol):
    """Gives a new unit of work for each use case (``Components.unit_of_work`` in production)."""

    def __call__(self, *, read_only: bool = False) -> UnitOfWork: ...


def unit_of_work_factory(database: Database) -> UnitOfWorkFactory:
    def new(*, read_only: bool = False) -> UnitOfWork:
        return UnitOfWork(database, read_only=read_only)

    return new
