// One contact's page: header facts, contact details, coaching a live call, notes box,
// timeline and calls (each opening its review); edit and delete.
import { useCallback, useEffect, useState } from "react";
import { commands } from "../bindings";
import type { Contact, ContactDetail as Detail } from "../bindings";
import { errorMessage } from "../lib/api";
import { LoadingScreen } from "../components/LoadingScreen";
import { companyLine, displayName, formatMoney } from "../lib/format";
import { DncBadge, DoNotEmailBadge, StageBadge, TagChips } from "../components/Badges";
import { LocalTime } from "../components/LocalTime";
import { NoteBox, NotesList } from "./NoteBox";
import { Timeline } from "./Timeline";
import { CallsTable } from "./CallsTable";
import { CallReview } from "./CallReview";
import { LiveCallPanel } from "./LiveCallPanel";

type Props = {
  id: string;
  onBack: () => void;
  onEdit: (contact: Contact) => void;
  onDeleted: (contact: Contact) => void;
  /** Opens the phone with this number (and contact) in the dialer. */
  onCall?: (e164: string, contact: Contact) => void;
};

export function ContactDetail({ id, onBack, onEdit, onDeleted, onCall }: Props) {
  const [detail, setDetail] = useState<Detail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [reviewing, setReviewing] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setDetail(await commands.contactDetail(id));
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [id]);

  useEffect(() => {
    void load();
  }, [load]);

  // A call filed from here (or from the overlay) shows in the calls and the timeline.
  const onFiled = useCallback(() => void load(), [load]);

  async function remove(contact: Contact) {
    setDeleting(true);
    try {
      await commands.deleteContact(contact.id);
      onDeleted(contact);
    } catch (e) {
      setError(errorMessage(e));
      setDeleting(false);
      setConfirming(false);
    }
  }

  const back = (
    <button type="button" className="btn" data-testid="back-button" onClick={onBack}>
      ← Back
    </button>
  );

  if (reviewing) {
    return <CallReview id={reviewing} onBack={() => setReviewing(null)} />;
  }

  if (!detail) {
    return <LoadingScreen testId="contact-detail" header={back} error={error} />;
  }

  const c = detail.contact;
  const sub = companyLine(c);
  const customKeys = Object.keys(c.custom_fields).sort((a, b) => a.localeCompare(b));

  return (
    <section className="screen" data-testid="contact-detail">
      <header className="screen-header">
        {back}
        <div className="spacer" />
        {confirming ? (
          <span className="confirm-inline">
            <span>Delete this contact?</span>
            <button
              type="button"
              className="btn btn-danger"
              data-testid="confirm-delete-button"
              disabled={deleting}
              onClick={() => void remove(c)}
            >
              Delete
            </button>
            <button type="button" className="btn" disabled={deleting} onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </span>
        ) : (
          <>
            <button type="button" className="btn" data-testid="edit-button" onClick={() => onEdit(c)}>
              Edit
            </button>
            <button type="button" className="btn btn-danger-outline" data-testid="delete-button" onClick={() => setConfirming(true)}>
              Delete
            </button>
          </>
        )}
      </header>

      {error && (
        <p className="error-banner" role="alert">
          {error}
        </p>
      )}

      <div className="detail-head card">
        <div>
          <h1 className="detail-name" data-testid="detail-name">
            {displayName(c)}
          </h1>
          {sub && <div className="muted">{sub}</div>}
          <div className="badge-row">
            <StageBadge stage={c.deal_stage} />
            {c.do_not_call && <DncBadge />}
            {c.do_not_email && <DoNotEmailBadge />}
          </div>
        </div>
        <dl className="head-facts">
          <div>
            <dt>Deal value</dt>
            <dd data-testid="deal-value">
              {c.deal_value ? formatMoney(c.deal_value.minor_units, c.deal_value.currency) : "—"}
            </dd>
          </div>
          <div>
            <dt>Time zone</dt>
            <dd>{c.time_zone ? <LocalTime zone={c.time_zone} /> : "—"}</dd>
          </div>
          {c.owner && (
            <div>
              <dt>Owner</dt>
              <dd>{c.owner}</dd>
            </div>
          )}
        </dl>
      </div>

      <div className="detail-grid">
        <div className="detail-col">
          <div className="card">
            <h2>Phones</h2>
            {c.phones.length === 0 ? (
              <p className="muted">No phone numbers.</p>
            ) : (
              <ul className="plain-list">
                {c.phones.map((p) => (
                  <li key={p.e164}>
                    <span className="mono">{p.e164}</span>
                    {p.label && <span className="muted"> · {p.label}</span>}
                    {onCall && !c.do_not_call && (
                      <button type="button" className="btn btn-small" data-testid={`call-${p.e164}`}
                        onClick={() => onCall(p.e164, c)}>
                        Call
                      </button>
                    )}
                  </li>
                ))}
              </ul>
            )}
            <h2>E-mails</h2>
            {c.emails.length === 0 ? (
              <p className="muted">No e-mail addresses.</p>
            ) : (
              <ul className="plain-list">
                {c.emails.map((e) => (
                  <li key={e.address}>
                    {e.address}
                    {e.label && <span className="muted"> · {e.label}</span>}
                  </li>
                ))}
              </ul>
            )}
            {c.tags.length > 0 && (
              <>
                <h2>Tags</h2>
                <TagChips tags={c.tags} />
              </>
            )}
            {customKeys.length > 0 && (
              <>
                <h2>Custom fields</h2>
                <dl className="kv">
                  {customKeys.map((k) => (
                    <div key={k} className="kv-row">
                      <dt>{k}</dt>
                      <dd>{c.custom_fields[k]}</dd>
                    </div>
                  ))}
                </dl>
              </>
            )}
          </div>
          {detail.calls.length > 0 && (
            <div className="card">
              <h2>Calls</h2>
              <CallsTable calls={detail.calls} onOpen={(call) => setReviewing(call.id)} />
            </div>
          )}
        </div>
        <div className="detail-col">
          <LiveCallPanel contactId={c.id} onFiled={onFiled} />
          <NoteBox contactId={c.id} onAdded={load} />
          {detail.notes.length > 0 && (
            <div className="card">
              <h2>Notes</h2>
              <NotesList notes={detail.notes} />
            </div>
          )}
          <div className="card">
            <h2>Timeline</h2>
            <Timeline events={detail.timeline} />
          </div>
        </div>
      </div>
    </section>
  );
}
