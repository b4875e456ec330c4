// The counts of an import: what it would do (preview) or what it did (report).
import type { ImportReport } from "../bindings";

type Props = { report: ImportReport; preview: boolean; testId?: string };

export function ImportStats({ report, preview, testId }: Props) {
  return (
    <dl className="stats" data-testid={testId}>
      {preview && <Stat label="Rows" value={report.total_rows} />}
      <Stat label={preview ? "Will create" : "Created"} value={report.created} />
      <Stat label={preview ? "Will merge" : "Merged"} value={report.merged} />
      <Stat label={preview ? "Unchanged duplicates" : "Unchanged"} value={report.unchanged} />
      <Stat label={preview ? "Errors" : "Failed"} value={report.failed} tone={report.failed > 0 ? "bad" : undefined} />
      <Stat label="Blank" value={report.blank} />
      <Stat label="Do-not-call flagged" value={report.dnc_flagged} />
    </dl>
  );
}

function Stat({ label, value, tone }: { label: string; value: number; tone?: "bad" }) {
  return (
    <div className={`stat${tone ? ` stat-${tone}` : ""}`}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}
