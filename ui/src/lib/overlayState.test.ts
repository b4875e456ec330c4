// The overlay's state: cards in order, pinning, dismissing, selection, transcript lines.
import { describe, expect, it } from "vitest";
import type { CardFired, LiveEvent } from "../bindings";
import { EMPTY, MAX_UNPINNED, dismiss, moveSelection, reduce, togglePin } from "./overlayState";

function card(id: string, at: number, extra: Partial<CardFired> = {}): LiveEvent {
  return {
    kind: "coach",
    latency_us: 20,
    output: {
      kind: "card",
      card_id: id,
      card_kind: "objection",
      objection: "price",
      title: `Card ${id}`,
      body: "Say this",
      points: [],
      priority: 5,
      at_ms: at,
      channel: "far_end",
      trigger: "too expensive",
      ...extra,
    },
  };
}

function final(channel: "rep" | "far_end", text: string, start: number): LiveEvent {
  return {
    kind: "transcript",
    event: {
      kind: "final",
      segment: { channel, speaker: null, start_ms: start, end_ms: start + 1000, text, confidence: null, words: [] },
    },
  };
}

describe("overlay state", () => {
  it("shows the newest card first, selects it, and keeps a bounded list", () => {
    let s = EMPTY;
    for (let i = 0; i < MAX_UNPINNED + 3; i++) s = reduce(s, card(`c${i}`, i * 1000));
    expect(s.cues).toHaveLength(MAX_UNPINNED);
    expect(s.cues[0].key).toBe(`c${MAX_UNPINNED + 2}@${(MAX_UNPINNED + 2) * 1000}`);
    expect(s.cues[0].badge).toBe("price");
    expect(s.cues[0].kind).toBe("objection");
    expect(s.selected).toBe(s.cues[0].key);
  });

  it("keeps a pinned card at the top while new ones arrive, until dismissed", () => {
    let s = reduce(EMPTY, card("a", 1000));
    s = togglePin(s, s.selected);
    for (let i = 0; i < MAX_UNPINNED + 2; i++) s = reduce(s, card(`n${i}`, 2000 + i));
    expect(s.cues[0].key).toBe("a@1000");
    expect(s.cues[0].pinned).toBe(true);
    s = dismiss(s, "a@1000");
    expect(s.cues.some((c) => c.key === "a@1000")).toBe(false);
  });

  it("moves the selection within the list and past a dismissed card", () => {
    let s = reduce(reduce(reduce(EMPTY, card("a", 1)), card("b", 2)), card("c", 3));
    expect(s.selected).toBe("c@3");
    s = moveSelection(s, 1);
    expect(s.selected).toBe("b@2");
    s = moveSelection(s, 5);
    expect(s.selected).toBe("a@1");
    s = moveSelection(s, -1);
    s = dismiss(s, s.selected);
    expect(s.selected).toBe("a@1");
    expect(s.cues.map((c) => c.key)).toEqual(["c@3", "a@1"]);
  });

  it("replaces the stage cue, shows warnings with their severity, and rolls the transcript", () => {
    let s = reduce(EMPTY, {
      kind: "coach",
      latency_us: 0,
      output: { kind: "stage", stage: "discovery", previous: "opening", at_ms: 5000, suggestions: ["Ask about their process"] },
    });
    s = reduce(s, {
      kind: "coach",
      latency_us: 0,
      output: { kind: "stage", stage: "pitch", previous: "discovery", at_ms: 9000, suggestions: [] },
    });
    expect(s.cues.filter((c) => c.kind === "stage")).toHaveLength(1);
    s = reduce(s, {
      kind: "coach",
      latency_us: 0,
      output: { kind: "warning", rule_id: "no-guarantees", title: "No guarantees", severity: "critical", message: "Never promise returns", at_ms: 9500, said: "guaranteed returns" },
    });
    expect(s.cues[0].severity).toBe("critical");
    expect(s.cues[0].points[0]).toContain("guaranteed returns");

    s = reduce(s, { kind: "transcript", event: { kind: "partial", segment: { channel: "rep", speaker: null, start_ms: 0, end_ms: 500, text: "so what", confidence: null, words: [] } } });
    expect(s.partial.rep).toBe("so what");
    s = reduce(s, final("rep", "So what do you use today?", 0));
    expect(s.partial.rep).toBeUndefined();
    expect(s.lines.map((l) => l.text)).toEqual(["So what do you use today?"]);
  });
});
