// The dialer: type or tap a number (or a SIP address), or search contacts by name and
// pick one; the recent calls under it redial with one click. Numbers on the do-not-call
// list are refused by the app before anything is dialled.
import { useEffect, useState } from "react";
import { commands } from "../bindings";
import type { CallLogEntry, Contact } from "../bindings";
import { errorMessage, getRegion } from "../lib/api";
import { displayName, formatDuration, relativeTime } from "../lib/format";
import { callOptions, getCoachCalls, outcomeText, prettyAddress, setCoachCalls } from "../lib/phone";
import { useDebounced } from "../lib/useDebounced";
import { Keypad } from "../components/Keypad";

export type DialPreset = { target: string; contactId: string | null; label: string | null };

type Props = {
  preset: DialPreset | null;
  onError: (message: string | null) => void;
  onOpenContact: (id: string) => void;
  onOpenLog: () => void;
};

const RECENT = 8;

export function Dialer({ preset, onError, onOpenContact, onOpenLog }: Props) {
  const [target, setTarget] = useState(preset?.target ?? "");
  const [contact, setContact] = useState<{ id: string; name: string } | null>(
    preset?.contactId ? { id: preset.contactId, name: preset.label ?? preset.target } : null,
  );
  const [coach, setCoach] = useState(getCoachCalls);
  const [matches, setMatches] = useState<Contact[]>([]);
  const [recent, setRecent] = useState<CallLogEntry[] | null>(null);
  const [dialing, setDialing] = useState(false);
  const query = useDebounced(target, 200);

  useEffect(() => {
    commands
      .recentCalls(RECENT)
      .then(setRecent)
      .catch(() => setRecent([]));
  }, []);

  // Letters mean a name: search contacts.
  useEffect(() => {
    const text = query.trim();
    if (contact || !/[a-z]/i.test(text) || /^sips?:|@/i.test(text)) {
      setMatches([]);
      return;
    }
    let cancelled = false;
    commands
      .listContacts({ text, tag: null, stage: null, do_not_call: null, include_deleted: false, sort: null, limit: 6, offset: null })
      .then((page) => !cancelled && setMatches(page.contacts.filter((c) => c.phones.length > 0)))
      .catch(() => !cancelled && setMatches([]));
    return () => {
      cancelled = true;
    };
  }, [query, contact]);

  function edit(text: string) {
    setTarget(text);
    setContact(null);
    onError(null);
  }

  function pick(c: Contact) {
    setTarget(c.phones[0].e164);
    setContact({ id: c.id, name: displayName(c) });
    setMatches([]);
  }

  async function dial(to: string, contactId: string | null) {
    if (!to.trim()) return;
    setDialing(true);
    onError(null);
    setCoachCalls(coach);
    try {
      await commands.phoneCall({ target: to, region: getRegion(), contact_id: contactId, options: callOptions(coach) });
    } catch (e) {
      onError(errorMessage(e));
    } finally {
      setDialing(false);
    }
  }

  return (
    <div className="dialer-layout">
      <div className="card dialer" data-testid="dialer">
        <label className="field">
          <span>Number, name or SIP address</span>
          <input
            data-testid="dialer-target"
            value={target}
            autoFocus
            placeholder="+91 98765 43210"
            onChange={(e) => edit(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter") void dial(target, contact?.id ?? null);
            }}
          />
        </label>
        {contact && (
          <p className="muted" data-testid="dialer-contact">
            Calling{" "}
            <button type="button" className="btn-link" onClick={() => onOpenContact(contact.id)}>
              {contact.name}
            </button>
          </p>
        )}
        {matches.length > 0 && (
          <ul className="dialer-matches" data-testid="dialer-matches">
            {matches.map((c) => (
              <li key={c.id}>
                <button type="button" className="btn-link" onClick={() => pick(c)}>
                  {displayName(c)} · {c.phones[0].e164}
                  {c.do_not_call ? " · do not call" : ""}
                </button>
              </li>
            ))}
          </ul>
        )}
        <Keypad onKey={(k) => edit(target + k)} testId="dialer-keypad" />
        <div className="button-row">
          <button type="button" className="btn" onClick={() => edit(target.slice(0, -1))} disabled={!target}>
            ⌫
          </button>
          <button
            type="button"
            className="btn btn-primary btn-call"
            data-testid="dialer-call"
            disabled={dialing || !target.trim()}
            onClick={() => void dial(target, contact?.id ?? null)}
          >
            {dialing ? "Calling…" : "Call"}
          </button>
        </div>
        <label className="checkbox">
          <input type="checkbox" data-testid="dialer-coach" checked={coach} onChange={(e) => setCoach(e.target.checked)} />
          Coach this call (transcript, cue cards and a score)
        </label>
      </div>

      <div className="card recent-calls" data-testid="recent-calls">
        <h2>Recent calls</h2>
        {recent === null && <p className="muted">Loading…</p>}
        {recent?.length === 0 && <p className="muted">No calls yet.</p>}
        <ul>
          {recent?.map(({ call, contact_name }) => {
            const other = call.direction === "outbound" ? call.to : call.from;
            return (
              <li key={call.id} className="recent-call">
                <span className={`call-arrow call-${call.direction}`} aria-label={call.direction}>
                  {call.direction === "outbound" ? "↗" : "↙"}
                </span>
                <span className="recent-who">{contact_name ?? prettyAddress(other)}</span>
                <span className="muted">
                  {outcomeText(call.status)}
                  {call.duration_secs > 0 ? ` · ${formatDuration(call.duration_secs)}` : ""} · {relativeTime(call.started_at)}
                </span>
                <button
                  type="button"
                  className="btn btn-small"
                  disabled={dialing}
                  onClick={() => void dial(prettyAddress(other), call.contact_id)}
                >
                  Call
                </button>
              </li>
            );
          })}
        </ul>
        <button type="button" className="btn-link" onClick={onOpenLog}>
          All calls
        </button>
      </div>
    </div>
  );
}
