// App start-up: the unavailable-database screen, moving the file aside, then the contacts
// list; the phone's incoming-call banner and notices over any screen; the sync indicator.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { App } from "./App";
import { commands, events } from "./bindings";
import type { PhoneEvent, SyncStatus } from "./bindings";
import { SIGNED_OUT } from "./lib/sync";

let phoneEvent: (payload: PhoneEvent) => void = () => {};
let syncEvent: (status: SyncStatus) => void = () => {};

vi.mock("./bindings", () => ({
  commands: {
    appStatus: vi.fn(),
    moveDatabaseAside: vi.fn(),
    listContacts: vi.fn(),
    tagCounts: vi.fn(),
    uiReady: vi.fn(),
    phoneBoard: vi.fn(),
    phoneAnswer: vi.fn(),
    recentCalls: vi.fn(),
    syncStatus: vi.fn(),
    syncNow: vi.fn(),
  },
  events: {
    phoneEvent: { listen: vi.fn() },
    syncStatusEvent: { listen: vi.fn() },
  },
}));

beforeEach(() => {
  vi.mocked(commands.phoneBoard).mockResolvedValue({ account: null, registration: { state: "offline" }, calls: [] });
  vi.mocked(events.phoneEvent.listen).mockImplementation(async (cb) => {
    phoneEvent = (payload) => cb({ event: "phone-event", id: 1, payload });
    return () => {};
  });
  vi.mocked(commands.syncStatus).mockResolvedValue(SIGNED_OUT);
  vi.mocked(events.syncStatusEvent.listen).mockImplementation(async (cb) => {
    syncEvent = (status) => cb({ event: "sync-status-event", id: 1, payload: { status } });
    return () => {};
  });
});

describe("App start-up", () => {
  it("offers to move an unreadable database aside, then shows the contacts", async () => {
    vi.mocked(commands.appStatus).mockResolvedValue({
      db_path: "/home/u/.local/share/cuecard/cuecard.db",
      version: "0.1.0",
      db: { state: "unavailable", message: "file is not a database", can_move_aside: true },
    });
    vi.mocked(commands.moveDatabaseAside).mockResolvedValue({
      db_path: "/home/u/.local/share/cuecard/cuecard.db",
      version: "0.1.0",
      db: { state: "ready", contact_count: 0 },
    });
    vi.mocked(commands.listContacts).mockResolvedValue({ contacts: [], total: 0, total_capped: false });
    vi.mocked(commands.tagCounts).mockResolvedValue([]);
    vi.mocked(commands.uiReady).mockResolvedValue(1);

    render(<App />);
    const screenEl = await screen.findByTestId("database-unavailable");
    expect(screenEl.textContent).toContain("file is not a database");
    expect(screenEl.textContent).toContain("/home/u/.local/share/cuecard/cuecard.db");
    expect(screenEl.textContent).toContain("has not been modified");
    expect(commands.uiReady).not.toHaveBeenCalled();

    fireEvent.click(screen.getByTestId("move-aside-button"));
    await screen.findByTestId("contacts-empty");
    expect(screen.getByTestId("nav-contacts")).toBeTruthy();
    expect(screen.getByTestId("nav-import")).toBeTruthy();
    await waitFor(() => expect(commands.uiReady).toHaveBeenCalledTimes(1));
  });
});

describe("App phone", () => {
  it("rings an incoming call over the contacts, answers into the phone screen, and toasts the end", async () => {
    vi.mocked(commands.appStatus).mockResolvedValue({
      db_path: "/tmp/cuecard.db",
      version: "0.1.0",
      db: { state: "ready", contact_count: 0 },
    });
    vi.mocked(commands.listContacts).mockResolvedValue({ contacts: [], total: 0, total_capped: false });
    vi.mocked(commands.tagCounts).mockResolvedValue([]);
    vi.mocked(commands.uiReady).mockResolvedValue(1);
    vi.mocked(commands.phoneAnswer).mockResolvedValue(null);
    vi.mocked(commands.recentCalls).mockResolvedValue([]);
    render(<App />);
    await screen.findByTestId("contacts-empty");
    const call = {
      id: 4,
      direction: "inbound" as const,
      remote: "sip:+14155550134@acme.sip.twilio.com",
      remote_display: "Dana",
      contact_id: null,
      contact_name: null,
      state: "incoming" as const,
      answered_at_ms: null,
      muted: false,
      held: false,
      held_by_remote: false,
      quality: null,
      outcome: null,
      end_reason: null,
      log_id: null,
    };
    const online = { state: "online" as const, expires: 600 };
    act(() => phoneEvent({ board: { account: "alice@acme", registration: online, calls: [call] }, notice: null }));
    expect((await screen.findByTestId("incoming-call")).textContent).toContain("Dana is calling");
    expect(screen.getByTestId("contacts-empty")).toBeTruthy();

    fireEvent.click(screen.getByTestId("incoming-answer"));
    await screen.findByTestId("phone");
    expect(commands.phoneAnswer).toHaveBeenCalledWith(4, { mic: null, speaker: null, coach: true });
    act(() =>
      phoneEvent({
        board: { account: "alice@acme", registration: online, calls: [{ ...call, state: "connected", answered_at_ms: Date.now() }] },
        notice: null,
      }),
    );
    expect(await screen.findByTestId("in-call")).toBeTruthy();
    expect(screen.queryByTestId("incoming-call")).toBeNull();

    act(() =>
      phoneEvent({
        board: { account: "alice@acme", registration: online, calls: [{ ...call, state: "ended", outcome: "completed" }] },
        notice: { kind: "ended", call: 4, message: "Call with Dana ended (0:12)" },
      }),
    );
    expect(await screen.findByText("Call with Dana ended (0:12)")).toBeTruthy();
    expect(await screen.findByTestId("dialer")).toBeTruthy();
  });
});

describe("App sync", () => {
  it("shows where sync stands in the sidebar and opens Settings → Sync from it", async () => {
    vi.mocked(commands.appStatus).mockResolvedValue({
      db_path: "/tmp/cuecard.db",
      version: "0.1.0",
      db: { state: "ready", contact_count: 0 },
    });
    vi.mocked(commands.listContacts).mockResolvedValue({ contacts: [], total: 0, total_capped: false });
    vi.mocked(commands.tagCounts).mockResolvedValue([]);
    vi.mocked(commands.uiReady).mockResolvedValue(1);
    render(<App />);
    await screen.findByTestId("contacts-empty");
    const text = () => screen.getByTestId("sync-indicator-text").textContent;
    expect(text()).toBe("Sync off");
    const account = {
      ...SIGNED_OUT,
      server_url: "https://sync.acme.test",
      email: "dana@acme.test",
      name: "Dana",
      org_name: "Acme",
      last_synced_at: "2026-11-21T09:00:00Z",
    };
    act(() => syncEvent({ ...account, state: "offline", pending: 2, error: "the sync server cannot be reached", retry_in_secs: 8 }));
    expect(text()).toBe("Offline · 2 changes waiting");
    act(() => syncEvent({ ...account, state: "idle" }));
    expect(text()).toBe("Up to date");

    fireEvent.click(screen.getByTestId("sync-indicator"));
    const card = await screen.findByTestId("sync-account");
    expect(card.textContent).toContain("Dana (dana@acme.test)");
    expect(card.textContent).toContain("Acme");
    expect(screen.getByTestId("nav-sync").getAttribute("aria-current")).toBe("page");
  });
});
