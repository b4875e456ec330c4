// Create / edit a contact: all editable fields, phone normalisation on blur, inline errors.
import { useState } from "react";
import { commands } from "../bindings";
import type { Contact, DealStage } from "../bindings";
import { errorMessage, getRegion, setRegion } from "../lib/api";
import { COMMON_TIME_ZONES, CURRENCIES, currencyForRegion } from "../lib/choices";
import { RegionOptions } from "../components/RegionOptions";
import {
  emptyCustom,
  emptyEmail,
  emptyPhone,
  fieldsFromForm,
  formFromContact,
  isE164,
} from "../lib/contactForm";
import type { FormState, PhoneRow } from "../lib/contactForm";
import { DEAL_STAGES, displayName, stageLabel } from "../lib/format";

type Props = {
  contact: Contact | null;
  onSaved: (contact: Contact) => void;
  onCancel: () => void;
};

export function ContactForm({ contact, onSaved, onCancel }: Props) {
  const [region, setRegionState] = useState(getRegion);
  const [form, setForm] = useState<FormState>(() => formFromContact(contact, currencyForRegion(getRegion())));
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const set = <K extends keyof FormState>(key: K, value: FormState[K]) =>
    setForm((f) => ({ ...f, [key]: value }));

  const patchPhone = (key: number, patch: Partial<PhoneRow>) =>
    setForm((f) => ({ ...f, phones: f.phones.map((p) => (p.key === key ? { ...p, ...patch } : p)) }));

  async function checkPhone(row: PhoneRow): Promise<string | null> {
    const raw = row.raw.trim();
    if (!raw) {
      patchPhone(row.key, { error: null });
      return "";
    }
    try {
      const res = await commands.checkPhone(raw, region);
      setForm((f) => ({
        ...f,
        phones: f.phones.map((p) => (p.key === row.key ? { ...p, raw: res.e164, error: null } : p)),
        timeZone: f.timeZone.trim() === "" && res.time_zone ? res.time_zone : f.timeZone,
      }));
      return res.e164;
    } catch (e) {
      patchPhone(row.key, { error: errorMessage(e) });
      return null;
    }
  }

  async function save() {
    setError(null);
    setSaving(true);
    try {
      // Normalise any number that is not E.164 yet (typed and saved without leaving the box).
      let phones = form.phones;
      for (const row of form.phones) {
        if (row.raw.trim() === "" || isE164(row.raw.trim())) continue;
        const e164 = await checkPhone(row);
        if (e164 === null) {
          setError("Fix the phone numbers marked below.");
          return;
        }
        phones = phones.map((p) => (p.key === row.key ? { ...p, raw: e164, error: null } : p));
      }
      const built = fieldsFromForm({ ...form, phones });
      if ("error" in built) {
        setError(built.error);
        return;
      }
      const saved = contact
        ? await commands.updateContact(contact.id, built.fields)
        : await commands.createContact(built.fields);
      onSaved(saved);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setSaving(false);
    }
  }

  return (
    <section className="screen" data-testid="contact-form">
      <header className="screen-header">
        <h1>{contact ? `Edit ${displayName(contact)}` : "New contact"}</h1>
      </header>
      <form
        className="form card"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <div className="form-grid">
          <label className="field">
            <span>Name</span>
            <input className="input" data-testid="form-name" value={form.name} onChange={(e) => set("name", e.target.value)} autoFocus />
          </label>
          <label className="field">
            <span>Company</span>
            <input className="input" data-testid="form-company" value={form.company} onChange={(e) => set("company", e.target.value)} />
          </label>
          <label className="field">
            <span>Title</span>
            <input className="input" data-testid="form-title" value={form.title} onChange={(e) => set("title", e.target.value)} />
          </label>
          <label className="field">
            <span>Owner</span>
            <input className="input" data-testid="form-owner" value={form.owner} onChange={(e) => set("owner", e.target.value)} />
          </label>
        </div>

        <fieldset className="field-group">
          <legend>
            Phones
            <label className="inline-setting">
              numbers without a country code are in
              <select
                className="input input-sm"
                data-testid="form-region"
                value={region}
                onChange={(e) => {
                  setRegionState(e.target.value);
                  setRegion(e.target.value);
                }}
              >
                <RegionOptions />
              </select>
            </label>
          </legend>
          {form.phones.map((p, i) => (
            <div key={p.key} className="row-edit">
              <input
                className={`input${p.error ? " invalid" : ""}`}
                placeholder="Number"
                aria-label={`Phone ${i + 1}`}
                data-testid="form-phone"
                value={p.raw}
                onChange={(e) => patchPhone(p.key, { raw: e.target.value, error: null })}
                onBlur={() => void checkPhone(p)}
              />
              <input
                className="input input-label"
                placeholder="Label (mobile, work…)"
                aria-label={`Phone ${i + 1} label`}
                value={p.label}
                onChange={(e) => patchPhone(p.key, { label: e.target.value })}
              />
              <button
                type="button"
                className="btn btn-icon"
                aria-label="Remove phone"
                onClick={() => set("phones", form.phones.filter((x) => x.key !== p.key))}
              >
                ×
              </button>
              {p.error && (
                <div className="error-text row-error" data-testid="phone-error">
                  {p.error}
                </div>
              )}
            </div>
          ))}
          <button type="button" className="btn btn-link" onClick={() => set("phones", [...form.phones, emptyPhone()])}>
            + Add phone
          </button>
        </fieldset>

        <fieldset className="field-group">
          <legend>E-mails</legend>
          {form.emails.map((em, i) => (
            <div key={em.key} className="row-edit">
              <input
                className="input"
                type="email"
                placeholder="name@example.com"
                aria-label={`E-mail ${i + 1}`}
                data-testid="form-email"
                value={em.address}
                onChange={(e) =>
                  set("emails", form.emails.map((x) => (x.key === em.key ? { ...x, address: e.target.value } : x)))
                }
              />
              <input
                className="input input-label"
                placeholder="Label (work, personal…)"
                aria-label={`E-mail ${i + 1} label`}
                value={em.label}
                onChange={(e) =>
                  set("emails", form.emails.map((x) => (x.key === em.key ? { ...x, label: e.target.value } : x)))
                }
              />
              <button
                type="button"
                className="btn btn-icon"
                aria-label="Remove e-mail"
                onClick={() => set("emails", form.emails.filter((x) => x.key !== em.key))}
              >
                ×
              </button>
            </div>
          ))}
          <button type="button" className="btn btn-link" onClick={() => set("emails", [...form.emails, emptyEmail()])}>
            + Add e-mail
          </button>
        </fieldset>

        <div className="form-grid">
          <label className="field">
            <span>Tags (comma-separated)</span>
            <input className="input" data-testid="form-tags" value={form.tags} onChange={(e) => set("tags", e.target.value)} />
          </label>
          <label className="field">
            <span>Deal stage</span>
            <select className="input" data-testid="form-stage" value={form.stage} onChange={(e) => set("stage", e.target.value as DealStage)}>
              {DEAL_STAGES.map((s) => (
                <option key={s} value={s}>
                  {stageLabel(s)}
                </option>
              ))}
            </select>
          </label>
          <div className="field">
            <span>Deal value</span>
            <div className="money-input">
              <input
                className="input"
                inputMode="decimal"
                placeholder="0.00"
                aria-label="Deal value"
                data-testid="form-deal-value"
                value={form.dealValue}
                onChange={(e) => set("dealValue", e.target.value)}
              />
              <input
                className="input input-currency"
                list="currency-list"
                maxLength={3}
                aria-label="Currency"
                data-testid="form-currency"
                value={form.currency}
                onChange={(e) => set("currency", e.target.value.toUpperCase())}
              />
              <datalist id="currency-list">
                {CURRENCIES.map((c) => (
                  <option key={c} value={c} />
                ))}
              </datalist>
            </div>
          </div>
          <label className="field">
            <span>Time zone</span>
            <input
              className="input"
              list="tz-list"
              placeholder="e.g. Asia/Kolkata"
              data-testid="form-time-zone"
              value={form.timeZone}
              onChange={(e) => set("timeZone", e.target.value)}
            />
            <datalist id="tz-list">
              {COMMON_TIME_ZONES.map((z) => (
                <option key={z} value={z} />
              ))}
            </datalist>
          </label>
        </div>

        <div className="checkbox-row">
          <label>
            <input type="checkbox" data-testid="form-dnc" checked={form.doNotCall} onChange={(e) => set("doNotCall", e.target.checked)} />
            Do not call
          </label>
          <label>
            <input type="checkbox" data-testid="form-dne" checked={form.doNotEmail} onChange={(e) => set("doNotEmail", e.target.checked)} />
            Do not e-mail
          </label>
        </div>

        <fieldset className="field-group">
          <legend>Custom fields</legend>
          {form.custom.map((row) => (
            <div key={row.key} className="row-edit">
              <input
                className="input input-label"
                placeholder="Field"
                aria-label="Custom field name"
                value={row.name}
                onChange={(e) =>
                  set("custom", form.custom.map((x) => (x.key === row.key ? { ...x, name: e.target.value } : x)))
                }
              />
              <input
                className="input"
                placeholder="Value"
                aria-label="Custom field value"
                value={row.value}
                onChange={(e) =>
                  set("custom", form.custom.map((x) => (x.key === row.key ? { ...x, value: e.target.value } : x)))
                }
              />
              <button
                type="button"
                className="btn btn-icon"
                aria-label="Remove custom field"
                onClick={() => set("custom", form.custom.filter((x) => x.key !== row.key))}
              >
                ×
              </button>
            </div>
          ))}
          <button type="button" className="btn btn-link" onClick={() => set("custom", [...form.custom, emptyCustom()])}>
            + Add custom field
          </button>
        </fieldset>

        {error && (
          <p className="error-banner" role="alert" data-testid="form-error">
            {error}
          </p>
        )}
        <div className="button-row">
          <button type="submit" className="btn btn-primary" data-testid="save-contact-button" disabled={saving}>
            {saving ? "Saving…" : contact ? "Save changes" : "Create contact"}
          </button>
          <button type="button" className="btn" data-testid="cancel-button" onClick={onCancel} disabled={saving}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}
