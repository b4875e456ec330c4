// The call log: every call the phone placed or took (and every coached call), newest
// first, with its contact, outcome and talk time. A call with a score opens its review.
import { useEffect, useState } from "react";
import { commands } from "../bindings";
import type { CallLogEntry } from "../bindings";
import { errorMessage } from "../lib/api";
import { absoluteTime, formatDuration } from "../lib/format";
import { outcomeText, prettyAddress } from "../lib/phone";

type Props = {
  /** Changes when a call ends, so the log reloads. */
  version: number;
  onOpenContact: (id: string) => void;
  onOpenCall: (id: string) => void;
};

const LIMIT = 200;

export function CallLog({ version, onOpenContact, onOpenCall }: Props) {
  const [entries, setEntries] = useState<CallLogEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    commands
      .recentCalls(LIMIT)
      .then((e) => !cancelled && setEntries(e))
      .catch((e: unknown) => !cancelled && setError(errorMessage(e)));
    return () => {
      cancelled = true;
    };
  }, [version]);

  return (
    <section className="screen" data-testid="call-log">
      <header className="screen-header">
        <h1>Call log</h1>
        {entries && <span className="muted">{entries.length === LIMIT ? `Latest ${LIMIT}` : `${entries.length} calls`}</span>}
      </header>
      {error && <p className="problem-message" role="alert">{error}</p>}
      {entries?.length === 0 && <p className="muted">No calls yet. Calls you place or take appear here.</p>}
      {entries && entries.length > 0 && (
        <div className="card table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th>When</th>
                <th>Direction</th>
                <th>Who</th>
                <th>Outcome</th>
                <th>Talk time</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {entries.map(({ call, contact_name }) => {
                const other = prettyAddress(call.direction === "outbound" ? call.to : call.from);
                return (
                  <tr key={call.id} data-testid="call-log-row">
                    <td>{absoluteTime(call.started_at)}</td>
                    <td>{call.direction === "outbound" ? "Outgoing" : "Incoming"}</td>
                    <td>
                      {call.contact_id ? (
                        <button type="button" className="btn-link" onClick={() => onOpenContact(call.contact_id as string)}>
                          {contact_name ?? other}
                        </button>
                      ) : (
                        other || "—"
                      )}
                      {contact_name && other && <span className="muted"> {other}</span>}
                    </td>
                    <td data-testid="call-log-outcome">{outcomeText(call.status)}</td>
                    <td>{call.duration_secs > 0 ? formatDuration(call.duration_secs) : "—"}</td>
                    <td>
                      {(call.recording || call.notes) && (
                        <button type="button" className="btn btn-small" onClick={() => onOpenCall(call.id)}>
                          Review
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
