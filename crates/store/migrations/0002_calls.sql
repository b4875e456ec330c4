-- v2: calls and transcripts, notes, scorecards, follow-ups, personas, practice sessions.

CREATE TABLE calls (
    id            TEXT NOT NULL UNIQUE,
    contact_id    TEXT REFERENCES contacts (id),
    direction     TEXT NOT NULL,
    status        TEXT NOT NULL,
    from_addr     TEXT NOT NULL,
    to_addr       TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    answered_at   TEXT,
    ended_at      TEXT,
    duration_secs INTEGER NOT NULL DEFAULT 0,
    disposition   TEXT,            -- JSON Disposition
    recording     TEXT,            -- JSON RecordingRef
    notes         TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX calls_by_contact ON calls (contact_id, started_at);

CREATE TABLE utterances (
    id         TEXT NOT NULL UNIQUE,
    call_id    TEXT REFERENCES calls (id) ON DELETE CASCADE,
    practice_session_id TEXT,
    channel    TEXT NOT NULL,
    speaker    TEXT,
    start_ms   INTEGER NOT NULL,
    end_ms     INTEGER NOT NULL,
    text       TEXT NOT NULL,
    confidence REAL,
    words      TEXT NOT NULL DEFAULT '[]'  -- JSON [WordTiming]
) STRICT;
CREATE INDEX utterances_by_call ON utterances (call_id, start_ms);

CREATE TABLE notes (
    id         TEXT NOT NULL UNIQUE,
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    call_id    TEXT REFERENCES calls (id),
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
) STRICT;
CREATE INDEX notes_by_contact ON notes (contact_id, created_at);

-- Documents whose shape will grow with their features: key columns for queries, the rest JSON.
CREATE TABLE scorecards (
    id         TEXT PRIMARY KEY,
    subject_id TEXT NOT NULL,
    total      INTEGER NOT NULL,
    status     TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX scorecards_by_subject ON scorecards (subject_id);

CREATE TABLE follow_ups (
    id         TEXT PRIMARY KEY,
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    status     TEXT NOT NULL,
    data       TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX follow_ups_by_contact ON follow_ups (contact_id);

CREATE TABLE personas (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    data TEXT NOT NULL
) STRICT;

CREATE TABLE practice_sessions (
    id         TEXT PRIMARY KEY,
    persona_id TEXT NOT NULL,
    started_at TEXT NOT NULL,
    data       TEXT NOT NULL
) STRICT;
