// The coach-a-call panel: starting a call shows where it listens; the ended event (from
// this window or the overlay) reports the score and hands the filed call on, or says why
// nothing was filed.
import { describe, expect, it, vi } from "vitest";
import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { LiveCallPanel } from "./LiveCallPanel";
import { commands, events } from "../bindings";
import type { LiveCallEndedEvent } from "../bindings";

let ended: (e: LiveCallEndedEvent) => void = () => {};

vi.mock("../bindings", () => ({
  commands: {
    liveCallInfo: vi.fn(),
    liveCallStart: vi.fn(),
    liveCallStop: vi.fn(),
    liveCallOverlay: vi.fn(),
  },
  events: {
    liveCallEndedEvent: { listen: vi.fn() },
  },
}));

describe("LiveCallPanel", () => {
  it("starts a call, ends it from the overlay's event, and reports the filed score", async () => {
    vi.mocked(commands.liveCallInfo).mockResolvedValue(null);
    vi.mocked(events.liveCallEndedEvent.listen).mockImplementation(async (cb) => {
      ended = (payload) => cb({ event: "live-call-ended-event", id: 1, payload });
      return () => {};
    });
    vi.mocked(commands.liveCallStart).mockResolvedValue({
      contact: null,
      rep_device: "Built-in mic",
      far_device: "Speakers (monitor)",
      engine: "local",
      warning: "AI suggestions are off: base URL is invalid",
      playbook: "Generic B2B",
      assist: false,
      phone_call: null,
    });
    const onFiled = vi.fn();
    render(<LiveCallPanel contactId="c1" onFiled={onFiled} />);

    fireEvent.change(screen.getByTestId("live-call-far-end"), { target: { value: "none" } });
    fireEvent.click(screen.getByTestId("live-call-start"));
    await screen.findByTestId("live-call-status");
    expect(commands.liveCallStart).toHaveBeenCalledWith({ contact_id: "c1", far_end: "none", mic: null });
    expect(screen.getByTestId("live-call-status").textContent).toContain("Built-in mic");
    expect(screen.getByText(/AI suggestions are off/)).toBeTruthy();

    const filed = { call_id: "k1", contact_id: "c1", scorecard_id: "s1", total: 72, recording: null };
    act(() => ended({ filed, message: null }));
    await waitFor(() => expect(screen.getByTestId("live-call-note").textContent).toContain("72/100"));
    expect(onFiled).toHaveBeenCalledWith(filed);
    expect(screen.getByTestId("live-call-start")).toBeTruthy();

    act(() => ended({ filed: null, message: "Nothing was transcribed; the recording is kept at /tmp/live.ogg" }));
    await waitFor(() => expect(screen.getByTestId("live-call-note").textContent).toContain("/tmp/live.ogg"));
  });
});
