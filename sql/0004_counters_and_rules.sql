-- Counters kept exact by triggers, and the state transitions the database refuses.

-- A conversation weighs on its assignee while it is open or pending and not soft-deleted.
CREATE FUNCTION counts_toward_agent_load(status text, assignee_id integer, deleted_at timestamptz)
RETURNS boolean
IMMUTABLE LANGUAGE sql AS $$
    SELECT assignee_id IS NOT NULL AND deleted_at IS NULL AND status IN ('open', 'pending')
$$;

CREATE TYPE agent_load_delta AS (account_id integer, agent_id integer, delta integer);

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
    JOIN unnest(deltas) d ON u.account_id = d.account_id AND u.agent_id = d.agent_id
    ORDER BY u.account_id, u.agent_id
    FOR UPDATE OF u;
    UPDATE usuarios_chatwoot u
    SET active_conversations = u.active_conversations + d.delta
    FROM unnest(deltas) d
    WHERE u.account_id = d.account_id AND u.agent_id = d.agent_id;
END;
$$;

-- Statement-level triggers with transition tables: one pass per statement, so a batch upsert of a page of
-- conversations touches each agent row once. (A trigger with transition tables can serve only one event.)
CREATE FUNCTION conversas_agent_load_after_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM apply_agent_load_deltas(ARRAY(
        SELECT ROW(account_id, assignee_id, count(*))::agent_load_delta
        FROM new_rows
        WHERE counts_toward_agent_load(status, assignee_id, deleted_at)
        GROUP BY account_id, assignee_id));
    RETURN NULL;
END;
$$;

CREATE FUNCTION conversas_agent_load_after_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM apply_agent_load_deltas(ARRAY(
        SELECT ROW(account_id, agent_id, sum(delta))::agent_load_delta
        FROM (
            SELECT account_id, assignee_id AS agent_id, -1 AS delta
            FROM old_rows WHERE counts_toward_agent_load(status, assignee_id, deleted_at)
            UNION ALL
            SELECT account_id, assignee_id, 1
            FROM new_rows WHERE counts_toward_agent_load(status, assignee_id, deleted_at)
        ) changes
        GROUP BY account_id, agent_id
        HAVING sum(delta) <> 0));
    RETURN NULL;
END;
$$;

CREATE FUNCTION conversas_agent_load_after_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM apply_agent_load_deltas(ARRAY(
        SELECT ROW(account_id, assignee_id, -count(*))::agent_load_delta
        FROM old_rows
        WHERE counts_toward_agent_load(status, assignee_id, deleted_at)
        GROUP BY account_id, assignee_id));
    RETURN NULL;
END;
$$;

CREATE TRIGGER conversas_chatwoot_agent_load_insert
    AFTER INSERT ON conversas_chatwoot REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION conversas_agent_load_after_insert();
CREATE TRIGGER conversas_chatwoot_agent_load_update
    AFTER UPDATE ON conversas_chatwoot REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION conversas_agent_load_after_update();
CREATE TRIGGER conversas_chatwoot_agent_load_delete
    AFTER DELETE ON conversas_chatwoot REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION conversas_agent_load_after_delete();

-- An agent can appear after conversations already name it (webhooks arrive before the agent sync): count them.
CREATE FUNCTION usuarios_initial_load() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.active_conversations := (
        SELECT count(*) FROM conversas_chatwoot c
        WHERE c.account_id = NEW.account_id AND c.assignee_id = NEW.agent_id
          AND counts_toward_agent_load(c.status, c.assignee_id, c.deleted_at));
    RETURN NEW;
END;
$$;

CREATE TRIGGER usuarios_chatwoot_initial_load
    BEFORE INSERT ON usuarios_chatwoot
    FOR EACH ROW EXECUTE FUNCTION usuarios_initial_load();

-- Recomputes every agent's counter of an account from the rows; returns how many counters were wrong.
-- The triggers keep counters exact; this repairs the one race they cannot see (an agent row created while a
-- concurrent, uncommitted transaction assigns a conversation to it) and is run by each sync.
CREATE FUNCTION recount_agent_load(p_account_id integer) RETURNS integer
LANGUAGE sql AS $$
    WITH actual AS (
        SELECT u.account_id, u.agent_id, count(c.id)::integer AS load
        FROM usuarios_chatwoot u
        LEFT JOIN conversas_chatwoot c
            ON c.account_id = u.account_id AND c.assignee_id = u.agent_id
           AND counts_toward_agent_load(c.status, c.assignee_id, c.deleted_at)
        WHERE u.account_id = p_account_id
        GROUP BY u.account_id, u.agent_id
    ), fixed AS (
        UPDATE usuarios_chatwoot u
        SET active_conversations = actual.load
        FROM actual
        WHERE u.account_id = actual.account_id AND u.agent_id = actual.agent_id
          AND u.active_conversations <> actual.load
        RETURNING 1
    )
    SELECT count(*)::integer FROM fixed
$$;

-- Message counters and the conversation's last message, exact whatever the order and repetition of
-- deliveries, because each message row is inserted once.
CREATE FUNCTION mensagens_count_after_insert() RETURNS trigger
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
        last_message_id = CASE WHEN visible AND (c.last_message_at IS NULL
                OR (NEW.chatwoot_created_at, NEW.message_id) > (c.last_message_at, c.last_message_id))
            THEN NEW.message_id ELSE c.last_message_id END,
        last_message_preview = CASE WHEN visible AND (c.last_message_at IS NULL
                OR (NEW.chatwoot_created_at, NEW.message_id) > (c.last_message_at, c.last_message_id))
            THEN left(NEW.content, 280) ELSE c.last_message_preview END,
        last_message_at = CASE WHEN visible AND (c.last_message_at IS NULL
                OR (NEW.chatwoot_created_at, NEW.message_id) > (c.last_message_at, c.last_message_id))
            THEN NEW.chatwoot_created_at ELSE c.last_message_at END
    WHERE c.account_id = NEW.account_id AND c.conversation_id = NEW.conversation_id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER mensagens_chatwoot_count
    AFTER INSERT ON mensagens_chatwoot
    FOR EACH ROW EXECUTE FUNCTION mensagens_count_after_insert();

-- The preview follows an edited or deleted last message.
CREATE FUNCTION mensagens_preview_after_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.content IS DISTINCT FROM OLD.content OR NEW.deleted IS DISTINCT FROM OLD.deleted THEN
        UPDATE conversas_chatwoot
        SET last_message_preview = CASE WHEN NEW.deleted THEN NULL ELSE left(NEW.content, 280) END
        WHERE account_id = NEW.account_id AND conversation_id = NEW.conversation_id
          AND last_message_id = NEW.message_id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER mensagens_chatwoot_preview
    AFTER UPDATE ON mensagens_chatwoot
    FOR EACH ROW EXECUTE FUNCTION mensagens_preview_after_update();

-- Transitions the mirror refuses, with a message that says why (SQLSTATE CW001, mapped to HTTP 409).
CREATE FUNCTION conversas_validate_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NOT NULL
       AND NEW.assignee_id IS DISTINCT FROM OLD.assignee_id THEN
        RAISE EXCEPTION 'conversation % of account % is deleted and cannot be reassigned',
            OLD.conversation_id, OLD.account_id
            USING ERRCODE = 'CW001', HINT = 'restore the conversation (a sync restores it) before assigning it';
    END IF;
    IF NEW.sync_status = 'error' AND OLD.sync_status NOT IN ('syncing', 'error') THEN
        RAISE EXCEPTION 'sync_status of conversation % of account % cannot move from % to error',
            OLD.conversation_id, OLD.account_id, OLD.sync_status
            USING ERRCODE = 'CW001', HINT = 'a sync error can only follow syncing';
    END IF;
    IF NEW.account_id <> OLD.account_id OR NEW.conversation_id <> OLD.conversation_id THEN
        RAISE EXCEPTION 'conversation % of account % cannot change its Chatwoot key',
            OLD.conversation_id, OLD.account_id
            USING ERRCODE = 'CW001';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER conversas_chatwoot_validate_transition
    BEFORE UPDATE ON conversas_chatwoot
    FOR EACH ROW EXECUTE FUNCTION conversas_validate_transition();
