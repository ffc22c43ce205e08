-- The scheduled sync's message catch-up mark: per conversation, the highest Chatwoot message id up to which the
-- sync has read the conversation's messages from the REST API and stored every one it found.
--
-- Webhooks never move it. A message whose webhook was lost, even one older than messages that did arrive, has an
-- id above the mark, so the next sync that sees a newer message in Chatwoot reads from the mark and fills the gap.
-- Kept apart from conversas_chatwoot so that moving it neither rewrites the conversation row nor its updated_at.
CREATE TABLE mensagens_sincronizadas_chatwoot (
    account_id      integer     NOT NULL,
    conversation_id integer     NOT NULL,
    synced_through  bigint      NOT NULL CHECK (synced_through >= 0),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, conversation_id),
    FOREIGN KEY (account_id, conversation_id)
        REFERENCES conversas_chatwoot (account_id, conversation_id) ON DELETE CASCADE
);
