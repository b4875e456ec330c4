// Import step 2: the column mapping, what the import would do, the first rows and every error.
import type { ColumnMapping, ImportReport, PreviewRow, RowOutcome } from "../bindings";
import { TARGET_OPTIONS, targetFromKey } from "../lib/fieldTargets";
import type { TargetKey } from "../lib/fieldTargets";
import { displayName } from "../lib/format";
import { ImportErrorList } from "./ImportIssues";
import { ImportStats } from "./ImportStats";

type Props = {
  report: ImportReport;
  mapping: ColumnMapping[];
  onMappingChange: (mapping: ColumnMapping[]) => void;
  disabled: boolean;
};

export function outcomeLabel(o: RowOutcome): string {
  switch (o.kind) {
    case "created":
      return "New contact";
    case "merged":
      return o.first_row ? `Merge (with row ${o.first_row})` : "Merge into existing";
    case "unchanged":
      return o.first_row ? `Duplicate of row ${o.first_row}` : "Duplicate, unchanged";
    case "failed":
      return `Error: ${o.reason}`;
    case "blank":
      return "Blank row";
  }
}

function previewName(r: PreviewRow): string {
  return r.fields ? displayName(r.fields) : "";
}

export function ImportMapping({ report, mapping, onMappingChange, disabled }: Props) {
  const rows = report.headers.map(
    (header, i): ColumnMapping =>
      mapping.find((m) => m.column === i) ?? { column: i, header, target: { field: "ignore" } },
  );

  function change(column: number, key: TargetKey) {
    onMappingChange(
      rows.map((m) => (m.column === column ? { ...m, target: targetFromKey(key, m.header) } : m)),
    );
  }

  return (
    <div className="import-map">
      <div className="import-columns card">
        <h2>Columns</h2>
        <table className="table compact">
          <thead>
            <tr>
              <th>#</th>
              <th>Column in file</th>
              <th>Imports as</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((m) => (
              <tr key={m.column}>
                <td className="muted">{m.column + 1}</td>
                <td>{m.header || <span className="muted">(no header)</span>}</td>
                <td>
                  <select
                    className="input input-sm"
                    aria-label={`Mapping for ${m.header}`}
                    data-testid={`mapping-select-${m.column}`}
                    value={m.target.field}
                    disabled={disabled}
                    onChange={(e) => change(m.column, e.target.value as TargetKey)}
                  >
                    {TARGET_OPTIONS.map((o) => (
                      <option key={o.key} value={o.key}>
                        {o.label}
                      </option>
                    ))}
                  </select>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <div className="import-preview-col">
        <div className="card">
          <h2>What will happen</h2>
          <ImportStats report={report} preview testId="import-summary" />
          <p className="muted small">
            Encoding {report.encoding} · delimiter {report.delimiter === "tab" ? "tab" : `“${report.delimiter}”`}
          </p>
        </div>

        <div className="card">
          <h2>First rows</h2>
          <div className="table-wrap">
            <table className="table compact" data-testid="import-preview">
              <thead>
                <tr>
                  <th>Row</th>
                  <th>Outcome</th>
                  <th>Name</th>
                  <th>Phones</th>
                  <th>E-mails</th>
                </tr>
              </thead>
              <tbody>
                {report.preview.slice(0, 20).map((r) => (
                  <tr key={r.row} className={`outcome-${r.outcome.kind}`}>
                    <td className="muted">{r.row}</td>
                    <td>{outcomeLabel(r.outcome)}</td>
                    <td>{previewName(r)}</td>
                    <td className="mono">{r.fields?.phones.map((p) => p.e164).join(", ")}</td>
                    <td>{r.fields?.emails.map((e) => e.address).join(", ")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <ImportErrorList errors={report.errors} />
        </div>
      </div>
    </div>
  );
}
