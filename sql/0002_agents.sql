-- Agents (Chatwoot users of an account), their inbox and team membership, and availability history.

CREATE TABLE usuarios_chatwoot (
    account_id           integer     NOT NULL REFERENCES integracoes_chatwoot (account_id) ON DELETE CASCADE,
    agent_id             integer     NOT NULL CHECK (agent_id > 0),
    name                 text        NOT NULL DEFAULT '',
    email                text,
    role                 text        NOT NULL DEFAULT 'agent' CHECK (role IN ('agent', 'administrator')),
    availability         text        NOT NULL DEFAULT 'offline' CHECK (availability IN ('online', 'offline', 'busy')),
    capacity             integer     CHECK (capacity BETWEEN 0 AND 10000),
    skills               text[]      NOT NULL DEFAULT '{}',
    -- Open and pending, not deleted conversations assigned to the agent; kept exact by triggers on conversas_chatwoot.
    active_conversations integer     NOT NULL DEFAULT 0 CHECK (active_conversations >= 0),
    last_assigned_at     timestamptz,
    user_id              text        CHECK (user_id IS NULL OR length(user_id) BETWEEN 1 AND 200),
    -- false once the agent no longer belongs to the account in Chatwoot (rows are kept for history and links).
    active               boolean     NOT NULL DEFAULT true,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, agent_id)
);

CREATE TRIGGER usuarios_chatwoot_updated_at
    BEFORE UPDATE ON usuarios_chatwoot
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE INDEX usuarios_chatwoot_availability ON usuarios_chatwoot (account_id, availability) WHERE active;
CREATE INDEX usuarios_chatwoot_skills ON usuarios_chatwoot USING gin (skills);
CREATE UNIQUE INDEX usuarios_chatwoot_user ON usuarios_chatwoot (account_id, user_id) WHERE user_id IS NOT NULL;

CREATE TABLE membros_inbox_chatwoot (
    account_id integer NOT NULL,
    inbox_id   integer NOT NULL CHECK (inbox_id > 0),
    agent_id   integer NOT NULL,
    PRIMARY KEY (account_id, inbox_id, agent_id),
    FOREIGN KEY (account_id, agent_id) REFERENCES usuarios_chatwoot (account_id, agent_id) ON DELETE CASCADE
);

CREATE INDEX membros_inbox_chatwoot_agent ON membros_inbox_chatwoot (account_id, agent_id);

CREATE TABLE membros_equipe_chatwoot (
    account_id integer NOT NULL,
    team_id    integer NOT NULL CHECK (team_id > 0),
    agent_id   integer NOT NULL,
    PRIMARY KEY (account_id, team_id, agent_id),
    FOREIGN KEY (account_id, agent_id) REFERENCES usuarios_chatwoot (account_id, agent_id) ON DELETE CASCADE
);

CREATE INDEX membros_equipe_chatwoot_agent ON membros_equipe_chatwoot (account_id, agent_id);

CREATE TABLE disponibilidade_historico_chatwoot (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id integer     NOT NULL,
    agent_id   integer     NOT NULL,
    previous   text        CHECK (previous IN ('online', 'offline', 'busy')),
    current    text        NOT NULL CHECK (current IN ('online', 'offline', 'busy')),
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (account_id, agent_id) REFERENCES usuarios_chatwoot (account_id, agent_id) ON DELETE CASCADE
);

CREATE INDEX disponibilidade_historico_chatwoot_agent
    ON disponibilidade_historico_chatwoot (account_id, agent_id, changed_at DESC);

CREATE FUNCTION record_availability_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO disponibilidade_historico_chatwoot (account_id, agent_id, previous, current)
        VALUES (NEW.account_id, NEW.agent_id, NULL, NEW.availability);
    ELSIF NEW.availability IS DISTINCT FROM OLD.availability THEN
        INSERT INTO disponibilidade_historico_chatwoot (account_id, agent_id, previous, current)
        VALUES (NEW.account_id, NEW.agent_id, OLD.availability, NEW.availability);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER usuarios_chatwoot_availability_history
    AFTER INSERT OR UPDATE OF availability ON usuarios_chatwoot
    FOR EACH ROW EXECUTE FUNCTION record_availability_change();
