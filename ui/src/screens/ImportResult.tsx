// Import step 3: what the import did.
import type { ImportReport } from "../bindings";
import { ImportErrorList, ImportNoteList } from "./ImportIssues";
import { ImportStats } from "./ImportStats";

type Props = { report: ImportReport; onDone: () => void; onAnother: () => void };

export function ImportResult({ report, onDone, onAnother }: Props) {
  return (
    <div className="card" data-testid="import-report">
      <h2>Imported {report.file_name}</h2>
      <ImportStats report={report} preview={false} />
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
