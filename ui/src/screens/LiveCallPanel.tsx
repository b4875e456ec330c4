// Start and end a coached live call (a call running in another app, or only the mic):
// the coaching overlay opens on top while it runs; ending files the call (recording,
// transcript, scorecard) under the contact, or discards it. The overlay's own "End &
// file" ends it too; this panel hears about it through the ended event.
import { useEffect, useState } from "react";
import { commands, events } from "../bindings";
import type { FarEndSource, Filed, LiveCallInfo } from "../bindings";
import { errorMessage } from "../lib/api";
import { displayName } from "../lib/format";

type Props = {
  contactId: string | null;
  onFiled: (filed: Filed) => void;
};

type Phase =
  | { name: "idle" }
  | { name: "starting" }
  | { name: "live"; info: LiveCallInfo }
  | { name: "ending" };

export function LiveCallPanel({ contactId, onFiled }: Props) {
  const [farEnd, setFarEnd] = useState<FarEndSource>("speakers");
  const [phase, setPhase] = useState<Phase>({ name: "idle" });
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);

  useEffect(() => {
    let unlisten: (() => void) | null = null;
    let cancelled = false;
    void events.liveCallEndedEvent
      .listen((e) => {
        setPhase({ name: "idle" });
        if (e.payload.filed) {
          setNote(`Filed: scored ${e.payload.filed.total}/100.`);
          onFiled(e.payload.filed);
        } else {
          setNote(e.payload.message ?? "The call was discarded.");
        }
      })
      .then((u) => {
        if (cancelled) u();
        else unlisten = u;
      });
    // A call may already be running (started from another page).
    commands
      .liveCallInfo()
      .then((info) => {
        if (!cancelled && info) setPhase({ name: "live", info });
      })
      .catch(() => {});
    return () => {
      cancelled = true;
      unlisten?.();
    };
  }, [onFiled]);

  async function start() {
    setError(null);
    setNote(null);
    setPhase({ name: "starting" });
    try {
      const info = await commands.liveCallStart({ contact_id: contactId, far_end: farEnd, mic: null });
      setPhase({ name: "live", info });
    } catch (e) {
      setError(errorMessage(e));
      setPhase({ name: "idle" });
    }
  }

  async function end(save: boolean) {
    setPhase({ name: "ending" });
    try {
      await commands.liveCallStop(save);
    } catch (e) {
      // The call has ended either way (the ended event says what became of it).
      setError(errorMessage(e));
      setPhase({ name: "idle" });
    }
  }

  return (
    <div className="card live-call" data-testid="live-call">
      <h2>Coach a call</h2>
      {error && (
        <p className="error-banner" role="alert" data-testid="live-call-error">
          {error}
        </p>
      )}
      {note && <p className="muted" data-testid="live-call-note">{note}</p>}
      {phase.name === "live" ? (
        <>
          <p data-testid="live-call-status">
            Coaching now{phase.info.contact ? ` a call with ${displayName(phase.info.contact)}` : ""} — the overlay
            is open. Listening on {phase.info.rep_device}
            {phase.info.far_device ? ` and ${phase.info.far_device}` : ""} ({phase.info.engine}).
          </p>
          {phase.info.warning && <p className="muted">{phase.info.warning}</p>}
          <div className="row">
            <button type="button" className="btn btn-primary" data-testid="live-call-end" onClick={() => void end(true)}>
              End &amp; file
            </button>
            <button type="button" className="btn" data-testid="live-call-discard" onClick={() => void end(false)}>
              Discard
            </button>
            <button
              type="button"
              className="btn"
              data-testid="live-call-overlay"
              onClick={() => void commands.liveCallOverlay().catch((e: unknown) => setError(errorMessage(e)))}
            >
              Show overlay
            </button>
          </div>
        </>
      ) : (
        <>
          <label className="field">
            <span>The other side is heard from</span>
            <select
              data-testid="live-call-far-end"
              value={farEnd}
              onChange={(e) => setFarEnd(e.target.value as FarEndSource)}
              disabled={phase.name !== "idle"}
            >
              <option value="speakers">This computer’s sound (Zoom, Meet, a softphone)</option>
              <option value="none">Nowhere — only my microphone</option>
            </select>
          </label>
          <button
            type="button"
            className="btn btn-primary"
            data-testid="live-call-start"
            disabled={phase.name !== "idle"}
            onClick={() => void start()}
          >
            {phase.name === "starting" ? "Starting…" : phase.name === "ending" ? "Filing…" : "Start coaching"}
          </button>
        </>
      )}
    </div>
  );
}
