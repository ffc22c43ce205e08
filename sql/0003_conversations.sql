-- Contacts, party links, the conversation mirror and its messages.

CREATE TABLE contatos_chatwoot (
    account_id   integer     NOT NULL REFERENCES integracoes_chatwoot (account_id) ON DELETE CASCADE,
    contact_id   integer     NOT NULL CHECK (contact_id > 0),
    name         text,
    email        text,
    phone_number text,
    identifier   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, contact_id)
);

CREATE TRIGGER contatos_chatwoot_updated_at
    BEFORE UPDATE ON contatos_chatwoot
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE INDEX contatos_chatwoot_email ON contatos_chatwoot (account_id, lower(email)) WHERE email IS NOT NULL;
CREATE INDEX contatos_chatwoot_phone ON contatos_chatwoot (account_id, phone_number) WHERE phone_number IS NOT NULL;

-- The legal platform's party (parte) a Chatwoot contact belongs to.
CREATE TABLE partes_chatwoot (
    account_id integer     NOT NULL REFERENCES integracoes_chatwoot (account_id) ON DELETE CASCADE,
    contact_id integer     NOT NULL CHECK (contact_id > 0),
    parte_id   text        NOT NULL CHECK (length(parte_id) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, contact_id)
);

CREATE TRIGGER partes_chatwoot_updated_at
    BEFORE UPDATE ON partes_chatwoot
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE INDEX partes_chatwoot_parte ON partes_chatwoot (account_id, parte_id);

-- The mirror. (account_id, conversation_id) is Chatwoot's key: conversation_id is the per-account display id.
CREATE TABLE conversas_chatwoot (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id              integer     NOT NULL REFERENCES integracoes_chatwoot (account_id) ON DELETE CASCADE,
    conversation_id         integer     NOT NULL CHECK (conversation_id > 0),
    inbox_id                integer,
    contact_id              integer,
    status                  text        NOT NULL CHECK (status IN ('open', 'resolved', 'pending', 'snoozed')),
    priority                text        CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    assignee_id             integer     CHECK (assignee_id > 0),
    agent_bot_id            integer,
    team_id                 integer,
    labels                  text[]      NOT NULL DEFAULT '{}',
    custom_attributes       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    unread_count            integer     NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
    -- Distinct incoming, outgoing and template messages; private notes apart. Kept by triggers on mensagens_chatwoot.
    messages_count          integer     NOT NULL DEFAULT 0 CHECK (messages_count >= 0),
    private_notes_count     integer     NOT NULL DEFAULT 0 CHECK (private_notes_count >= 0),
    last_message_id         bigint,
    last_message_at         timestamptz,
    last_message_preview    text,
    last_activity_at        timestamptz NOT NULL,
    waiting_since           timestamptz,
    snoozed_until           timestamptz,
    first_reply_created_at  timestamptz,
    chatwoot_created_at     timestamptz NOT NULL,
    -- Chatwoot's updated_at: the ordering guard. A write only lands when its updated_at is >= this one.
    chatwoot_updated_at     timestamptz NOT NULL,
    sync_status             text        NOT NULL DEFAULT 'pending'
        CHECK (sync_status IN ('pending', 'syncing', 'synced', 'error')),
    sync_error              text,
    synced_at               timestamptz,
    assignment_error        text,
    parte_id                text        CHECK (parte_id IS NULL OR length(parte_id) BETWEEN 1 AND 100),
    -- Soft delete: 'api' when the platform removed it from the mirror (it stays removed), 'sync' when the full
    -- pass no longer found it in Chatwoot (it is restored if it comes back).
    deleted_at              timestamptz,
    deleted_by              text        CHECK (deleted_by IN ('api', 'sync')),
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, conversation_id),
    CONSTRAINT sync_error_only_in_error CHECK (sync_status = 'error' OR sync_error IS NULL),
    CONSTRAINT deleted_by_with_deleted_at CHECK ((deleted_at IS NULL) = (deleted_by IS NULL))
);

CREATE TRIGGER conversas_chatwoot_updated_at
    BEFORE UPDATE ON conversas_chatwoot
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Indexes for the API's list: every filter leads with the account and ends with the keyset sort keys, and
-- soft-deleted rows (never listed) stay out of them.
CREATE INDEX conversas_chatwoot_activity
    ON conversas_chatwoot (account_id, last_activity_at DESC, conversation_id DESC) WHERE deleted_at IS NULL;
CREATE INDEX conversas_chatwoot_created
    ON conversas_chatwoot (account_id, created_at DESC, conversation_id DESC) WHERE deleted_at IS NULL;
CREATE INDEX conversas_chatwoot_status
    ON conversas_chatwoot (account_id, status, last_activity_at DESC, conversation_id DESC) WHERE deleted_at IS NULL;
CREATE INDEX conversas_chatwoot_assignee
    ON conversas_chatwoot (account_id, assignee_id, last_activity_at DESC, conversation_id DESC) WHERE deleted_at IS NULL;
CREATE INDEX conversas_chatwoot_inbox
    ON conversas_chatwoot (account_id, inbox_id, last_activity_at DESC, conversation_id DESC) WHERE deleted_at IS NULL;
CREATE INDEX conversas_chatwoot_team
    ON conversas_chatwoot (account_id, team_id, last_activity_at DESC, conversation_id DESC) WHERE deleted_at IS NULL;
CREATE INDEX conversas_chatwoot_priority
    ON conversas_chatwoot (account_id, priority, last_activity_at DESC, conversation_id DESC) WHERE deleted_at IS NULL;
CREATE INDEX conversas_chatwoot_sync_status
    ON conversas_chatwoot (account_id, sync_status, last_activity_at DESC, conversation_id DESC) WHERE deleted_at IS NULL;
CREATE INDEX conversas_chatwoot_parte
    ON conversas_chatwoot (account_id, parte_id, last_activity_at DESC, conversation_id DESC)
    WHERE deleted_at IS NULL AND parte_id IS NOT NULL;
CREATE INDEX conversas_chatwoot_updated
    ON conversas_chatwoot (account_id, updated_at) WHERE deleted_at IS NULL;
CREATE INDEX conversas_chatwoot_labels ON conversas_chatwoot USING gin (labels) WHERE deleted_at IS NULL;
-- The agent load counter recount and the capacity checks look conversations up by assignee.
CREATE INDEX conversas_chatwoot_load
    ON conversas_chatwoot (account_id, assignee_id)
    WHERE deleted_at IS NULL AND status IN ('open', 'pending') AND assignee_id IS NOT NULL;

-- Messages, once per Chatwoot message id. content is NULL when the integration does not store content.
CREATE TABLE mensagens_chatwoot (
    account_id          integer     NOT NULL,
    message_id          bigint      NOT NULL CHECK (message_id > 0),
    conversation_id     integer     NOT NULL,
    message_type        text        NOT NULL CHECK (message_type IN ('incoming', 'outgoing', 'activity', 'template')),
    private             boolean     NOT NULL DEFAULT false,
    content_type        text,
    content             text,
    sender_type         text,
    sender_id           integer,
    deleted             boolean     NOT NULL DEFAULT false,
    chatwoot_created_at timestamptz NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, message_id),
    FOREIGN KEY (account_id, conversation_id)
        REFERENCES conversas_chatwoot (account_id, conversation_id) ON DELETE CASCADE
);

CREATE TRIGGER mensagens_chatwoot_updated_at
    BEFORE UPDATE ON mensagens_chatwoot
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE INDEX mensagens_chatwoot_conversation
    ON mensagens_chatwoot (account_id, conversation_id, chatwoot_created_at, message_id);
