-- The catalog's first schema. Times are Unix milliseconds (BIGINT); a
-- NULL expires_ms never expires.

-- One row per tenant ever seen: what its live files use and what its
-- uploads in flight have reserved, kept transactionally so that a quota
-- check reads one row.
CREATE TABLE tenants (
    tenant         TEXT    NOT NULL PRIMARY KEY,
    used_bytes     BIGINT  NOT NULL DEFAULT 0,
    used_files     BIGINT  NOT NULL DEFAULT 0,
    reserved_bytes BIGINT  NOT NULL DEFAULT 0,
    reserved_files BIGINT  NOT NULL DEFAULT 0
);

-- One row per stored file, pointing at its immutable object.
CREATE TABLE files (
    id            TEXT    NOT NULL PRIMARY KEY,
    tenant        TEXT    NOT NULL REFERENCES tenants (tenant),
    path          TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    link          TEXT    NOT NULL,
    object        TEXT    NOT NULL UNIQUE,
    size          BIGINT  NOT NULL,
    content_type  TEXT    NOT NULL,
    checksum      TEXT    NOT NULL,
    original_name TEXT    NOT NULL,
    created_ms    BIGINT  NOT NULL,
    expires_ms    BIGINT,
    UNIQUE (tenant, path, name),
    UNIQUE (link, name)
);
-- The janitor's scan for expired files, and the per-tenant expiry that
-- Begin, Reserve and Usage do.
CREATE INDEX files_expires ON files (expires_ms) WHERE expires_ms IS NOT NULL;
CREATE INDEX files_tenant_expires ON files (tenant, expires_ms) WHERE expires_ms IS NOT NULL;

-- Uploads in flight and what each has reserved, until lease_ms.
CREATE TABLE uploads (
    object   TEXT    NOT NULL PRIMARY KEY,
    tenant   TEXT    NOT NULL REFERENCES tenants (tenant),
    bytes    BIGINT  NOT NULL,
    -- 1, or 0 for an upload that replaces a live file: it reserved none.
    files    INTEGER NOT NULL DEFAULT 1 CHECK (files IN (0, 1)),
    lease_ms BIGINT  NOT NULL
);
CREATE INDEX uploads_lease ON uploads (lease_ms);

-- Objects no row points at any more, to delete from the store once due.
CREATE TABLE garbage (
    object TEXT    NOT NULL PRIMARY KEY,
    due_ms BIGINT  NOT NULL
);
CREATE INDEX garbage_due ON garbage (due_ms);

-- Idempotency records: file is the JSON of the File first stored.
CREATE TABLE records (
    tenant     TEXT    NOT NULL,
    scope      TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    file       TEXT    NOT NULL,
    expires_ms BIGINT  NOT NULL,
    PRIMARY KEY (tenant, scope, key)
);
CREATE INDEX records_expires ON records (expires_ms);

CREATE TABLE settings (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
