"""The composition root: every collaborator of the functions, built once per container.

Each function's handler module calls :func:`bootstrap` once, at import. What it returns builds nothing yet:
each part (settings, database, secret store and lookups, Chatwoot clients, services) is built the first time
a request needs it, and kept for the container's life. So a function loads only what it uses (the webhook
function never loads psycopg or httpx) and a warm container reuses its connections and clients.

Per-container values that belong to one integration (its secret, its Chatwoot client) are kept in
:class:`~chatwoot_integration.cache.IntegrationCache`: a TTL, and invalidation when the integration's
``config_version`` moves. Everything else is a part built here. Nothing else in the layer keeps state per
process.

Tests and the local tools build the same graph: ``Components(settings, database=...)`` for their own, or
``bootstrap().configure(...)`` to point the handlers' graph at their database and collaborators.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from .config import Settings

if TYPE_CHECKING:
    from .api.openapi import ApiDocs
    from .cache import IntegrationCache
    from .chatwoot.egress import EgressPolicy, Resolver
    from .db import Database
    from .ingest.processor import DeliveryProcessor
    from .ingest.queue import IngestQueue
    from .ingest.receive import WebhookReceiver
    from .secrets import IntegrationSecret, SecretStore
    from .services.agents import AgentService
    from .services.assignment import AssignmentService
    from .services.changes import ChangePublisher
    from .services.chatwoot_clients import ChatwootClients, ClientFactory
    from .services.conversations import ConversationService
    from .services.integrations import IntegrationService, UrlCheck
    from .sync.service import SyncService
    from .uow import UnitOfWork


class Components:
    """The container's object graph. ``overrides`` replace parts by name (``database=``, ``secret_store=``,
    ``chatwoot_factory=``, ``events_client=``, ``ingest_queue=``...), as tests and the local runner need."""

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        self._given_settings = settings
        self._overrides = dict(overrides)
        self._install(settings, overrides)

    def configure(self, settings: Settings | None = None, **overrides: Any) -> None:
        """Forget every part built so far and start again from ``settings`` (default: the environment) and
        ``overrides``. Connections this graph opened itself are closed; an overridden database is left open."""
        self.close()
        for name in [n for n in vars(self) if not n.startswith("_")]:
            del self.__dict__[name]
        self._given_settings = settings
        self._overrides = dict(overrides)
        self._install(settings, overrides)

    def close(self) -> None:
        """Close the database connections this graph opened (not an overridden database's)."""
        built = self.__dict__.get("database")
        if built is not None and "database" not in self._overrides:
            built.close()

    def _install(self, settings: Settings | None, overrides: dict[str, Any]) -> None:
        unknown = [name for name in overrides if not isinstance(getattr(type(self), name, None), cached_property)]
        if unknown:
            raise TypeError(f"not a part of the graph: {', '.join(sorted(unknown))}")
        if settings is not None:
            self.__dict__["settings"] = settings
        # An instance attribute wins over a cached_property: an override is simply the part, already built.
        self.__dict__.update(overrides)

    # Configuration and storage -------------------------------------------------------------------------------

    @cached_property
    def settings(self) -> Settings:
        return Settings.from_environ()

    @cached_property
    def database(self) -> Database:
        from .db import Database  # noqa: PLC0415 - psycopg, which the webhook function never loads

        return Database.from_settings(self.settings)

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        """A new unit of work on the container's database (the ``UnitOfWorkFactory`` every service takes)."""
        from .uow import UnitOfWork  # noqa: PLC0415

        return UnitOfWork(self.database, read_only=read_only)

    @cached_property
    def secret_store(self) -> SecretStore:
        from .secrets import DatabaseSecretStore, SecretsManagerStore  # noqa: PLC0415

        if self.settings.secrets_backend == "secretsmanager":
            return SecretsManagerStore(self.settings.integration_secrets_prefix)
        return DatabaseSecretStore(self.unit_of_work)

    @cached_property
    def secrets(self) -> IntegrationCache[IntegrationSecret]:
        """The webhook function's secret lookup: revocations take effect within the TTL."""
        from .cache import IntegrationCache  # noqa: PLC0415

        return IntegrationCache(self.secret_store.load, ttl_seconds=self.settings.integration_cache_ttl_seconds)

    # Webhooks --------------------------------------------------------------------------------------------------

    @cached_property
    def ingest_queue(self) -> IngestQueue:
        from .ingest.queue import InProcessIngestQueue, SqsIngestQueue  # noqa: PLC0415

        if self.settings.ingest_queue_url:
            return SqsIngestQueue(self.settings.ingest_queue_url)
        return InProcessIngestQueue(self.processor)

    @cached_property
    def receiver(self) -> WebhookReceiver:
        from .ingest.receive import WebhookReceiver  # noqa: PLC0415

        return WebhookReceiver(
            self.secrets,
            self.ingest_queue,
            tolerance_seconds=self.settings.webhook_tolerance_seconds,
            max_body_bytes=self.settings.webhook_max_body_bytes,
        )

    @cached_property
    def processor(self) -> DeliveryProcessor:
        from .ingest.processor import DeliveryProcessor  # noqa: PLC0415

        return DeliveryProcessor(self.unit_of_work, publisher=self.publisher, assignment=lambda: self.assignment)

    # Chatwoot and the services -----------------------------------------------------------------------------------

    @cached_property
    def egress_policy(self) -> EgressPolicy:
        """Where Chatwoot may live: checked when a base URL is entered and again on every connection."""
        return self.settings.egress_policy()

    @cached_property
    def egress_resolver(self) -> Resolver | None:
        """The resolver the egress checks use: the system's (None) unless a test gives its own names."""
        return None

    @cached_property
    def check_url(self) -> UrlCheck:
        """The check a Chatwoot base URL passes when an admin enters it: normalised back, or ``EgressRefused``."""
        from .chatwoot.egress import check_base_url  # noqa: PLC0415

        policy, resolve = self.egress_policy, self.egress_resolver
        return lambda url: check_base_url(url, policy, resolve=resolve)

    @cached_property
    def chatwoot_factory(self) -> ClientFactory:
        from .services.chatwoot_clients import default_client_factory  # noqa: PLC0415

        return default_client_factory(
            egress=self.egress_policy,
            resolve=self.egress_resolver,
            connect_timeout=self.settings.chatwoot_connect_timeout_seconds,
            read_timeout=self.settings.chatwoot_read_timeout_seconds,
        )

    @cached_property
    def chatwoot(self) -> ChatwootClients:
        from .services.chatwoot_clients import ChatwootClients  # noqa: PLC0415

        return ChatwootClients(self.unit_of_work, self.secret_store, self.chatwoot_factory)

    @cached_property
    def events_client(self) -> Any:
        import boto3  # noqa: PLC0415 - slow to import; only a function that publishes needs it

        return boto3.client("events")

    @cached_property
    def publisher(self) -> ChangePublisher:
        from .services.changes import ChangePublisher  # noqa: PLC0415

        return ChangePublisher(
            self.unit_of_work, self.settings.event_bus_name, client_factory=lambda: self.events_client
        )

    @cached_property
    def assignment(self) -> AssignmentService:
        from .services.assignment import AssignmentService  # noqa: PLC0415

        return AssignmentService(self.unit_of_work, self.chatwoot)

    @cached_property
    def conversations(self) -> ConversationService:
        from .services.conversations import ConversationService  # noqa: PLC0415

        return ConversationService(self.unit_of_work, self.chatwoot)

    @cached_property
    def agents(self) -> AgentService:
        from .services.agents import AgentService  # noqa: PLC0415

        return AgentService(self.unit_of_work, self.chatwoot, self.assignment)

    @cached_property
    def integrations(self) -> IntegrationService:
        from .services.integrations import IntegrationService  # noqa: PLC0415

        return IntegrationService(
            self.unit_of_work, self.secret_store, self.settings.public_base_url, check_url=self.check_url
        )

    @cached_property
    def sync(self) -> SyncService:
        from .sync.service import SyncService  # noqa: PLC0415

        return SyncService(self.unit_of_work, self.chatwoot, assignment=self.assignment, publisher=self.publisher)

    @cached_property
    def docs(self) -> ApiDocs:
        from .api.openapi import ApiDocs  # noqa: PLC0415

        return ApiDocs()


_components: Components | None = None


def bootstrap() -> Components:
    """The container's graph (built part by part on first use). Handler modules call this once, at import."""
    global _components  # noqa: PLW0603 - one graph per container is the point
    if _components is None:
        _components = Components()
    return _components
