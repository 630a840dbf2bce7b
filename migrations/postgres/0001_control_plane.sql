-- The control plane on PostgreSQL: the same model as migrations/sqlite,
-- with row-level security on every tenant-owned table.
--
-- Every statement runs in a transaction that first sets, with
-- set_config(..., true) (SET LOCAL), either `sightline.workspace` to the
-- one workspace it acts for, or `sightline.scope` to 'all' (the server-wide
-- admin), or `sightline.token_digest` to the digest being authenticated.
-- The policies admit only rows of that workspace (or that one token), so a
-- statement that forgets its WHERE clause still sees nothing foreign.
-- FORCE makes the policies bind the tables' owner too; the server refuses
-- to run as a superuser or a BYPASSRLS role, which policies never bind.

CREATE TABLE workspaces (
    id                 TEXT PRIMARY KEY,
    created_at         BIGINT NOT NULL,
    daily_byte_quota   BIGINT CHECK (daily_byte_quota > 0),
    max_active_series  BIGINT CHECK (max_active_series > 0)
);

CREATE TABLE projects (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
    name          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

CREATE TABLE applications (
    workspace_id      TEXT NOT NULL,
    project           TEXT NOT NULL,
    name              TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    daily_byte_quota  BIGINT CHECK (daily_byte_quota > 0),
    PRIMARY KEY (workspace_id, name),
    FOREIGN KEY (workspace_id, project) REFERENCES projects(workspace_id, name)
);

CREATE TABLE environments (
    workspace_id  TEXT NOT NULL,
    application   TEXT NOT NULL,
    name          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, application, name),
    FOREIGN KEY (workspace_id, application) REFERENCES applications(workspace_id, name)
);

CREATE TABLE services (
    workspace_id  TEXT NOT NULL,
    application   TEXT NOT NULL,
    environment   TEXT NOT NULL,
    name          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, application, environment, name),
    FOREIGN KEY (workspace_id, application, environment)
        REFERENCES environments(workspace_id, application, name)
);

CREATE TABLE tokens (
    id                  TEXT PRIMARY KEY,
    workspace_id        TEXT REFERENCES workspaces(id),
    kind                TEXT NOT NULL CHECK (kind IN ('ingest', 'report', 'admin', 'cli')),
    role                TEXT CHECK (role IN ('viewer', 'operator')),
    project             TEXT,
    application         TEXT,
    environment         TEXT,
    allowed_services    TEXT,
    rate_limit_per_sec  DOUBLE PRECISION CHECK (rate_limit_per_sec > 0),
    rate_burst          BIGINT CHECK (rate_burst > 0),
    daily_byte_quota    BIGINT CHECK (daily_byte_quota > 0),
    secret_digest       TEXT NOT NULL UNIQUE,
    digest_alg          TEXT NOT NULL DEFAULT 'hmac-sha256',
    description         TEXT NOT NULL DEFAULT '',
    created_at          BIGINT NOT NULL,
    expires_at          BIGINT,
    revoked_at          BIGINT,
    CHECK (workspace_id IS NOT NULL OR
           (project IS NULL AND application IS NULL AND environment IS NULL)),
    CHECK (kind = 'admin' OR kind = 'cli' OR workspace_id IS NOT NULL),
    CHECK ((kind = 'cli') = (role IS NOT NULL)),
    CHECK (environment IS NULL OR application IS NOT NULL),
    CHECK (application IS NULL OR project IS NOT NULL)
);
CREATE INDEX tokens_workspace ON tokens(workspace_id);

CREATE TABLE audit_log (
    id            BIGSERIAL PRIMARY KEY,
    at            BIGINT NOT NULL,
    workspace_id  TEXT,
    token_id      TEXT,
    action        TEXT NOT NULL,
    target        TEXT NOT NULL DEFAULT '',
    address       TEXT NOT NULL DEFAULT '',
    outcome       TEXT NOT NULL
);
CREATE INDEX audit_log_workspace ON audit_log(workspace_id, at);

CREATE TABLE usage (
    workspace_id  TEXT NOT NULL,
    scope         TEXT NOT NULL,
    signal        TEXT NOT NULL,
    day           BIGINT NOT NULL,
    bytes         BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, scope, signal, day)
);

-- Not tenant-owned: a counter bumped by every revocation, polled by every
-- process to drop its cached tokens.
CREATE TABLE control_epoch (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    n   BIGINT NOT NULL
);
INSERT INTO control_epoch (id, n) VALUES (1, 0);

ALTER TABLE workspaces ENABLE ROW LEVEL SECURITY;
ALTER TABLE workspaces FORCE ROW LEVEL SECURITY;
CREATE POLICY workspaces_scope ON workspaces
    USING (current_setting('sightline.scope', true) = 'all'
           OR id = current_setting('sightline.workspace', true))
    WITH CHECK (current_setting('sightline.scope', true) = 'all'
           OR id = current_setting('sightline.workspace', true));

DO $$
DECLARE t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['projects', 'applications', 'environments', 'services',
                             'tokens', 'audit_log', 'usage']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY %I ON %I '
            'USING (current_setting(''sightline.scope'', true) = ''all'' '
            '       OR workspace_id = current_setting(''sightline.workspace'', true)) '
            'WITH CHECK (current_setting(''sightline.scope'', true) = ''all'' '
            '       OR workspace_id = current_setting(''sightline.workspace'', true))',
            t || '_scope', t);
    END LOOP;
END
$$;

-- Authentication looks a token up by digest before its workspace is known:
-- it may read exactly the one row whose digest it holds.
CREATE POLICY tokens_by_digest ON tokens FOR SELECT
    USING (secret_digest = current_setting('sightline.token_digest', true));
