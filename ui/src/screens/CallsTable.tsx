// The calls placed to or received from a contact; each opens its review.
import type { Call, Disposition } from "../bindings";
import { absoluteTime, formatDuration } from "../lib/format";

function dispositionLabel(d: Disposition | null): string {
  if (!d) return "";
  if (d.kind === "other") return d.label;
  const s = d.kind.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function CallsTable({ calls, onOpen }: { calls: Call[]; onOpen?: (call: Call) => void }) {
  const sorted = [...calls].sort((a, b) => Date.parse(b.started_at) - Date.parse(a.started_at));
  return (
    <table className="table compact" data-testid="calls">
      <thead>
        <tr>
          <th>When</th>
          <th>Dir.</th>
          <th>Number</th>
          <th>Status</th>
          <th>Length</th>
          <th>Outcome</th>
        </tr>
      </thead>
      <tbody>
        {sorted.map((call) => (
          <tr key={call.id} title={call.notes || undefined}>
            <td>
              {onOpen ? (
                <button
                  type="button"
                  className="btn-link"
                  data-testid="call-open"
                  title="Review the call: score, evidence, transcript"
                  onClick={() => onOpen(call)}
                >
                  {absoluteTime(call.started_at)}
                </button>
              ) : (
                absoluteTime(call.started_at)
              )}
            </td>
            <td title={call.direction === "outbound" ? "Outbound" : "Inbound"}>
              {call.direction === "outbound" ? "Out" : "In"}
            </td>
            <td className="mono">{call.direction === "outbound" ? call.to : call.from}</td>
            <td>{call.status.replace(/_/g, " ")}</td>
            <td>{formatDuration(call.duration_secs)}</td>
            <td>{dispositionLabel(call.disposition)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
