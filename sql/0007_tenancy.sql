-- Tenancy: every integration belongs to a tenant (one of the platform's law firms), and the mirror is keyed by the
-- integration instead of the Chatwoot account id. An account id is unique only inside one Chatwoot installation
-- (every self-hosted Chatwoot starts at account 1), so two firms, or one firm with two servers, can both connect
-- an "account 1". The account id stays on the integration, as data: it is where the client sends its requests.

-- Integrations -----------------------------------------------------------------------------------------------

-- Integrations that exist before tenancy belong to tenant 'default' until an operator gives them their firm's
-- tenant (UPDATE integracoes_chatwoot SET tenant = '…' WHERE id = …); 'default' is the only tenant that may change.
ALTER TABLE integracoes_chatwoot
    ADD COLUMN tenant text NOT NULL DEFAULT 'default' CHECK (tenant ~ '^[A-Za-z0-9._-]{1,64}$');
ALTER TABLE integracoes_chatwoot ALTER COLUMN tenant DROP DEFAULT;

-- base_url is stored normalised (scheme and host lower-cased, no default port, no trailing slash), so that one
-- Chatwoot spelled two ways is one Chatwoot for the uniqueness below. The application writes it that way.
UPDATE integracoes_chatwoot i
SET base_url = n.normalised
FROM (
    SELECT id,
           lower(m[1]) || '://' || lower(m[2])
           || CASE WHEN m[3] IS NULL OR (lower(m[1]) = 'https' AND m[3] = '443') OR (lower(m[1]) = 'http' AND m[3] = '80')
                   THEN '' ELSE ':' || m[3] END
           || rtrim(COALESCE(m[4], ''), '/') AS normalised
    FROM (SELECT id, regexp_match(base_url, '^([A-Za-z]+)://([^/:?#]+)(?::([0-9]+))?(/[^?#]*)?') AS m
          FROM integracoes_chatwoot) parsed
    WHERE m IS NOT NULL
) n
WHERE i.id = n.id AND i.base_url IS DISTINCT FROM n.normalised;

-- Mirror tables: integration_id in place of account_id ------------------------------------------------------

ALTER TABLE usuarios_chatwoot ADD COLUMN integration_id bigint;
ALTER TABLE membros_inbox_chatwoot ADD COLUMN integration_id bigint;
ALTER TABLE membros_equipe_chatwoot ADD COLUMN integration_id bigint;
ALTER TABLE disponibilidade_historico_chatwoot ADD COLUMN integration_id bigint;
ALTER TABLE contatos_chatwoot ADD COLUMN integration_id bigint;
ALTER TABLE partes_chatwoot ADD COLUMN integration_id bigint;
ALTER TABLE conversas_chatwoot ADD COLUMN integration_id bigint;
ALTER TABLE mensagens_chatwoot ADD COLUMN integration_id bigint;
ALTER TABLE sincronizacao_conversas_chatwoot ADD COLUMN integration_id bigint;
ALTER TABLE eventos_chatwoot ADD COLUMN integration_id bigint, ADD COLUMN tenant text;

-- The triggers of today's schema would fire on these updates (stamps, counters, transition checks) and change
-- nothing they should: they are off for the conversion only.
ALTER TABLE usuarios_chatwoot DISABLE TRIGGER USER;
ALTER TABLE contatos_chatwoot DISABLE TRIGGER USER;
ALTER TABLE partes_chatwoot DISABLE TRIGGER USER;
ALTER TABLE conversas_chatwoot DISABLE TRIGGER USER;
ALTER TABLE mensagens_chatwoot DISABLE TRIGGER USER;

UPDATE usuarios_chatwoot t SET integration_id = i.id FROM integracoes_chatwoot i WHERE i.account_id = t.account_id;
UPDATE membros_inbox_chatwoot t SET integration_id = i.id FROM integracoes_chatwoot i WHERE i.account_id = t.account_id;
UPDATE membros_equipe_chatwoot t SET integration_id = i.id FROM integracoes_chatwoot i WHERE i.account_id = t.account_id;
UPDATE disponibilidade_historico_chatwoot t SET integration_id = i.id
FROM integracoes_chatwoot i WHERE i.account_id = t.account_id;
UPDATE contatos_chatwoot t SET integration_id = i.id FROM integracoes_chatwoot i WHERE i.account_id = t.account_id;
UPDATE partes_chatwoot t SET integration_id = i.id FROM integracoes_chatwoot i WHERE i.account_id = t.account_id;
UPDATE conversas_chatwoot t SET integration_id = i.id FROM integracoes_chatwoot i WHERE i.account_id = t.account_id;
UPDATE mensagens_chatwoot t SET integration_id = i.id FROM integracoes_chatwoot i WHERE i.account_id = t.account_id;
UPDATE sincronizacao_conversas_chatwoot t SET integration_id = i.id
FROM integracoes_chatwoot i WHERE i.account_id = t.account_id;
UPDATE eventos_chatwoot t SET integration_id = i.id, tenant = i.tenant
FROM integracoes_chatwoot i WHERE i.account_id = t.account_id;

ALTER TABLE usuarios_chatwoot ENABLE TRIGGER USER;
ALTER TABLE contatos_chatwoot ENABLE TRIGGER USER;
ALTER TABLE partes_chatwoot ENABLE TRIGGER USER;
ALTER TABLE conversas_chatwoot ENABLE TRIGGER USER;
ALTER TABLE mensagens_chatwoot ENABLE TRIGGER USER;

-- The foreign keys made every mirror row's account an integration's. Only the outbox had no foreign key: events
-- of an account no integration holds any more cannot be attributed to a tenant, so they go.
DELETE FROM eventos_chatwoot WHERE integration_id IS NULL;

-- Dropping account_id drops the keys, foreign keys and indexes built on it; they are rebuilt on integration_id.
ALTER TABLE sincronizacao_conversas_chatwoot DROP COLUMN account_id CASCADE;
ALTER TABLE mensagens_chatwoot DROP COLUMN account_id CASCADE;
ALTER TABLE conversas_chatwoot DROP COLUMN account_id CASCADE;
ALTER TABLE partes_chatwoot DROP COLUMN account_id CASCADE;
ALTER TABLE contatos_chatwoot DROP COLUMN account_id CASCADE;
ALTER TABLE disponibilidade_historico_chatwoot DROP COLUMN account_id CASCADE;
ALTER TABLE membros_equipe_chatwoot DROP COLUMN account_id CASCADE;
ALTER TABLE membros_inbox_chatwoot DROP COLUMN account_id CASCADE;
ALTER TABLE usuarios_chatwoot DROP COLUMN account_id CASCADE;
ALTER TABLE eventos_chatwoot DROP COLUMN account_id CASCADE;

ALTER TABLE integracoes_chatwoot DROP CONSTRAINT integracoes_chatwoot_account_id_key;
ALTER TABLE integracoes_chatwoot
    ADD CONSTRAINT integracoes_chatwoot_origin_key UNIQUE (tenant, base_url, account_id);
CREATE INDEX integracoes_chatwoot_tenant ON integracoes_chatwoot (tenant, id);

ALTER TABLE usuarios_chatwoot
    ALTER COLUMN integration_id SET NOT NULL,
    ADD PRIMARY KEY (integration_id, agent_id),
    ADD FOREIGN KEY (integration_id) REFERENCES integracoes_chatwoot (id) ON DELETE CASCADE;
CREATE INDEX usuarios_chatwoot_availability ON usuarios_chatwoot (integration_id, availability) WHERE active;
CREATE UNIQUE INDEX usuarios_chatwoot_user ON usuarios_chatwoot (integration_id, user_id) WHERE user_id IS NOT NULL;

ALTER TABLE membros_inbox_chatwoot
    ALTER COLUMN integration_id SET NOT NULL,
    ADD PRIMARY KEY (integration_id, inbox_id, agent_id),
    ADD FOREIGN KEY (integration_id, agent_id)
        REFERENCES usuarios_chatwoot (integration_id, agent_id) ON DELETE CASCADE;
CREATE INDEX membros_inbox_chatwoot_agent ON membros_inbox_chatwoot (integration_id, agent_id);

ALTER TABLE membros_equipe_chatwoot
    ALTER COLUMN integration_id SET NOT NULL,
    ADD PRIMARY KEY (integration_id, team_id, agent_id),
    ADD FOREIGN KEY (integration_id, agent_id)
        REFERENCES usuarios_chatwoot (integration_id, agent_id) ON DELETE CASCADE;
CREATE INDEX membros_equipe_chatwoot_agent ON membros_equipe_chatwoot (integration_id, agent_id);

ALTER TABLE disponibilidade_historico_chatwoot
    ALTER COLUMN integration_id SET NOT NULL,
    ADD FOREIGN KEY (integration_id, agent_id)
        REFERENCES usuarios_chatwoot (integration_id, agent_id) ON DELETE CASCADE;
CREATE INDEX disponibilidade_historico_chatwoot_agent
    ON disponibilidade_historico_chatwoot (integration_id, agent_id, changed_at DESC);

ALTER TABLE contatos_chatwoot
    ALTER COLUMN integration_id SET NOT NULL,
    ADD PRIMARY KEY (integration_id, contact_id),
    ADD FOREIGN KEY (integration_id) REFERENCES integracoes_chatwoot (id) ON DELETE CASCADE;
CREATE INDEX contatos_chatwoot_email ON contatos_chatwoot (integration_id, lower(email)) WHERE email IS NOT NULL;
CREATE INDEX contatos_chatwoot_phone
    ON contatos_chatwoot (integration_id, phone_number) WHERE phone_number IS NOT NULL;

ALTER TABLE partes_chatwoot
    ALTER COLUMN integration_id SET NOT NULL,
    ADD PRIMARY KEY (integration_id, contact_id),
    ADD FOREIGN KEY (integration_id) REFERENCES integracoes_chatwoot (id) ON DELETE CASCADE;
CREATE INDEX partes_chatwoot_parte ON partes_chatwoot (integration_id, parte_id);

ALTER TABLE conversas_chatwoot
    ALTER COLUMN integration_id SET NOT NULL,
    ADD CONSTRAINT conversas_chatwoot_integration_id_conversation_id_key UNIQUE (integration_id, conversation_id),
    ADD FOREIGN KEY (integration_id) REFERENCES integracoes_chatwoot (id) ON DELETE CASCADE;
CREATE INDEX conversas_chatwoot_activity
    ON conversas_chatwoot (integration_id, last_activity_at DESC, conversation_id DESC) WHERE deleted_at IS NULL;
CREATE INDEX conversas_chatwoot_created
    ON conversas_chatwoot (integration_id, created_at DESC, conversation_id DESC) WHERE deleted_at IS NULL;
CREATE INDEX conversas_chatwoot_status
    ON conversas_chatwoot (integration_id, status, last_activity_at DESC, conversation_id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX conversas_chatwoot_assignee
    ON conversas_chatwoot (integration_id, assignee_id, last_activity_at DESC, conversation_id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX conversas_chatwoot_inbox
    ON conversas_chatwoot (integration_id, inbox_id, last_activity_at DESC, conversation_id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX conversas_chatwoot_team
    ON conversas_chatwoot (integration_id, team_id, last_activity_at DESC, conversation_id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX conversas_chatwoot_priority
    ON conversas_chatwoot (integration_id, priority, last_activity_at DESC, conversation_id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX conversas_chatwoot_sync_status
    ON conversas_chatwoot (integration_id, sync_status, last_activity_at DESC, conversation_id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX conversas_chatwoot_parte
    ON conversas_chatwoot (integration_id, parte_id, last_activity_at DESC, conversation_id DESC)
    WHERE deleted_at IS NULL AND parte_id IS NOT NULL;
CREATE INDEX conversas_chatwoot_updated
    ON conversas_chatwoot (integration_id, updated_at) WHERE deleted_at IS NULL;
CREATE INDEX conversas_chatwoot_load
    ON conversas_chatwoot (integration_id, assignee_id)
    WHERE deleted_at IS NULL AND status IN ('open', 'pending') AND assignee_id IS NOT NULL;

ALTER TABLE mensagens_chatwoot
    ALTER COLUMN integration_id SET NOT NULL,
    ADD PRIMARY KEY (integration_id, message_id),
    ADD FOREIGN KEY (integration_id, conversation_id)
        REFERENCES conversas_chatwoot (integration_id, conversation_id) ON DELETE CASCADE;
CREATE INDEX mensagens_chatwoot_conversation
    ON mensagens_chatwoot (integration_id, conversation_id, chatwoot_created_at, message_id);

ALTER TABLE sincronizacao_conversas_chatwoot
    ALTER COLUMN integration_id SET NOT NULL,
    ADD PRIMARY KEY (integration_id, conversation_id),
    ADD FOREIGN KEY (integration_id, conversation_id)
        REFERENCES conversas_chatwoot (integration_id, conversation_id) ON DELETE CASCADE;

-- The outbox keeps an integration's events after the integration is gone (the event of its deletion among them):
-- no foreign key. The tenant is kept on each event so that a tenant's feed is one index range and still shows
-- the events of integrations it deleted.
ALTER TABLE eventos_chatwoot
    ALTER COLUMN integration_id SET NOT NULL,
    ALTER COLUMN tenant SET NOT NULL;
CREATE INDEX eventos_chatwoot_feed ON eventos_chatwoot (integration_id, tx_id, id);
CREATE INDEX eventos_chatwoot_tenant_feed ON eventos_chatwoot (tenant, tx_id, id);

-- Whoever appends an event names its integration; the tenant is taken from it.
CREATE FUNCTION eventos_fill_tenant() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.tenant IS NULL THEN
        NEW.tenant := (SELECT tenant FROM integracoes_chatwoot WHERE id = NEW.integration_id);
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER eventos_chatwoot_fill_tenant
    BEFORE INSERT ON eventos_chatwoot
    FOR EACH ROW EXECUTE FUNCTION eventos_fill_tenant();

-- A tenant owns its integration for good: moving one to another firm would hand over its mirror and history.
-- Only the placeholder of integrations older than tenancy may be replaced.
CREATE FUNCTION integracoes_keep_tenant() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.tenant IS DISTINCT FROM OLD.tenant AND OLD.tenant <> 'default' THEN
        RAISE EXCEPTION 'integration % belongs to tenant % and cannot move to another tenant', OLD.id, OLD.tenant
            USING ERRCODE = 'CW001';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER integracoes_chatwoot_keep_tenant
    BEFORE UPDATE OF tenant ON integracoes_chatwoot
    FOR EACH ROW EXECUTE FUNCTION integracoes_keep_tenant();

-- An integration given its firm takes its history along: the tenant's feed shows its events.
CREATE FUNCTION integracoes_move_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE eventos_chatwoot SET tenant = NEW.tenant WHERE integration_id = NEW.id AND tenant = OLD.tenant;
    RETURN NULL;
END;
$$;

CREATE TRIGGER integracoes_chatwoot_move_events
    AFTER UPDATE OF tenant ON integracoes_chatwoot
    FOR EACH ROW WHEN (NEW.tenant IS DISTINCT FROM OLD.tenant) EXECUTE FUNCTION integracoes_move_events();

-- Re-pointing an integration at another account is a configuration change like a new URL: it lifts an
-- auth_error and makes every cached client and secret stale.
CREATE OR REPLACE FUNCTION integration_config_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.base_url IS DISTINCT FROM OLD.base_url
       OR NEW.account_id IS DISTINCT FROM OLD.account_id
       OR NEW.credentials IS DISTINCT FROM OLD.credentials
       OR NEW.credentials_ref IS DISTINCT FROM OLD.credentials_ref THEN
        NEW.config_version := GREATEST(NEW.config_version, OLD.config_version + 1);
    END IF;
    IF NEW.config_version <> OLD.config_version AND OLD.sync_status = 'auth_error' THEN
        NEW.sync_status := 'never';
        NEW.sync_error := NULL;
    END IF;
    RETURN NEW;
END;
$$;

-- A session open across this migration (a pooled connection) keeps the plan this function cached for the old row
-- shape of every table it stamps; replacing the function drops those plans.
CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND ROW(NEW.*) IS NOT DISTINCT FROM ROW(OLD.*) THEN
        RETURN NEW;
    END IF;
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END;
$$;

-- Functions and triggers, keyed by integration ------------------------------------------------------------------

DROP FUNCTION apply_agent_load_deltas(agent_load_delta[]);
DROP TYPE agent_load_delta;
CREATE TYPE agent_load_delta AS (integration_id bigint, agent_id integer, delta integer);

-- Applies per-agent deltas, locking the agent rows in key order first so that concurrent transactions touching
-- several agents never deadlock on each other.
CREATE FUNCTION apply_agent_load_deltas(deltas agent_load_delta[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF deltas IS NULL OR cardinality(deltas) = 0 THEN
        RETURN;
    END IF;
    PERFORM 1
    FROM usuarios_chatwoot u
    JOIN unnest(deltas) d ON u.integration_id = d.integration_id AND u.agent_id = d.agent_id
    ORDER BY u.integration_id, u.agent_id
    FOR UPDATE OF u;
    UPDATE usuarios_chatwoot u
    SET active_conversations = u.active_conversations + d.delta
    FROM unnest(deltas) d
    WHERE u.integration_id = d.integration_id AND u.agent_id = d.agent_id;
END;
$$;

CREATE OR REPLACE FUNCTION conversas_agent_load_after_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM apply_agent_load_deltas(ARRAY(
        SELECT ROW(integration_id, assignee_id, count(*))::agent_load_delta
        FROM new_rows
        WHERE counts_toward_agent_load(status, assignee_id, deleted_at)
        GROUP BY integration_id, assignee_id));
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION conversas_agent_load_after_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM apply_agent_load_deltas(ARRAY(
        SELECT ROW(integration_id, agent_id, sum(delta))::agent_load_delta
        FROM (
            SELECT integration_id, assignee_id AS agent_id, -1 AS delta
            FROM old_rows WHERE counts_toward_agent_load(status, assignee_id, deleted_at)
            UNION ALL
            SELECT integration_id, assignee_id, 1
            FROM new_rows WHERE counts_toward_agent_load(status, assignee_id, deleted_at)
        ) changes
        GROUP BY integration_id, agent_id
        HAVING sum(delta) <> 0));
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION conversas_agent_load_after_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM apply_agent_load_deltas(ARRAY(
        SELECT ROW(integration_id, assignee_id, -count(*))::agent_load_delta
        FROM old_rows
        WHERE counts_toward_agent_load(status, assignee_id, deleted_at)
        GROUP BY integration_id, assignee_id));
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION usuarios_initial_load() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.active_conversations := (
        SELECT count(*) FROM conversas_chatwoot c
        WHERE c.integration_id = NEW.integration_id AND c.assignee_id = NEW.agent_id
          AND counts_toward_agent_load(c.status, c.assignee_id, c.deleted_at));
    RETURN NEW;
END;
$$;

DROP FUNCTION recount_agent_load(integer);

-- Recomputes every agent's counter of an integration from the rows; returns how many counters were wrong.
CREATE FUNCTION recount_agent_load(p_integration_id bigint) RETURNS integer
LANGUAGE sql AS $$
    WITH actual AS (
        SELECT u.integration_id, u.agent_id, count(c.id)::integer AS load
        FROM usuarios_chatwoot u
        LEFT JOIN conversas_chatwoot c
            ON c.integration_id = u.integration_id AND c.assignee_id = u.agent_id
           AND counts_toward_agent_load(c.status, c.assignee_id, c.deleted_at)
        WHERE u.integration_id = p_integration_id
        GROUP BY u.integration_id, u.agent_id
    ), fixed AS (
        UPDATE usuarios_chatwoot u
        SET active_conversations = actual.load
        FROM actual
        WHERE u.integration_id = actual.integration_id AND u.agent_id = actual.agent_id
          AND u.active_conversations <> actual.load
        RETURNING 1
    )
    SELECT count(*)::integer FROM fixed
$$;

CREATE OR REPLACE FUNCTION mensagens_count_after_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    counted boolean := NOT NEW.private AND NEW.message_type IN ('incoming', 'outgoing', 'template');
    visible boolean := NOT NEW.private AND NEW.message_type <> 'activity';
BEGIN
    -- The CASE expressions read the row being updated, so a concurrent insert into the same conversation is
    -- re-evaluated against the latest version of the row, never a stale snapshot.
    UPDATE conversas_chatwoot c
    SET messages_count = c.messages_count + counted::integer,
        private_notes_count = c.private_notes_count + NEW.private::integer,
        last_message_id = CASE WHEN visible AND (c.last_message_id IS NULL OR NEW.message_id > c.last_message_id)
            THEN NEW.message_id ELSE c.last_message_id END,
        last_message_preview = CASE WHEN visible AND (c.last_message_id IS NULL OR NEW.message_id > c.last_message_id)
            THEN left(NEW.content, 280) ELSE c.last_message_preview END,
        last_message_at = CASE WHEN visible AND (c.last_message_id IS NULL OR NEW.message_id > c.last_message_id)
            THEN NEW.chatwoot_created_at ELSE c.last_message_at END
    WHERE c.integration_id = NEW.integration_id AND c.conversation_id = NEW.conversation_id;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION mensagens_preview_after_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.content IS DISTINCT FROM OLD.content OR NEW.deleted IS DISTINCT FROM OLD.deleted THEN
        UPDATE conversas_chatwoot
        SET last_message_preview = CASE WHEN NEW.deleted THEN NULL ELSE left(NEW.content, 280) END
        WHERE integration_id = NEW.integration_id AND conversation_id = NEW.conversation_id
          AND last_message_id = NEW.message_id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION conversas_validate_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NOT NULL
       AND NEW.assignee_id IS DISTINCT FROM OLD.assignee_id THEN
        RAISE EXCEPTION 'conversation % of integration % is deleted and cannot be reassigned',
            OLD.conversation_id, OLD.integration_id
            USING ERRCODE = 'CW001', HINT = 'restore the conversation (a sync restores it) before assigning it';
    END IF;
    IF NEW.sync_status = 'error' AND OLD.sync_status NOT IN ('syncing', 'error') THEN
        RAISE EXCEPTION 'sync_status of conversation % of integration % cannot move from % to error',
            OLD.conversation_id, OLD.integration_id, OLD.sync_status
            USING ERRCODE = 'CW001', HINT = 'a sync error can only follow syncing';
    END IF;
    IF NEW.integration_id <> OLD.integration_id OR NEW.conversation_id <> OLD.conversation_id THEN
        RAISE EXCEPTION 'conversation % of integration % cannot change its key',
            OLD.conversation_id, OLD.integration_id
            USING ERRCODE = 'CW001';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION record_availability_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO disponibilidade_historico_chatwoot (integration_id, agent_id, previous, current)
        VALUES (NEW.integration_id, NEW.agent_id, NULL, NEW.availability);
    ELSIF NEW.availability IS DISTINCT FROM OLD.availability THEN
        INSERT INTO disponibilidade_historico_chatwoot (integration_id, agent_id, previous, current)
        VALUES (NEW.integration_id, NEW.agent_id, OLD.availability, NEW.availability);
    END IF;
    RETURN NULL;
END;
$$;
