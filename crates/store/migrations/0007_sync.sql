-- Sync with the team backend: managers' reviews of this rep's calls (written on the
-- dashboard, arriving by pull), and pulled rows waiting for a row they hang off.

CREATE TABLE reviews (
    id          TEXT PRIMARY KEY,
    call_id     TEXT NOT NULL,
    author_id   TEXT NOT NULL,
    author_name TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;
CREATE INDEX reviews_by_call ON reviews (call_id, created_at);

-- A pulled row whose parent (a call's contact, a transcript line's call) has not arrived
-- yet; applied again after every later pull until it fits.
CREATE TABLE sync_parked (
    entity TEXT NOT NULL,
    row_id TEXT NOT NULL,
    change TEXT NOT NULL,   -- JSON {data, deleted, hlc}
    PRIMARY KEY (entity, row_id)
) STRICT;
