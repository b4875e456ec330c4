-- Organisations, people, devices and credentials; the synced rows and their change log.
-- One file for SQLite and PostgreSQL: plain types only (TEXT, BIGINT), booleans as 0/1,
-- times as milliseconds since the Unix epoch.

CREATE TABLE server_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE orgs (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    -- The organisation's change counter: every synced change takes the next number.
    change_seq       BIGINT NOT NULL DEFAULT 0,
    -- Whether call recordings leave reps' devices: 'upload' or 'keep_on_device'.
    recording_policy TEXT NOT NULL DEFAULT 'upload',
    created_at       BIGINT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('rep', 'manager', 'admin')),
    password_hash TEXT NOT NULL,
    active        BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_by_email ON users (email);
CREATE INDEX users_by_org ON users (org_id);

CREATE TABLE teams (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- A team's members; `manages` = 1 for its managers.
CREATE TABLE team_members (
    team_id TEXT NOT NULL REFERENCES teams (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    manages BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_by_user ON team_members (user_id);

CREATE TABLE invitations (
    token_hash TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    email      TEXT NOT NULL,
    role       TEXT NOT NULL,
    team_id    TEXT,
    created_by TEXT,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);

CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    user_id      TEXT NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    platform     TEXT NOT NULL,
    -- The highest outbox sequence number applied from this device.
    last_seq     BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX devices_by_user ON devices (user_id);

-- Refresh tokens, stored as SHA-256 hashes. Each is single use; `family` links a device's
-- chain so that a replayed (stolen) token revokes the chain.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    device_id  TEXT NOT NULL REFERENCES devices (id),
    family     TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    revoked_at BIGINT
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family);

-- Every synced row in its merged state. `seq` is the organisation change number of the
-- row's latest change, so "changes after cursor N" is "rows with seq > N": the change log,
-- compacted to each row's newest entry.
CREATE TABLE records (
    org_id   TEXT NOT NULL,
    entity   TEXT NOT NULL,
    row_id   TEXT NOT NULL,
    owner_id TEXT,              -- NULL: shared with the whole organisation
    parent_id TEXT,             -- the row this one hangs off (a transcript line's call, …)
    seq      BIGINT NOT NULL,
    hlc      TEXT NOT NULL,
    deleted  BIGINT NOT NULL,
    data     TEXT NOT NULL,     -- JSON object of fields
    clocks   TEXT NOT NULL,     -- JSON {field: HLC stamp}
    PRIMARY KEY (org_id, entity, row_id)
);
CREATE UNIQUE INDEX records_by_seq ON records (org_id, seq);
CREATE INDEX records_by_owner ON records (org_id, owner_id);
CREATE INDEX records_by_parent ON records (org_id, parent_id);

-- Rows a user may no longer see, in the same numbering as `records.seq`.
CREATE TABLE evictions (
    org_id    TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    viewer_id TEXT NOT NULL,
    entity    TEXT NOT NULL,
    row_id    TEXT NOT NULL,
    PRIMARY KEY (org_id, viewer_id, seq)
);

-- The dashboard's view of calls, kept up to date as calls, scorecards, contacts and
-- reviews sync.
CREATE TABLE call_facts (
    org_id        TEXT NOT NULL,
    call_id       TEXT NOT NULL,
    owner_id      TEXT NOT NULL,
    contact_id    TEXT,
    contact_name  TEXT,
    direction     TEXT NOT NULL,
    status        TEXT NOT NULL,
    from_addr     TEXT NOT NULL,
    to_addr       TEXT NOT NULL,
    started_at    BIGINT NOT NULL,
    duration_secs BIGINT NOT NULL,
    score         BIGINT,
    categories    TEXT,         -- JSON [{key, score, max}] of the call's scorecard
    reviewed      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, call_id)
);
CREATE INDEX call_facts_by_owner ON call_facts (org_id, owner_id, started_at);
CREATE INDEX call_facts_by_contact ON call_facts (org_id, contact_id);
