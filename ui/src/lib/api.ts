// Thin helpers around the generated bindings: error text, the region setting, list queries, ui_ready.
import { commands } from "../bindings";
import type { ContactQuery, ContactSort, DealStage } from "../bindings";

/** The text to show for a thrown command error (`{kind, message}`) or anything else. */
export function errorMessage(e: unknown): string {
  if (e && typeof e === "object" && "message" in e) {
    const m = (e as { message: unknown }).message;
    if (typeof m === "string" && m) return m;
  }
  if (typeof e === "string") return e;
  return String(e);
}

export const REGION_KEY = "cuecard.region";
export const DEFAULT_REGION = "IN";

/** The default region (ISO 3166) for numbers typed without a country code. */
export function getRegion(): string {
  try {
    const v = window.localStorage.getItem(REGION_KEY);
    return v && /^[A-Z]{2}$/.test(v) ? v : DEFAULT_REGION;
  } catch {
    return DEFAULT_REGION;
  }
}

export function setRegion(region: string): void {
  try {
    window.localStorage.setItem(REGION_KEY, region);
  } catch {
    // Storage unavailable: the choice lasts for this screen only.
  }
}

export const PAGE_SIZE = 100;

export type DncFilter = "all" | "callable" | "dnc";

/** What the contacts list is showing; kept by App so it survives opening a contact. */
export type ListFilters = {
  text: string;
  tag: string | null;
  stage: DealStage | null;
  dnc: DncFilter;
  /** null: the default for the situation (relevance while searching, else name). */
  sort: ContactSort | null;
  page: number;
};

export const EMPTY_FILTERS: ListFilters = {
  text: "",
  tag: null,
  stage: null,
  dnc: "all",
  sort: null,
  page: 0,
};

/** The sort actually used: relevance only makes sense while searching. */
export function effectiveSort(sort: ContactSort | null, searching: boolean): ContactSort {
  if (sort === "relevance" && !searching) return "name_asc";
  return sort ?? (searching ? "relevance" : "name_asc");
}

/** A ContactQuery with every field present (null where unset), as the Rust side expects. */
export function buildQuery(f: ListFilters, text: string): ContactQuery {
  const trimmed = text.trim();
  return {
    text: trimmed === "" ? null : trimmed,
    tag: f.tag,
    stage: f.stage,
    do_not_call: f.dnc === "all" ? null : f.dnc === "dnc",
    include_deleted: false,
    sort: effectiveSort(f.sort, trimmed !== ""),
    limit: PAGE_SIZE,
    offset: f.page * PAGE_SIZE,
  };
}

let uiReadyReported = false;

/** Tells the backend, once per app run, that the first contacts list has painted. */
export function reportUiReadyOnce(): void {
  if (uiReadyReported) return;
  uiReadyReported = true;
  window.requestAnimationFrame(() => {
    commands.uiReady().catch(() => {
      // Only a measurement; nothing to show the user.
    });
  });
}
