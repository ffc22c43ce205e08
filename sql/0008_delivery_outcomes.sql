-- Honest delivery outcomes: a delivery whose conversation state the ordering guard did not take (the mirror
-- already held a state at least as new) and that changed nothing else is 'stale', not 'applied'; and the ledger
-- is listed per integration, newest first.
ALTER TABLE entregas_webhook_chatwoot DROP CONSTRAINT entregas_webhook_chatwoot_status_check;
ALTER TABLE entregas_webhook_chatwoot ADD CONSTRAINT entregas_webhook_chatwoot_status_check
    CHECK (status IN ('applied', 'stale', 'duplicate', 'ignored', 'rejected', 'failed'));

CREATE INDEX entregas_webhook_chatwoot_listing ON entregas_webhook_chatwoot (integration_id, id DESC);
CREATE INDEX entregas_webhook_chatwoot_outcome ON entregas_webhook_chatwoot (integration_id, status, id DESC);
