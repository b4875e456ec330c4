-- Call recordings: resumable upload sessions, and the recording stored for each call.
-- The files themselves live in the blob directory (`--blob-dir`), named by their SHA-256;
-- these tables say which call has which file. Same conventions as 0001.

-- An upload under way: the call's rep sends the file in chunks; `received` is how many
-- bytes the server holds safely (fsynced), where the next chunk starts.
CREATE TABLE recording_uploads (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    call_id      TEXT NOT NULL,
    uploader_id  TEXT NOT NULL REFERENCES users (id),
    sha256       TEXT NOT NULL,     -- hex, lower case: the whole file's declared hash
    size         BIGINT NOT NULL,   -- the whole file's declared length
    content_type TEXT NOT NULL,
    received     BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX recording_uploads_by_call ON recording_uploads (org_id, call_id, sha256);

-- The recording of a call, verified and stored (one per call; a newer upload replaces it).
CREATE TABLE call_recordings (
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    call_id      TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    size         BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    uploaded_at  BIGINT NOT NULL,
    uploaded_by  TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (org_id, call_id)
);
-- Which calls use a file (identical recordings share one).
CREATE INDEX call_recordings_by_sha ON call_recordings (sha256);
