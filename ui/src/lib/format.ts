// Pure display helpers: money in minor units, contact names, dates and times, base64 encoding.
import type { Contact, ContactFields, DealStage, TimelineKind } from "../bindings";

/** How many minor-unit digits a currency uses (2 for USD/INR, 0 for JPY, 3 for BHD). */
export function currencyDigits(currency: string): number {
  try {
    const opts = new Intl.NumberFormat("en-US", { style: "currency", currency }).resolvedOptions();
    return opts.maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** Formats an amount given in minor units (cents, paise) as a currency string. */
export function formatMoney(minorUnits: number, currency: string, locale?: string): string {
  const digits = currencyDigits(currency);
  const value = minorUnits / 10 ** digits;
  try {
    return new Intl.NumberFormat(locale, { style: "currency", currency }).format(value);
  } catch {
    return `${value.toFixed(digits)} ${currency}`;
  }
}

/** Minor units as a plain decimal string for an input box ("1234.50"); no grouping. */
export function minorToDecimalString(minorUnits: number, currency: string): string {
  const digits = currencyDigits(currency);
  const negative = minorUnits < 0;
  const abs = String(Math.abs(Math.trunc(minorUnits))).padStart(digits + 1, "0");
  const whole = digits === 0 ? abs : abs.slice(0, abs.length - digits);
  const frac = digits === 0 ? "" : abs.slice(abs.length - digits);
  return `${negative ? "-" : ""}${whole}${frac ? `.${frac}` : ""}`;
}

/**
 * Parses a typed amount ("1,20,000", "12000.5", "$ 99") into minor units of `currency`.
 * Returns null when the text is not a non-negative amount or has too many decimals.
 */
export function parseMoneyToMinor(text: string, currency: string): number | null {
  const cleaned = text.replace(/[\s,_']/g, "").replace(/^[^\d.]+/, "").replace(/[^\d.]+$/, "");
  const match = /^(\d*)(?:\.(\d*))?$/.exec(cleaned);
  if (!match || (match[1] === "" && (match[2] ?? "") === "")) return null;
  const digits = currencyDigits(currency);
  const whole = match[1] || "0";
  const frac = (match[2] ?? "").replace(/0+$/, "");
  if (frac.length > digits) return null;
  const minor = Number(whole + frac.padEnd(digits, "0"));
  return Number.isSafeInteger(minor) ? minor : null;
}

/** The name to show for a contact: its name, else its first e-mail or phone. */
export function displayName(c: Pick<ContactFields, "name" | "emails" | "phones">): string {
  const name = c.name.trim();
  if (name) return name;
  if (c.emails.length > 0) return c.emails[0].address;
  if (c.phones.length > 0) return c.phones[0].e164;
  return "Unnamed contact";
}

/** "Acme · Head of Sales", or whichever of the two is set. */
export function companyLine(c: Pick<Contact, "company" | "title">): string {
  return [c.title, c.company].filter((s): s is string => !!s && s.trim() !== "").join(" · ");
}

const STAGE_LABELS: Record<DealStage, string> = {
  lead: "Lead",
  contacted: "Contacted",
  qualified: "Qualified",
  proposal: "Proposal",
  negotiation: "Negotiation",
  won: "Won",
  lost: "Lost",
};

export const DEAL_STAGES: DealStage[] = [
  "lead",
  "contacted",
  "qualified",
  "proposal",
  "negotiation",
  "won",
  "lost",
];

export function stageLabel(stage: DealStage): string {
  return STAGE_LABELS[stage] ?? stage;
}

const KIND_LABELS: Record<TimelineKind, string> = {
  created: "Created",
  updated: "Updated",
  imported: "Imported",
  merged: "Merged",
  deleted: "Deleted",
  restored: "Restored",
  call: "Call",
  note: "Note",
  follow_up: "Follow-up",
  do_not_call: "Do not call",
};

export function timelineKindLabel(kind: TimelineKind): string {
  return KIND_LABELS[kind] ?? kind;
}

/** "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", else a date. */
export function relativeTime(iso: string, now: Date = new Date()): string {
  const then = new Date(iso);
  const ms = then.getTime();
  if (Number.isNaN(ms)) return iso;
  const diff = now.getTime() - ms;
  const future = diff < 0;
  const secs = Math.abs(diff) / 1000;
  const wrap = (s: string) => (future ? `in ${s}` : `${s} ago`);
  if (secs < 45) return "just now";
  const mins = Math.round(secs / 60);
  if (mins < 60) return wrap(`${mins} min`);
  const hours = Math.round(mins / 60);
  if (hours < 24) return wrap(`${hours} h`);
  const days = Math.round(hours / 24);
  if (days === 1) return future ? "tomorrow" : "yesterday";
  if (days < 7) return wrap(`${days} days`);
  return then.toLocaleDateString(undefined, {
    year: then.getFullYear() === now.getFullYear() ? undefined : "numeric",
    month: "short",
    day: "numeric",
  });
}

/** A full local date and time, for tooltips and timelines. */
export function absoluteTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** The current wall-clock time in an IANA zone ("Tue 14:05"), or null if the zone is unknown. */
export function localTimeIn(timeZone: string, now: Date = new Date(), locale?: string): string | null {
  try {
    return new Intl.DateTimeFormat(locale, {
      timeZone,
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
    }).format(now);
  } catch {
    return null;
  }
}

/** Call length as "m:ss" (or "h:mm:ss"). */
export function formatDuration(totalSecs: number): string {
  const s = Math.max(0, Math.round(totalSecs));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/** Splits "a, b;c" into trimmed, de-duplicated, non-empty tags. */
export function parseTags(text: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of text.split(/[,;]/)) {
    const tag = raw.trim();
    if (tag && !seen.has(tag.toLowerCase())) {
      seen.add(tag.toLowerCase());
      out.push(tag);
    }
  }
  return out;
}

/**
 * Base64 of raw bytes. Converts in chunks so multi-megabyte files do not overflow the
 * call stack through String.fromCharCode(...bytes).
 */
export function base64FromBytes(data: ArrayBuffer | Uint8Array): string {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  const CHUNK = 0x8000;
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += CHUNK) {
    parts.push(String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]));
  }
  return btoa(parts.join(""));
}
