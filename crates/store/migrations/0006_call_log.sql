-- The call log (newest calls first, across contacts) reads calls by start time.
CREATE INDEX calls_by_start ON calls (started_at);
