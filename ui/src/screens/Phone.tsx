// The phone: whether it is online, then either the call in progress (InCall) or the
// dialer (Dialer) with the most recent calls under it.
import { useState } from "react";
import { commands } from "../bindings";
import type { Board } from "../bindings";
import { errorMessage } from "../lib/api";
import { activeCall, registrationText } from "../lib/phone";
import { Dialer } from "./Dialer";
import type { DialPreset } from "./Dialer";
import { InCall } from "./InCall";

type Props = {
  board: Board;
  /** A number (and contact) to dial, from a contact's page. */
  preset: DialPreset | null;
  onOpenSettings: () => void;
  onOpenContact: (id: string) => void;
  onOpenLog: () => void;
};

export function Phone({ board, preset, onOpenSettings, onOpenContact, onOpenLog }: Props) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const call = activeCall(board);
  const reg = board.registration;

  async function toggleOnline() {
    setBusy(true);
    setError(null);
    try {
      if (reg.state === "online" || reg.state === "connecting") await commands.phoneGoOffline();
      else await commands.phoneGoOnline();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="screen phone-screen" data-testid="phone">
      <header className="screen-header">
        <h1>Phone</h1>
        <span className={`phone-status phone-status-${reg.state}`} data-testid="phone-status">
          {registrationText(reg)}
          {board.account && reg.state === "online" ? ` as ${board.account}` : ""}
        </span>
        <button type="button" className="btn" data-testid="phone-online" disabled={busy} onClick={() => void toggleOnline()}>
          {reg.state === "online" || reg.state === "connecting" ? "Go offline" : "Go online"}
        </button>
      </header>
      {reg.state === "failed" && (
        <p className="problem-message" role="alert">
          {reg.unauthorized ? "The SIP Domain refused the login. " : ""}
          <button type="button" className="btn-link" onClick={onOpenSettings}>
            Check Settings → Phone
          </button>
        </p>
      )}
      {error && (
        <p className="problem-message" role="alert" data-testid="phone-error">
          {error}
          {error.includes("Settings → Phone") && (
            <>
              {" "}
              <button type="button" className="btn-link" onClick={onOpenSettings}>
                Open it
              </button>
            </>
          )}
        </p>
      )}
      {call ? (
        <InCall call={call} onOpenContact={onOpenContact} />
      ) : (
        <Dialer preset={preset} onError={setError} onOpenContact={onOpenContact} onOpenLog={onOpenLog} />
      )}
    </section>
  );
}
