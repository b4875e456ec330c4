// The contact form's editable state, built from a contact and turned back into ContactFields.
import type { Contact, ContactFields, DealStage } from "../bindings";
import { minorToDecimalString, parseMoneyToMinor, parseTags } from "./format";

export type PhoneRow = { key: number; raw: string; label: string; error: string | null };
export type EmailRow = { key: number; address: string; label: string };
export type CustomRow = { key: number; name: string; value: string };

export type FormState = {
  name: string;
  company: string;
  title: string;
  phones: PhoneRow[];
  emails: EmailRow[];
  tags: string;
  stage: DealStage;
  dealValue: string;
  currency: string;
  timeZone: string;
  owner: string;
  doNotCall: boolean;
  doNotEmail: boolean;
  custom: CustomRow[];
};

let nextKey = 1;
export const newKey = () => nextKey++;

export const emptyPhone = (): PhoneRow => ({ key: newKey(), raw: "", label: "", error: null });
export const emptyEmail = (): EmailRow => ({ key: newKey(), address: "", label: "" });
export const emptyCustom = (): CustomRow => ({ key: newKey(), name: "", value: "" });

export function formFromContact(c: Contact | null, defaultCurrency: string): FormState {
  if (!c) {
    return {
      name: "",
      company: "",
      title: "",
      phones: [emptyPhone()],
      emails: [emptyEmail()],
      tags: "",
      stage: "lead",
      dealValue: "",
      currency: defaultCurrency,
      timeZone: "",
      owner: "",
      doNotCall: false,
      doNotEmail: false,
      custom: [],
    };
  }
  return {
    name: c.name,
    company: c.company ?? "",
    title: c.title ?? "",
    phones: c.phones.length
      ? c.phones.map((p) => ({ key: newKey(), raw: p.e164, label: p.label ?? "", error: null }))
      : [emptyPhone()],
    emails: c.emails.length
      ? c.emails.map((e) => ({ key: newKey(), address: e.address, label: e.label ?? "" }))
      : [emptyEmail()],
    tags: c.tags.join(", "),
    stage: c.deal_stage,
    dealValue: c.deal_value ? minorToDecimalString(c.deal_value.minor_units, c.deal_value.currency) : "",
    currency: c.deal_value?.currency ?? defaultCurrency,
    timeZone: c.time_zone ?? "",
    owner: c.owner ?? "",
    doNotCall: c.do_not_call,
    doNotEmail: c.do_not_email,
    custom: Object.entries(c.custom_fields).map(([name, value]) => ({ key: newKey(), name, value })),
  };
}

/** True when the text already looks like E.164 (+ and 7–15 digits). */
export const isE164 = (s: string) => /^\+[1-9]\d{6,14}$/.test(s);

const orNull = (s: string) => (s.trim() === "" ? null : s.trim());

/**
 * ContactFields from the form, or a message saying what to fix. Phones must already be
 * normalised (the form runs checkPhone before calling this).
 */
export function fieldsFromForm(f: FormState): { fields: ContactFields } | { error: string } {
  const phones = f.phones
    .filter((p) => p.raw.trim() !== "")
    .map((p) => ({ e164: p.raw.trim(), label: orNull(p.label) }));
  const emails = f.emails
    .filter((e) => e.address.trim() !== "")
    .map((e) => ({ address: e.address.trim().toLowerCase(), label: orNull(e.label) }));
  const name = f.name.trim();
  if (!name && phones.length === 0 && emails.length === 0) {
    return { error: "Enter a name, a phone number or an e-mail address." };
  }
  let deal_value: ContactFields["deal_value"] = null;
  if (f.dealValue.trim() !== "") {
    const currency = f.currency.trim().toUpperCase();
    if (!/^[A-Z]{3}$/.test(currency)) return { error: "Currency must be a 3-letter code such as INR or USD." };
    const minor = parseMoneyToMinor(f.dealValue, currency);
    if (minor === null) return { error: `“${f.dealValue}” is not an amount in ${currency}.` };
    deal_value = { minor_units: minor, currency };
  }
  const custom_fields: Record<string, string> = {};
  for (const row of f.custom) {
    const key = row.name.trim();
    if (!key) {
      if (row.value.trim() !== "") return { error: "A custom field needs a name." };
      continue;
    }
    custom_fields[key] = row.value;
  }
  return {
    fields: {
      name,
      company: orNull(f.company),
      title: orNull(f.title),
      phones,
      emails,
      tags: parseTags(f.tags),
      deal_stage: f.stage,
      deal_value,
      custom_fields,
      time_zone: orNull(f.timeZone),
      do_not_call: f.doNotCall,
      do_not_email: f.doNotEmail,
      owner: orNull(f.owner),
    },
  };
}
