-- Webhook deliveries (dedupe and audit) and the change-event outbox.

-- Every delivery the processor handled. The raw body is kept only while it may still be needed: for rejected
-- deliveries (audit) and failed ones (replay); applied deliveries keep their keys and outcome only.
CREATE TABLE entregas_webhook_chatwoot (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    integration_id bigint      NOT NULL REFERENCES integracoes_chatwoot (id) ON DELETE CASCADE,
    delivery_id    text        NOT NULL CHECK (length(delivery_id) BETWEEN 1 AND 200),
    content_key    text,
    event          text,
    status         text        NOT NULL
        CHECK (status IN ('applied', 'duplicate', 'ignored', 'rejected', 'failed')),
    reason         text,
    error          text,
    account_id     integer,
    conversation_id integer,
    body           bytea,
    attempts       integer     NOT NULL DEFAULT 1 CHECK (attempts >= 1),
    received_at    timestamptz NOT NULL,
    processed_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (integration_id, delivery_id),
    CONSTRAINT body_kept_only_when_needed CHECK (body IS NULL OR status IN ('rejected', 'failed'))
);

-- The same change dispatched twice arrives with two delivery ids: only one may be applied.
CREATE UNIQUE INDEX entregas_webhook_chatwoot_content
    ON entregas_webhook_chatwoot (integration_id, content_key) WHERE status = 'applied';
CREATE INDEX entregas_webhook_chatwoot_failed
    ON entregas_webhook_chatwoot (integration_id, id) WHERE status = 'failed';
CREATE INDEX entregas_webhook_chatwoot_received ON entregas_webhook_chatwoot (received_at);

-- The outbox, which is also the change feed and the audit trail (actor = who changed what).
-- Feed order is (tx_id, id): readers only see transactions older than every transaction still running
-- (pg_snapshot_xmin), so a cursor never skips an event that commits late.
CREATE TABLE eventos_chatwoot (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx_id           xid8        NOT NULL DEFAULT pg_current_xact_id(),
    account_id      integer     NOT NULL,
    type            text        NOT NULL CHECK (type ~ '^[a-z_]+\.[a-z_]+$'),
    conversation_id integer,
    agent_id        integer,
    actor           text        NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
    data            jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    published_at    timestamptz
);

CREATE INDEX eventos_chatwoot_feed ON eventos_chatwoot (account_id, tx_id, id);
CREATE INDEX eventos_chatwoot_unpublished ON eventos_chatwoot (id) WHERE published_at IS NULL;
