// Component tests for the Do-not-call screen: list, add (with flagged contacts), a bad
// number, filter, remove.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { DoNotCall } from "./DoNotCall";
import { commands } from "../bindings";
import type { DncEntry } from "../bindings";

vi.mock("../bindings", () => ({
  commands: { dncList: vi.fn(), dncAdd: vi.fn(), dncRemove: vi.fn() },
}));

const listed: DncEntry[] = [
  { e164: "+14155550100", reason: "asked", source: "manual", added_at: "2026-11-20T10:00:00Z" },
  { e164: "+919812345678", reason: null, source: "opt_out", added_at: "2026-11-21T09:30:00Z" },
];

describe("DoNotCall", () => {
  beforeEach(() => {
    window.localStorage.clear();
    vi.mocked(commands.dncList).mockReset().mockResolvedValue(listed);
    vi.mocked(commands.dncAdd).mockReset();
    vi.mocked(commands.dncRemove).mockReset();
  });

  it("lists the numbers and adds one with the chosen region", async () => {
    vi.mocked(commands.dncAdd).mockResolvedValue({
      e164: "+919876543210",
      contacts_flagged: 2,
      entries: [...listed, { e164: "+919876543210", reason: "Asked twice", source: "manual", added_at: "2026-11-21T11:00:00Z" }],
    });
    render(<DoNotCall />);
    await waitFor(() => expect(screen.getAllByTestId("dnc-row")).toHaveLength(2));
    expect(screen.getByTestId("dnc-count").textContent).toBe("2 numbers");
    expect(screen.getByText(/the contact opted out/)).toBeTruthy();

    fireEvent.change(screen.getByTestId("dnc-number"), { target: { value: "098765 43210" } });
    fireEvent.change(screen.getByTestId("dnc-reason"), { target: { value: " Asked twice " } });
    fireEvent.click(screen.getByTestId("dnc-add"));
    expect((await screen.findByTestId("dnc-message")).textContent).toBe(
      "+919876543210 is on the list · 2 contacts flagged do-not-call.",
    );
    expect(commands.dncAdd).toHaveBeenCalledWith("098765 43210", "Asked twice", "IN");
    expect(screen.getAllByTestId("dnc-row")).toHaveLength(3);
    expect((screen.getByTestId("dnc-number") as HTMLInputElement).value).toBe("");
  });

  it("says why a number is refused and keeps what was typed", async () => {
    vi.mocked(commands.dncAdd).mockRejectedValue({ kind: "invalid", message: "\"12\" is too short to be a phone number" });
    render(<DoNotCall />);
    fireEvent.change(await screen.findByTestId("dnc-number"), { target: { value: "12" } });
    fireEvent.click(screen.getByTestId("dnc-add"));
    expect((await screen.findByRole("alert")).textContent).toBe("\"12\" is too short to be a phone number");
    expect((screen.getByTestId("dnc-number") as HTMLInputElement).value).toBe("12");
  });

  it("filters by number or reason and removes a number", async () => {
    vi.mocked(commands.dncRemove).mockResolvedValue([listed[1]]);
    render(<DoNotCall />);
    await waitFor(() => expect(screen.getAllByTestId("dnc-row")).toHaveLength(2));
    fireEvent.change(screen.getByTestId("dnc-filter"), { target: { value: "9812" } });
    expect(screen.getAllByTestId("dnc-row")).toHaveLength(1);
    fireEvent.change(screen.getByTestId("dnc-filter"), { target: { value: "ASKED" } });
    expect(screen.getAllByTestId("dnc-row")).toHaveLength(1);
    fireEvent.change(screen.getByTestId("dnc-filter"), { target: { value: "" } });
    fireEvent.click(screen.getByTestId("dnc-remove-+14155550100"));
    await waitFor(() => expect(screen.getAllByTestId("dnc-row")).toHaveLength(1));
    expect(commands.dncRemove).toHaveBeenCalledWith("+14155550100");
    expect(screen.getByTestId("dnc-message").textContent).toContain("removed");
  });
});
