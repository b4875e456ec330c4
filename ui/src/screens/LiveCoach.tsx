// Coach a call that is not with a saved contact (a new lead, a practice run): the live
// call panel, then the filed call's review.
import { useCallback, useState } from "react";
import type { Filed } from "../bindings";
import { CallReview } from "./CallReview";
import { LiveCallPanel } from "./LiveCallPanel";

export function LiveCoach() {
  const [filed, setFiled] = useState<Filed | null>(null);
  const onFiled = useCallback((f: Filed) => setFiled(f), []);
  if (filed) {
    return <CallReview id={filed.call_id} onBack={() => setFiled(null)} />;
  }
  return (
    <section className="screen" data-testid="live-coach">
      <header className="screen-header">
        <h1>Coach a call</h1>
      </header>
      <p className="muted">
        For a call with a saved contact, start from the contact’s page so the call is filed under them.
      </p>
      <LiveCallPanel contactId={null} onFiled={onFiled} />
    </section>
  );
}
