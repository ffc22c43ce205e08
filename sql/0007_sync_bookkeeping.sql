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
