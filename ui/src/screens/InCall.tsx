// The call in progress: who, how long, how it sounds (live MOS), and the controls —
// mute, hold, keypad (tones to the far end), blind transfer, hang up. A call that is
// coached also has the overlay open; this screen says so.
import { useEffect, useState } from "react";
import { commands } from "../bindings";
import type { CallView } from "../bindings";
import { errorMessage, getRegion } from "../lib/api";
import { formatDuration } from "../lib/format";
import { callStateText, callee, gradeText, prettyAddress } from "../lib/phone";
import { Keypad } from "../components/Keypad";

type Props = {
  call: CallView;
  onOpenContact: (id: string) => void;
};

/** Seconds since `sinceMs`, ticking once a second. */
function useElapsed(sinceMs: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (sinceMs === null) return;
    const t = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(t);
  }, [sinceMs]);
  return sinceMs === null ? 0 : Math.max(0, (now - sinceMs) / 1000);
}

export function InCall({ call, onOpenContact }: Props) {
  const [error, setError] = useState<string | null>(null);
  const [pad, setPad] = useState(false);
  const [sent, setSent] = useState("");
  const [transfer, setTransfer] = useState<string | null>(null);
  const elapsed = useElapsed(call.answered_at_ms);
  const connected = call.state === "connected";

  async function run(action: () => Promise<unknown>) {
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  const q = call.quality;
  return (
    <div className="card in-call" data-testid="in-call">
      <div className="in-call-who">
        <h2 data-testid="in-call-name">
          {call.contact_id ? (
            <button type="button" className="btn-link" onClick={() => onOpenContact(call.contact_id as string)}>
              {callee(call)}
            </button>
          ) : (
            callee(call)
          )}
        </h2>
        {(call.contact_name || call.remote_display) && <p className="muted">{prettyAddress(call.remote)}</p>}
      </div>
      <p className="in-call-state" data-testid="in-call-state">
        {call.held ? "On hold" : call.held_by_remote ? "They put you on hold" : callStateText(call.state)}
        {connected && (
          <span className="in-call-timer" data-testid="in-call-timer">
            {" "}
            {formatDuration(elapsed)}
          </span>
        )}
      </p>
      {q && (
        <p className={`call-quality call-quality-${q.grade}`} data-testid="in-call-quality"
          title={`Jitter ${q.jitter_ms} ms · loss ${q.loss_percent}%${q.rtt_ms !== null ? ` · round trip ${q.rtt_ms} ms` : ""}`}>
          <span className="call-quality-dot" aria-hidden="true" />
          Call quality: {gradeText(q.grade)}
          {q.mos !== null ? ` (MOS ${q.mos.toFixed(1)})` : ""}
          {q.loss_percent !== null && q.loss_percent >= 1 ? ` · ${q.loss_percent}% lost` : ""}
        </p>
      )}

      <div className="button-row in-call-controls">
        <button type="button" className={`btn${call.muted ? " btn-active" : ""}`} data-testid="in-call-mute"
          disabled={!connected} aria-pressed={call.muted}
          onClick={() => void run(() => commands.phoneMute(call.id, !call.muted))}>
          {call.muted ? "Unmute" : "Mute"}
        </button>
        <button type="button" className={`btn${call.held ? " btn-active" : ""}`} data-testid="in-call-hold"
          disabled={!connected} aria-pressed={call.held}
          onClick={() => void run(() => commands.phoneHold(call.id, !call.held))}>
          {call.held ? "Resume" : "Hold"}
        </button>
        <button type="button" className={`btn${pad ? " btn-active" : ""}`} data-testid="in-call-keypad"
          disabled={!connected} aria-pressed={pad} onClick={() => setPad(!pad)}>
          Keypad
        </button>
        <button type="button" className="btn" data-testid="in-call-transfer" disabled={!connected}
          onClick={() => setTransfer(transfer === null ? "" : null)}>
          Transfer
        </button>
        <button type="button" className="btn btn-danger" data-testid="in-call-hangup"
          onClick={() => void run(() => commands.phoneHangup(call.id))}>
          Hang up
        </button>
      </div>

      {pad && (
        <div className="in-call-pad">
          <Keypad testId="in-call-pad" onKey={(k) => {
            setSent((s) => (s + k).slice(-24));
            void run(() => commands.phoneDtmf(call.id, k));
          }} />
          <p className="muted" data-testid="in-call-sent">{sent ? `Sent: ${sent}` : "Tones go to the other side."}</p>
        </div>
      )}

      {transfer !== null && (
        <form className="transfer-row" onSubmit={(e) => {
          e.preventDefault();
          void run(() => commands.phoneTransfer(call.id, transfer, getRegion()));
        }}>
          <label className="field">
            <span>Transfer to</span>
            <input data-testid="in-call-transfer-target" value={transfer} autoFocus placeholder="Number or SIP address"
              onChange={(e) => setTransfer(e.target.value)} />
          </label>
          <button type="submit" className="btn btn-primary" data-testid="in-call-transfer-go" disabled={!transfer.trim()}>
            Transfer
          </button>
        </form>
      )}
      {error && <p className="problem-message" role="alert" data-testid="in-call-error">{error}</p>}
    </div>
  );
}
