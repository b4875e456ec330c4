-- Which calls' recordings this device has delivered to the sync server (by hash, so a
-- re-recorded file goes again), or gave up on (the server found the file damaged).

CREATE TABLE recording_uploads (
    call_id   TEXT PRIMARY KEY,
    sha256    TEXT NOT NULL,
    state     TEXT NOT NULL CHECK (state IN ('uploaded', 'failed')),
    detail    TEXT,
    at        TEXT NOT NULL
) STRICT;
