// Import step 3: what the import did.
import type { ImportReport } from "../bindings";
import { ImportErrorList, ImportNoteList } from "./ImportIssues";
import { Stat } from "./ImportMapping";

type Props = { report: ImportReport; onDone: () => void; onAnother: () => void };

export function ImportResult({ report, onDone, onAnother }: Props) {
  return (
    <div className="card" data-testid="import-report">
      <h2>Imported {report.file_name}</h2>
      <dl className="stats">
        <Stat label="Created" value={report.created} />
        <Stat label="Merged" value={report.merged} />
        <Stat label="Unchanged" value={report.unchanged} />
        <Stat label="Failed" value={report.failed} tone={report.failed > 0 ? "bad" : undefined} />
        <Stat label="Blank" value={report.blank} />
        <Stat label="Do-not-call flagged" value={report.dnc_flagged} />
      </dl>
      <p className="muted small" data-testid="import-elapsed">
        {report.total_rows} rows in {report.elapsed_ms} ms
      </p>
      <ImportErrorList errors={report.errors} />
      <ImportNoteList notes={report.notes} />
      <div className="button-row">
        <button type="button" className="btn btn-primary" data-testid="import-done-button" onClick={onDone}>
          View contacts
        </button>
        <button type="button" className="btn" onClick={onAnother}>
          Import another file
        </button>
      </div>
    </div>
  );
}
