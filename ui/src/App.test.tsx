// App start-up: the unavailable-database screen, moving the file aside, then the contacts list.
import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { App } from "./App";
import { commands } from "./bindings";

vi.mock("./bindings", () => ({
  commands: {
    appStatus: vi.fn(),
    moveDatabaseAside: vi.fn(),
    listContacts: vi.fn(),
    tagCounts: vi.fn(),
    uiReady: vi.fn(),
  },
}));

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
