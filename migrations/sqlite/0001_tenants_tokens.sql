-- Tenants (workspaces) and their tokens. Secrets are never stored: only a
-- SHA-256 digest of each token's secret.
CREATE TABLE IF NOT EXISTS tenants (
    id          TEXT PRIMARY KEY NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS tokens (
    id           TEXT PRIMARY KEY NOT NULL,
    tenant_id    TEXT REFERENCES tenants(id),
    kind         TEXT NOT NULL CHECK (kind IN ('ingest', 'report', 'admin')),
    secret_hash  TEXT NOT NULL UNIQUE,
    description  TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    CHECK ((kind = 'admin') = (tenant_id IS NULL))
);

CREATE INDEX IF NOT EXISTS tokens_tenant ON tokens(tenant_id);
