-- v5: no lookup-key table. Finding contacts by phone, e-mail or tag goes through the
-- contacts search index, which holds those words already, and is confirmed on the
-- contact's row; the count of live contacts per tag (the filter list) gets its own
-- small table. A bulk import wrote four key rows per contact into one large index —
-- a third of its writing time — and now adds to a handful of tag counters instead.
-- Kept by the repository in the same transaction as the contact. Tags are lower-cased.
CREATE TABLE tag_counts (
    tag      TEXT PRIMARY KEY,
    contacts INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO tag_counts (tag, contacts)
    SELECT value, count(*) FROM contact_keys WHERE kind = 'tag' GROUP BY value;

DROP TABLE contact_keys;
