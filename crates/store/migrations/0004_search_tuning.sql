-- v4: search-index tuning for bulk writes. FTS5 buffers new terms in memory and writes
-- a segment to disk whenever the buffer passes `hashsize` (1 MiB by default); a
-- 100,000-contact import then writes hundreds of small segments and spends its time
-- merging them. A 32 MiB buffer writes a few large ones. The setting is stored in the
-- index's own config table, so it applies to every connection.
INSERT INTO contacts_fts (contacts_fts, rank) VALUES ('hashsize', 33554432);
