// The coaching overlay's state: live events in (cards, warnings, stage changes, the
// transcript, metrics, suggestions), what to show out, plus the rep's dismiss/pin/select.
import type {
  LiveEvent,
  LiveMetrics,
  Severity,
  SpeakerChannel,
  Stage,
  Suggestion,
} from "../bindings";

export type CueKind = "objection" | "competitor" | "warning" | "stage" | "card";

export type Cue = {
  key: string;
  kind: CueKind;
  title: string;
  body: string;
  points: string[];
  /** "price", "critical", "discovery"… shown as a badge. */
  badge: string | null;
  severity: Severity | null;
  atMs: number;
  pinned: boolean;
};

export type Line = { channel: SpeakerChannel; text: string; startMs: number };

export type OverlayState = {
  /** Pinned first, then newest first. */
  cues: Cue[];
  selected: string | null;
  /** The selection follows the newest cue until the rep moves it. */
  follow: boolean;
  /** The last finals, oldest first. */
  lines: Line[];
  /** The words still being heard, per side. */
  partial: Partial<Record<SpeakerChannel, string>>;
  metrics: LiveMetrics | null;
  stage: Stage | null;
  suggestion: Suggestion | null;
  notice: string | null;
};

/** Unpinned cues kept; older ones leave as new ones come. */
export const MAX_UNPINNED = 6;
/** Transcript lines kept. */
export const MAX_LINES = 40;

export const EMPTY: OverlayState = {
  cues: [],
  selected: null,
  follow: true,
  lines: [],
  partial: {},
  metrics: null,
  stage: null,
  suggestion: null,
  notice: null,
};

function order(cues: Cue[]): Cue[] {
  const pinned = cues.filter((c) => c.pinned);
  const rest = cues.filter((c) => !c.pinned).slice(0, MAX_UNPINNED);
  return [...pinned, ...rest];
}

function cueOf(event: Extract<LiveEvent, { kind: "coach" }>): Cue {
  const o = event.output;
  switch (o.kind) {
    case "card":
      return {
        key: `${o.card_id}@${o.at_ms}`,
        kind: o.card_kind === "objection" || o.card_kind === "competitor" ? o.card_kind : "card",
        title: o.title,
        body: o.body,
        points: o.points,
        badge: o.objection ?? o.card_kind.replace("_", " "),
        severity: null,
        atMs: o.at_ms,
        pinned: false,
      };
    case "warning":
      return {
        key: `rule:${o.rule_id}@${o.at_ms}`,
        kind: "warning",
        title: o.title,
        body: o.message,
        points: o.said ? [`Said: “${o.said}”`] : [],
        badge: o.severity,
        severity: o.severity,
        atMs: o.at_ms,
        pinned: false,
      };
    case "stage":
      return {
        key: `stage:${o.stage}@${o.at_ms}`,
        kind: "stage",
        title: `Now: ${o.stage}`,
        body: o.suggestions[0] ?? "",
        points: o.suggestions.slice(1),
        badge: o.stage,
        severity: null,
        atMs: o.at_ms,
        pinned: false,
      };
  }
}

/** Applies one live event. */
export function reduce(state: OverlayState, event: LiveEvent): OverlayState {
  switch (event.kind) {
    case "coach": {
      const cue = cueOf(event);
      // A stage change replaces the previous unpinned one: only the current stage matters.
      const kept = state.cues.filter(
        (c) => c.key !== cue.key && !(cue.kind === "stage" && c.kind === "stage" && !c.pinned),
      );
      const cues = order([cue, ...kept]);
      const stays = !state.follow && cues.some((c) => c.key === state.selected);
      return { ...state, cues, selected: stays ? state.selected : cue.key, follow: !stays };
    }
    case "transcript": {
      const e = event.event;
      if (e.kind === "partial") {
        return { ...state, partial: { ...state.partial, [e.segment.channel]: e.segment.text } };
      }
      if (e.kind === "final") {
        const line = { channel: e.segment.channel, text: e.segment.text, startMs: e.segment.start_ms };
        const partial = { ...state.partial };
        delete partial[e.segment.channel];
        // Words arriving again clear an old notice; the customer speaking again makes
        // the last suggestion stale (a new one is on its way).
        const suggestion = e.segment.channel === "far_end" ? null : state.suggestion;
        return { ...state, lines: [...state.lines, line].slice(-MAX_LINES), partial, notice: null, suggestion };
      }
      if (e.kind === "end_of_utterance") {
        const partial = { ...state.partial };
        delete partial[e.channel];
        return { ...state, partial };
      }
      return { ...state, notice: `${e.notice.engine}: ${e.notice.message}` };
    }
    case "metrics":
      return { ...state, metrics: event.metrics, stage: event.stage };
    case "suggestion":
      return { ...state, suggestion: event.suggestion };
  }
}

/** Removes a cue (pinned or not); the selection moves to its neighbour, and follows new
 * cues again. */
export function dismiss(state: OverlayState, key: string | null): OverlayState {
  if (key === null) return state;
  const at = state.cues.findIndex((c) => c.key === key);
  if (at < 0) return state;
  const cues = state.cues.filter((c) => c.key !== key);
  const next = cues[Math.min(at, cues.length - 1)];
  return { ...state, cues, selected: next ? next.key : null, follow: true };
}

/** The rep picked a cue (click). */
export function select(state: OverlayState, key: string): OverlayState {
  return { ...state, selected: key, follow: false };
}

/** Pins a cue to the top (it stays until dismissed) or unpins it. */
export function togglePin(state: OverlayState, key: string | null): OverlayState {
  if (key === null) return state;
  const cues = order(state.cues.map((c) => (c.key === key ? { ...c, pinned: !c.pinned } : c)));
  return { ...state, cues, selected: key, follow: false };
}

/** Moves the selection up (-1) or down (+1), staying within the list. */
export function moveSelection(state: OverlayState, delta: number): OverlayState {
  if (state.cues.length === 0) return state;
  const at = state.cues.findIndex((c) => c.key === state.selected);
  const next = Math.max(0, Math.min(state.cues.length - 1, (at < 0 ? 0 : at + delta)));
  return { ...state, selected: state.cues[next].key, follow: false };
}

/** "1:05" from milliseconds. */
export function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
