// Row-by-row import messages: the error list (and notes) shown in preview and report.
import type { RowIssue } from "../bindings";

export function ImportErrorList({ errors }: { errors: RowIssue[] }) {
  if (errors.length === 0) return null;
  return (
    <div className="issues">
      <h3>
        {errors.length} {errors.length === 1 ? "row" : "rows"} with errors
      </h3>
      <ul className="issue-list" data-testid="import-errors">
        {errors.map((e, i) => (
          <li key={`${e.row}-${i}`} data-testid="import-error-row">
            Row {e.row}: {e.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function ImportNoteList({ notes }: { notes: RowIssue[] }) {
  if (notes.length === 0) return null;
  return (
    <div className="issues">
      <h3>Notes</h3>
      <ul className="issue-list notes" data-testid="import-notes">
        {notes.map((n, i) => (
          <li key={`${n.row}-${i}`}>
            Row {n.row}: {n.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
