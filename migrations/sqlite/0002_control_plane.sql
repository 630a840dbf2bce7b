-- The control plane's model: workspaces (tenants) -> projects ->
-- applications -> environments -> services; tokens scoped to a workspace
-- and optionally a project, application and environment; an audit log; a
-- change counter other processes poll to drop cached tokens.
--
-- Token secrets are never stored. `secret_digest` is HMAC-SHA256, keyed
-- with the server's token key, of SHA-256(secret); rows copied from
-- 0001 still hold the unkeyed SHA-256 (`digest_alg = 'sha256'`) and are
-- re-keyed by the server the first time it opens the database.

CREATE TABLE workspaces (
    id                 TEXT PRIMARY KEY NOT NULL,
    created_at         INTEGER NOT NULL,
    daily_byte_quota   INTEGER CHECK (daily_byte_quota > 0),
    max_active_series  INTEGER CHECK (max_active_series > 0)
);
INSERT INTO workspaces (id, created_at) SELECT id, created_at FROM tenants;

CREATE TABLE projects (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
    name          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

CREATE TABLE applications (
    workspace_id      TEXT NOT NULL,
    project           TEXT NOT NULL,
    name              TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    daily_byte_quota  INTEGER CHECK (daily_byte_quota > 0),
    PRIMARY KEY (workspace_id, name),
    FOREIGN KEY (workspace_id, project) REFERENCES projects(workspace_id, name)
);

CREATE TABLE environments (
    workspace_id  TEXT NOT NULL,
    application   TEXT NOT NULL,
    name          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, application, name),
    FOREIGN KEY (workspace_id, application) REFERENCES applications(workspace_id, name)
);

CREATE TABLE services (
    workspace_id  TEXT NOT NULL,
    application   TEXT NOT NULL,
    environment   TEXT NOT NULL,
    name          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, application, environment, name),
    FOREIGN KEY (workspace_id, application, environment)
        REFERENCES environments(workspace_id, application, name)
);

CREATE TABLE tokens_v2 (
    id                  TEXT PRIMARY KEY NOT NULL,
    workspace_id        TEXT REFERENCES workspaces(id),
    kind                TEXT NOT NULL CHECK (kind IN ('ingest', 'report', 'admin', 'cli')),
    role                TEXT CHECK (role IN ('viewer', 'operator')),
    project             TEXT,
    application         TEXT,
    environment         TEXT,
    allowed_services    TEXT,
    rate_limit_per_sec  REAL CHECK (rate_limit_per_sec > 0),
    rate_burst          INTEGER CHECK (rate_burst > 0),
    daily_byte_quota    INTEGER CHECK (daily_byte_quota > 0),
    secret_digest       TEXT NOT NULL UNIQUE,
    digest_alg          TEXT NOT NULL DEFAULT 'hmac-sha256',
    description         TEXT NOT NULL DEFAULT '',
    created_at          INTEGER NOT NULL,
    expires_at          INTEGER,
    revoked_at          INTEGER,
    CHECK (workspace_id IS NOT NULL OR
           (project IS NULL AND application IS NULL AND environment IS NULL)),
    CHECK (kind = 'admin' OR kind = 'cli' OR workspace_id IS NOT NULL),
    CHECK ((kind = 'cli') = (role IS NOT NULL)),
    CHECK (environment IS NULL OR application IS NOT NULL),
    CHECK (application IS NULL OR project IS NOT NULL)
);
INSERT INTO tokens_v2 (id, workspace_id, kind, secret_digest, digest_alg, description,
                       created_at, expires_at, revoked_at)
    SELECT id, tenant_id, kind, secret_hash, 'sha256', description, created_at,
           expires_at, revoked_at
    FROM tokens;
DROP TABLE tokens;
DROP TABLE tenants;
ALTER TABLE tokens_v2 RENAME TO tokens;
CREATE INDEX tokens_workspace ON tokens(workspace_id);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            INTEGER NOT NULL,
    workspace_id  TEXT,
    token_id      TEXT,
    action        TEXT NOT NULL,
    target        TEXT NOT NULL DEFAULT '',
    address       TEXT NOT NULL DEFAULT '',
    outcome       TEXT NOT NULL
);
CREATE INDEX audit_log_workspace ON audit_log(workspace_id, at);

-- Daily ingested bytes, shared by every process using this database.
CREATE TABLE usage (
    workspace_id  TEXT NOT NULL,
    scope         TEXT NOT NULL,
    signal        TEXT NOT NULL,
    day           INTEGER NOT NULL,
    bytes         INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, scope, signal, day)
);

CREATE TABLE control_epoch (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    n   INTEGER NOT NULL
);
INSERT INTO control_epoch (id, n) VALUES (1, 0);
