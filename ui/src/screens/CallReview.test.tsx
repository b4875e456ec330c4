// Component tests for a call's review: score and breakdown, checks that mark their
// evidence in the transcript, and a call that was never scored.
import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/react";
import { CallReview, callClock } from "./CallReview";
import { commands } from "../bindings";
import type { CallReview as Review } from "../bindings";
import { SIGNED_OUT, SyncContext } from "../lib/sync";

vi.mock("../bindings", () => ({
  commands: { callReview: vi.fn() },
}));

const utterance = (id: string, channel: "rep" | "far_end", start_ms: number, text: string) => ({
  id,
  channel,
  speaker: null,
  start_ms,
  end_ms: start_ms + 4000,
  text,
  confidence: null,
  words: [],
});

function review(scored: boolean): Review {
  return {
    call: {
      id: "call1",
      contact_id: "c1",
      direction: "outbound",
      status: "completed",
      from: "",
      to: "+919812345678",
      started_at: "2026-11-20T10:00:00Z",
      answered_at: "2026-11-20T10:00:00Z",
      ended_at: "2026-11-20T10:01:00Z",
      duration_secs: 59,
      disposition: null,
      recording: null,
      notes: "A 1-minute call; the rep talked 50% of the time and asked 3 questions.\nNo next step was agreed.",
    },
    transcript: [
      utterance("u1", "rep", 0, "How does your team coach reps today?"),
      utterance("u2", "far_end", 5000, "The price is my main concern."),
      utterance("u3", "rep", 10000, "Most teams replace a tool, so the cost goes down."),
    ],
    scorecards: scored
      ? [
          {
            id: "s1",
            subject: { kind: "call", id: "call1" },
            total: 72,
            rubric_version: "default v2",
            categories: [
              { key: "discovery", label: "Discovery", score: 88, max: 100, weight: 25 },
              { key: "next_steps", label: "Next steps", score: 0, max: 100, weight: 20 },
            ],
            checks: [
              {
                check_id: "objections-answered",
                category: "objection_handling",
                credit: 1,
                explanation: "answered 1 of 1 objections",
                evidence: ["u2", "u3"],
              },
              {
                check_id: "next-step",
                category: "next_steps",
                credit: 0,
                explanation: "no next step was set",
                evidence: [],
              },
            ],
            status: "final",
            created_at: "2026-11-20T10:01:00Z",
          },
        ]
      : [],
    reviews: [],
  };
}

describe("CallReview", () => {
  it("shows the score and marks the evidence of a chosen check", async () => {
    vi.mocked(commands.callReview).mockResolvedValue(review(true));
    render(<CallReview id="call1" onBack={() => {}} />);
    const score = await screen.findByTestId("review-score");
    expect(score.textContent).toContain("72");
    expect(score.textContent).toContain("rubric default v2");
    expect(screen.getByTestId("category-discovery").textContent).toContain("88");
    expect(screen.getByTestId("review-summary").textContent).toContain("No next step was agreed.");

    const transcript = screen.getByTestId("review-transcript");
    const marked = () =>
      Array.from(transcript.querySelectorAll("li.evidence")).map((li) => li.getAttribute("data-utterance"));
    expect(marked()).toEqual([]);
    const check = screen.getByTestId("check-objections-answered");
    expect(check.textContent).toContain("2 moments");
    fireEvent.click(check);
    expect(check.getAttribute("aria-pressed")).toBe("true");
    expect(marked()).toEqual(["u2", "u3"]);
    // Choosing it again clears the marks; a check without evidence marks nothing.
    fireEvent.click(check);
    expect(marked()).toEqual([]);
    fireEvent.click(screen.getByTestId("check-next-step"));
    expect(marked()).toEqual([]);
    expect(within(transcript).getByText("The price is my main concern.")).toBeTruthy();
    expect(within(transcript).getAllByText("Customer")).toHaveLength(1);
  });

  it("says so when a call was never scored, and shows load errors", async () => {
    vi.mocked(commands.callReview).mockResolvedValue(review(false));
    const { unmount } = render(<CallReview id="call1" onBack={() => {}} />);
    expect(await screen.findByText("This call has not been scored.")).toBeTruthy();
    unmount();
    vi.mocked(commands.callReview).mockRejectedValue({ kind: "not_found", message: "call x does not exist" });
    render(<CallReview id="x" onBack={() => {}} />);
    expect((await screen.findByRole("alert")).textContent).toContain("call x does not exist");
  });

  it("shows managers' comments and reads the call again after a sync", async () => {
    vi.mocked(commands.callReview).mockClear();
    vi.mocked(commands.callReview).mockResolvedValue(review(true));
    const synced = (at: string) => (
      <SyncContext.Provider value={{ ...SIGNED_OUT, state: "idle", last_synced_at: at }}>
        <CallReview id="call1" onBack={() => {}} />
      </SyncContext.Provider>
    );
    const { rerender } = render(synced("2026-11-21T09:00:00Z"));
    await screen.findByTestId("review-score");
    expect(screen.queryByTestId("review-comments")).toBeNull();
    vi.mocked(commands.callReview).mockResolvedValue({
      ...review(true),
      reviews: [
        {
          id: "r1",
          call_id: "call1",
          author_name: "Morgan Manager",
          body: "Ask about budget earlier.\nGood recovery on price.",
          created_at: "2026-11-21T09:01:00Z",
        },
      ],
    });
    rerender(synced("2026-11-21T09:02:00Z"));
    const comment = await screen.findByTestId("review-comment");
    expect(comment.textContent).toContain("Morgan Manager");
    expect(comment.textContent).toContain("Good recovery on price.");
    expect(vi.mocked(commands.callReview)).toHaveBeenCalledTimes(2);
  });

  it("formats call time", () => {
    expect(callClock(0)).toBe("0:00");
    expect(callClock(65_400)).toBe("1:05");
  });
});
