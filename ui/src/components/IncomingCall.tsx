// The incoming-call banner, over every screen: who is calling (the contact when the
// number is known) with Answer and Decline. Answering opens the phone screen.
import { useState } from "react";
import { commands } from "../bindings";
import type { CallView } from "../bindings";
import { errorMessage } from "../lib/api";
import { callOptions, callee, getCoachCalls, prettyAddress } from "../lib/phone";

type Props = {
  call: CallView;
  onAnswered: () => void;
};

export function IncomingCall({ call, onAnswered }: Props) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function act(answer: boolean) {
    setBusy(true);
    setError(null);
    try {
      if (answer) {
        await commands.phoneAnswer(call.id, callOptions(getCoachCalls()));
        onAnswered();
      } else {
        await commands.phoneReject(call.id);
      }
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="incoming-call" role="alertdialog" aria-label="Incoming call" data-testid="incoming-call">
      <div>
        <strong data-testid="incoming-call-name">{callee(call)}</strong>
        <span className="muted"> is calling{call.contact_name ? ` from ${prettyAddress(call.remote)}` : ""}</span>
        {error && <p className="problem-message" role="alert">{error}</p>}
      </div>
      <div className="button-row">
        <button type="button" className="btn btn-primary" data-testid="incoming-answer" disabled={busy}
          onClick={() => void act(true)}>
          Answer
        </button>
        <button type="button" className="btn btn-danger" data-testid="incoming-decline" disabled={busy}
          onClick={() => void act(false)}>
          Decline
        </button>
      </div>
    </div>
  );
}
