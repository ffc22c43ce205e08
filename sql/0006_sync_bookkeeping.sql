-- The scheduled sync's own bookkeeping per mirrored conversation.
--
-- messages_synced_through: the highest Chatwoot message id up to which the sync has read the conversation's
-- messages from the REST API and stored every one it found. Webhooks never move it, so a message whose webhook was
-- lost, even one older than messages that did arrive, lies above it and is read again by the next catch-up.
--
-- seen_at: when a sync last found the conversation in Chatwoot's listing. A full pass that began at T soft-deletes
-- only live rows with neither seen_at nor synced_at nor updated_at at or after T, so confirming an unchanged
-- conversation costs this narrow row, not a rewrite of the mirror row.
CREATE TABLE sincronizacao_conversas_chatwoot (
    account_id              integer NOT NULL,
    conversation_id         integer NOT NULL,
    messages_synced_through bigint CHECK (messages_synced_through >= 0),
    seen_at                 timestamptz,
    PRIMARY KEY (account_id, conversation_id),
    FOREIGN KEY (account_id, conversation_id)
        REFERENCES conversas_chatwoot (account_id, conversation_id) ON DELETE CASCADE
);

-- A conversation's last message is the one with the highest Chatwoot id, as in Chatwoot itself (ids follow
-- creation; Conversation#last_non_activity_message is the last by id). Comparing (created_at, id) chose wrongly
-- once both paths store messages: webhooks carry created_at to the millisecond, the REST API the sync reads from
-- in whole seconds, so a later message read by the sync could lose to an earlier one of the same second.
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
    WHERE c.account_id = NEW.account_id AND c.conversation_id = NEW.conversation_id;
    RETURN NULL;
END;
$$;
