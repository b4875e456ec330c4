-- v3: full-text search over contacts, transcripts and notes. Rows are written by the
-- repositories (contacts need derived phone tokens); existing rows are back-filled by the
-- Rust step of this migration.

-- Contentless: the text lives in `contacts` already; contentless_delete lets the
-- repository delete and replace rows by rowid.
CREATE VIRTUAL TABLE contacts_fts USING fts5 (
    name, company, title, phones, emails, tags, custom,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE VIRTUAL TABLE utterances_fts USING fts5 (
    text,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE VIRTUAL TABLE notes_fts USING fts5 (
    body,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER utterances_fts_insert AFTER INSERT ON utterances BEGIN
    INSERT INTO utterances_fts (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER utterances_fts_update AFTER UPDATE OF text ON utterances BEGIN
    UPDATE utterances_fts SET text = new.text WHERE rowid = old.rowid;
END;
CREATE TRIGGER utterances_fts_delete AFTER DELETE ON utterances BEGIN
    DELETE FROM utterances_fts WHERE rowid = old.rowid;
END;

CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO notes_fts (rowid, body) VALUES (new.rowid, new.body);
END;
CREATE TRIGGER notes_fts_update AFTER UPDATE OF body, deleted_at ON notes BEGIN
    DELETE FROM notes_fts WHERE rowid = old.rowid;
    INSERT INTO notes_fts (rowid, body) SELECT new.rowid, new.body WHERE new.deleted_at IS NULL;
END;

INSERT INTO utterances_fts (rowid, text) SELECT rowid, text FROM utterances;
INSERT INTO notes_fts (rowid, body) SELECT rowid, body FROM notes WHERE deleted_at IS NULL;
