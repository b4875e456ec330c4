// The overlay window: live events become cards, metrics and transcript; the keyboard
// pins and dismisses; "End & file" stops the call.
import { describe, expect, it, vi } from "vitest";
import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { Overlay } from "./Overlay";
import { commands, events } from "../bindings";
import type { LiveEvent } from "../bindings";

let emit: (e: LiveEvent) => void = () => {};

vi.mock("../bindings", () => ({
  commands: {
    liveCallInfo: vi.fn(),
    liveCallStop: vi.fn(),
  },
  events: {
    liveCallEvent: { listen: vi.fn() },
  },
}));

describe("Overlay", () => {
  it("shows cards, metrics and transcript, and pins and dismisses from the keyboard", async () => {
    vi.mocked(commands.liveCallInfo).mockResolvedValue({
      contact: null,
      rep_device: "mic",
      far_device: "speakers.monitor",
      engine: "local",
      warning: null,
      playbook: "Generic B2B",
      assist: false,
      phone_call: null,
    });
    vi.mocked(commands.liveCallStop).mockResolvedValue(null);
    vi.mocked(events.liveCallEvent.listen).mockImplementation(async (cb) => {
      emit = (event) => cb({ event: "live-call-event", id: 1, payload: { event } });
      return () => {};
    });
    render(<Overlay />);
    await screen.findByText(/Generic B2B/);
    const card = (id: string, title: string, at: number): LiveEvent => ({
      kind: "coach",
      latency_us: 30,
      output: { kind: "card", card_id: id, card_kind: "objection", objection: "price", title, body: "Anchor on value", points: ["Ask what it costs them today"], priority: 5, at_ms: at, channel: "far_end", trigger: "too expensive" },
    });
    act(() => {
      emit(card("price", "Price objection", 4000));
      emit(card("timing", "Timing objection", 8000));
      emit({ kind: "transcript", event: { kind: "final", segment: { channel: "far_end", speaker: null, start_ms: 3000, end_ms: 4000, text: "It is too expensive.", confidence: null, words: [] } } });
      emit({
        kind: "metrics",
        stage: "objection",
        metrics: { rep_talk_ms: 3000, prospect_talk_ms: 1000, talk_ratio: 0.75, current_monologue_ms: 0, longest_monologue_ms: 3000, patience_ms: null, questions: 2, words_per_minute: 150, fillers: 0, filler_rate: null, prospect_sentiment: -0.3, sentiment_trend: "falling", objection_patience_ms: null, competitor_mentions: [] },
      });
    });
    const cues = () => screen.getAllByTestId("cue");
    expect(cues().map((c) => c.textContent)).toEqual([
      expect.stringContaining("Timing objection"),
      expect.stringContaining("Price objection"),
    ]);
    expect(screen.getByTestId("metric-talk").textContent).toBe("75%");
    expect(screen.getByTestId("metric-questions").textContent).toBe("2");
    expect(screen.getByTestId("overlay-stage").textContent).toBe("objection");
    expect(screen.getByTestId("overlay-transcript").textContent).toContain("It is too expensive.");

    const overlay = screen.getByTestId("overlay");
    // Select the price card, pin it: it goes to the top.
    fireEvent.keyDown(overlay, { key: "ArrowDown" });
    fireEvent.keyDown(overlay, { key: "p" });
    expect(cues()[0].textContent).toContain("Price objection");
    expect(cues()[0].className).toContain("pinned");
    // A new card arrives below the pinned one.
    act(() => emit(card("need", "Need objection", 9000)));
    expect(cues()[0].textContent).toContain("Price objection");
    expect(cues()[1].textContent).toContain("Need objection");
    // Dismiss the selected (pinned) card.
    fireEvent.keyDown(overlay, { key: "x" });
    expect(cues().map((c) => c.textContent).join()).not.toContain("Price objection");

    fireEvent.click(screen.getByTestId("overlay-end"));
    await waitFor(() => expect(commands.liveCallStop).toHaveBeenCalledWith(true));
  });
});
