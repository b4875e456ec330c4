-- v1: contacts, their lookup keys, the do-not-call list, the timeline and the sync outbox.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE contacts (
    id            TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    company       TEXT,
    title         TEXT,
    phones        TEXT NOT NULL DEFAULT '[]',  -- JSON [{e164, label}]
    emails        TEXT NOT NULL DEFAULT '[]',  -- JSON [{address, label}]
    tags          TEXT NOT NULL DEFAULT '[]',  -- JSON ["tag", …]
    deal_stage    TEXT NOT NULL DEFAULT 'lead',
    deal_value    INTEGER,                      -- minor units
    deal_currency TEXT,
    custom_fields TEXT NOT NULL DEFAULT '{}',  -- JSON {key: value}
    time_zone     TEXT,
    do_not_call   INTEGER NOT NULL DEFAULT 0,
    do_not_email  INTEGER NOT NULL DEFAULT 0,
    owner         TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    deleted_at    TEXT
) STRICT;
CREATE INDEX contacts_by_name ON contacts (name COLLATE NOCASE) WHERE deleted_at IS NULL;

-- Derived lookup keys of live contacts (phone E.164, e-mail, tag; all lower-cased), kept by
-- the repository in the same transaction as the contact (it deletes a contact's old keys
-- by value, so no second index is needed). Used for dedupe and tag filters.
CREATE TABLE contact_keys (
    kind       TEXT NOT NULL CHECK (kind IN ('phone', 'email', 'tag')),
    value      TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    PRIMARY KEY (kind, value, contact_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE dnc (
    e164     TEXT PRIMARY KEY,
    reason   TEXT,
    source   TEXT NOT NULL,
    added_at TEXT NOT NULL
) STRICT;

CREATE TABLE timeline_events (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    at         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    ref_id     TEXT,
    summary    TEXT NOT NULL
) STRICT;
CREATE INDEX timeline_by_contact ON timeline_events (contact_id, at);

-- Every change, written in the same transaction as the change itself; sync drains it in
-- seq order. Acknowledgements are cumulative: meta 'outbox_acked_seq' is the watermark.
-- Rows are never deleted below the newest, so seq (the rowid) only grows.
CREATE TABLE outbox (
    seq         INTEGER PRIMARY KEY,
    mutation_id TEXT NOT NULL,
    entity      TEXT NOT NULL,
    row_id      TEXT NOT NULL,
    op          TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    changed     TEXT NOT NULL,  -- JSON {field: new value}
    hlc         TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;
