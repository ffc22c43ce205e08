-- Shared helpers and the connected Chatwoot accounts.

-- Stamps updated_at when a row really changes (an identical UPDATE keeps the old stamp).
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND ROW(NEW.*) IS NOT DISTINCT FROM ROW(OLD.*) THEN
        RETURN NEW;
    END IF;
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END;
$$;

-- One row per connected Chatwoot account. Secrets live in Secrets Manager (credentials_ref names the secret);
-- only local runs keep them in the row (credentials), never both.
CREATE TABLE integracoes_chatwoot (
    id                       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                     text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    base_url                 text        NOT NULL CHECK (base_url ~ '^https?://[^\s/]+'),
    account_id               integer     NOT NULL UNIQUE CHECK (account_id > 0),
    credentials_ref          text,
    credentials              jsonb,
    webhook_secret_previous_until timestamptz,
    legacy_unsigned          boolean     NOT NULL DEFAULT false,
    store_message_content    boolean     NOT NULL DEFAULT true,
    assignment_policy        jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(assignment_policy) = 'object'),
    active                   boolean     NOT NULL DEFAULT true,
    config_version           integer     NOT NULL DEFAULT 1,
    sync_status              text        NOT NULL DEFAULT 'never'
        CHECK (sync_status IN ('never', 'running', 'ok', 'error', 'auth_error')),
    sync_error               text,
    sync_cursor              timestamptz,
    sync_progress            jsonb,
    last_sync_at             timestamptz,
    last_full_sync_at        timestamptz,
    sync_lease_owner         text,
    sync_lease_until         timestamptz,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT integration_credentials_in_one_place
        CHECK ((credentials_ref IS NULL) <> (credentials IS NULL)),
    CONSTRAINT integration_credentials_is_object
        CHECK (credentials IS NULL OR jsonb_typeof(credentials) = 'object')
);

CREATE TRIGGER integracoes_chatwoot_updated_at
    BEFORE UPDATE ON integracoes_chatwoot
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE INDEX integracoes_chatwoot_active ON integracoes_chatwoot (id) WHERE active;

-- A revoked token parks the integration in auth_error; changing its configuration (URL, credentials, or an
-- explicit config_version bump when the secret changes in Secrets Manager) makes it eligible again.
CREATE FUNCTION integration_config_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.base_url IS DISTINCT FROM OLD.base_url
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

CREATE TRIGGER integracoes_chatwoot_config_changed
    BEFORE UPDATE ON integracoes_chatwoot
    FOR EACH ROW EXECUTE FUNCTION integration_config_changed();
