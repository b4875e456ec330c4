// The "add a note" box on a contact's page, and the list of its notes.
import { useState } from "react";
import { commands } from "../bindings";
import type { Note } from "../bindings";
import { errorMessage } from "../lib/api";
import { absoluteTime, relativeTime } from "../lib/format";

type Props = { contactId: string; onAdded: () => void | Promise<void> };

export function NoteBox({ contactId, onAdded }: Props) {
  const [body, setBody] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function save() {
    const text = body.trim();
    if (!text) return;
    setBusy(true);
    setError(null);
    try {
      await commands.addNote(contactId, text);
      setBody("");
      await onAdded();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="card note-box">
      <h2>Add a note</h2>
      <textarea
        className="input"
        rows={3}
        placeholder="What happened, what’s next…"
        data-testid="note-input"
        value={body}
        onChange={(e) => setBody(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) void save();
        }}
      />
      {error && <p className="error-text">{error}</p>}
      <div className="button-row">
        <button
          type="button"
          className="btn btn-primary"
          data-testid="add-note-button"
          disabled={busy || body.trim() === ""}
          onClick={() => void save()}
        >
          Add note
        </button>
        <span className="muted small">Ctrl+Enter to save</span>
      </div>
    </div>
  );
}

export function NotesList({ notes }: { notes: Note[] }) {
  const sorted = [...notes].sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
  const now = new Date();
  return (
    <ul className="notes-list" data-testid="notes">
      {sorted.map((n) => (
        <li key={n.id}>
          <div className="note-body">{n.body}</div>
          <time className="muted small" dateTime={n.created_at} title={absoluteTime(n.created_at)}>
            {relativeTime(n.created_at, now)}
          </time>
        </li>
      ))}
    </ul>
  );
}
