// The do-not-call list: add a number (as typed, with the default region for numbers
// without a country code; contacts holding it are flagged), search it, and remove
// numbers. The same list the CSV import scrubs against and `cuecard dnc` manages.
import { useEffect, useMemo, useState } from "react";
import type { FormEvent } from "react";
import { commands } from "../bindings";
import type { DncEntry } from "../bindings";
import { errorMessage, getRegion, setRegion } from "../lib/api";
import { absoluteTime } from "../lib/format";
import { RegionOptions } from "../components/RegionOptions";

const SOURCE: Record<DncEntry["source"], string> = {
  manual: "added by hand",
  import: "from a list file",
  opt_out: "the contact opted out",
};

export function DoNotCall() {
  const [entries, setEntries] = useState<DncEntry[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [number, setNumber] = useState("");
  const [reason, setReason] = useState("");
  const [region, setRegionState] = useState(getRegion);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [filter, setFilter] = useState("");

  useEffect(() => {
    commands
      .dncList()
      .then(setEntries)
      .catch((e: unknown) => setLoadError(errorMessage(e)));
  }, []);

  const shown = useMemo(() => {
    const digits = filter.replace(/[^0-9+]/g, "");
    const text = filter.trim().toLowerCase();
    return (entries ?? []).filter(
      (e) => !text || (digits && e.e164.includes(digits)) || (e.reason ?? "").toLowerCase().includes(text),
    );
  }, [entries, filter]);

  async function add(ev: FormEvent) {
    ev.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      const added = await commands.dncAdd(number, reason.trim() || null, region);
      setEntries(added.entries);
      setNumber("");
      setReason("");
      const flagged = added.contacts_flagged;
      setMessage({
        ok: true,
        text: `${added.e164} is on the list${flagged ? ` · ${flagged} ${flagged === 1 ? "contact" : "contacts"} flagged do-not-call` : ""}.`,
      });
    } catch (e) {
      setMessage({ ok: false, text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  }

  async function remove(e164: string) {
    setMessage(null);
    try {
      setEntries(await commands.dncRemove(e164));
      setMessage({ ok: true, text: `${e164} removed. Contacts keep their do-not-call flag until you clear it.` });
    } catch (e) {
      setMessage({ ok: false, text: errorMessage(e) });
    }
  }

  return (
    <div className="screen settings-screen">
      <header className="screen-header">
        <h1>Do not call</h1>
        {entries && <span className="muted" data-testid="dnc-count">{entries.length} {entries.length === 1 ? "number" : "numbers"}</span>}
      </header>
      <section className="card settings-card">
        <form className="dnc-form" onSubmit={(e) => void add(e)}>
          <label className="field">
            <span>Number</span>
            <input className="input" data-testid="dnc-number" value={number} onChange={(e) => setNumber(e.target.value)}
              placeholder="+91 98123 45678" required />
          </label>
          <label className="field">
            <span>Region for numbers without +</span>
            <select className="input" data-testid="dnc-region" value={region}
              onChange={(e) => {
                setRegionState(e.target.value);
                setRegion(e.target.value);
              }}>
              <RegionOptions />
            </select>
          </label>
          <label className="field">
            <span>Reason (optional)</span>
            <input className="input" data-testid="dnc-reason" value={reason} onChange={(e) => setReason(e.target.value)}
              placeholder="Asked not to be called" />
          </label>
          <button type="submit" className="btn btn-primary" data-testid="dnc-add" disabled={busy || !number.trim()}>
            Add to the list
          </button>
        </form>
        {message && (
          <p className={message.ok ? "result-ok" : "problem-message"} role={message.ok ? undefined : "alert"}
            data-testid="dnc-message">
            {message.text}
          </p>
        )}
      </section>
      <section className="card settings-card">
        <input className="input" data-testid="dnc-filter" placeholder="Find a number or reason" value={filter}
          onChange={(e) => setFilter(e.target.value)} />
        {loadError && <p className="problem-message" role="alert">{loadError}</p>}
        {entries && entries.length === 0 && <p className="muted">The list is empty.</p>}
        <table className="models-table" data-testid="dnc-table">
          <tbody>
            {shown.map((e) => (
              <tr key={e.e164} data-testid="dnc-row">
                <td>{e.e164}</td>
                <td>{e.reason ?? <span className="muted">—</span>}</td>
                <td className="muted">{SOURCE[e.source]} · {absoluteTime(e.added_at)}</td>
                <td className="model-actions">
                  <button type="button" className="btn" data-testid={`dnc-remove-${e.e164}`} onClick={() => void remove(e.e164)}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
