// Component tests for a contact's page: header facts, timeline order, note and delete.
import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { ContactDetail } from "./ContactDetail";
import { commands } from "../bindings";
import { contact } from "../test/fixtures";
import { formatMoney } from "../lib/format";

vi.mock("../bindings", () => ({
  commands: {
    contactDetail: vi.fn(),
    deleteContact: vi.fn(),
    addNote: vi.fn(),
    liveCallInfo: vi.fn(async () => null),
    liveCallStart: vi.fn(),
    liveCallStop: vi.fn(),
  },
  events: {
    liveCallEndedEvent: { listen: vi.fn(async () => () => {}) },
  },
}));

const ev = (id: string, at: string, summary: string) => ({
  id,
  contact_id: "c1",
  at,
  kind: "note" as const,
  ref_id: null,
  summary,
});

describe("ContactDetail", () => {
  it("shows the contact, a newest-first timeline, and deletes after confirming", async () => {
    const c = contact({ do_not_call: true, custom_fields: { Source: "Expo" } });
    vi.mocked(commands.contactDetail).mockResolvedValue({
      contact: c,
      timeline: [ev("t1", "2025-01-01T10:00:00Z", "Imported"), ev("t2", "2025-02-01T10:00:00Z", "Called back")],
      notes: [],
      calls: [],
    });
    vi.mocked(commands.deleteContact).mockResolvedValue(null);
    vi.mocked(commands.addNote).mockResolvedValue({
      id: "n1",
      contact_id: "c1",
      call_id: null,
      body: "hi",
      created_at: "2025-02-02T00:00:00Z",
      updated_at: "2025-02-02T00:00:00Z",
    });
    const onDeleted = vi.fn();
    render(<ContactDetail id="c1" onBack={() => {}} onEdit={() => {}} onDeleted={onDeleted} />);

    expect((await screen.findByTestId("detail-name")).textContent).toBe("Asha Rao");
    expect(screen.getByTestId("deal-value").textContent).toBe(formatMoney(12000000, "INR"));
    expect(screen.getByTestId("contact-time-zone").textContent).toContain("Asia/Kolkata");
    expect(screen.getByTestId("dnc-badge")).toBeTruthy();
    expect(screen.getByText("Expo")).toBeTruthy();
    const items = screen.getAllByTestId("timeline-item").map((li) => li.textContent);
    expect(items[0]).toContain("Called back");
    expect(items[1]).toContain("Imported");

    fireEvent.change(screen.getByTestId("note-input"), { target: { value: "hi" } });
    fireEvent.click(screen.getByTestId("add-note-button"));
    await waitFor(() => expect(commands.addNote).toHaveBeenCalledWith("c1", "hi"));
    await waitFor(() => expect(commands.contactDetail).toHaveBeenCalledTimes(2));

    fireEvent.click(screen.getByTestId("delete-button"));
    expect(commands.deleteContact).not.toHaveBeenCalled();
    fireEvent.click(screen.getByTestId("confirm-delete-button"));
    await waitFor(() => expect(onDeleted).toHaveBeenCalledWith(c));
    expect(commands.deleteContact).toHaveBeenCalledWith("c1");
  });
});
