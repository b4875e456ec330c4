// Settings → Sync: signing in (and the server's refusal shown as it came), joining with
// an invitation, and the signed-in card with its problems, "Sync now" and "Sign out".
import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/react";
import { SyncSettings } from "./SyncSettings";
import { commands } from "../bindings";
import type { SyncStatus } from "../bindings";
import { SIGNED_OUT, syncSummary } from "../lib/sync";

vi.mock("../bindings", () => ({
  commands: { syncSignIn: vi.fn(), syncSignUp: vi.fn(), syncSignOut: vi.fn(), syncNow: vi.fn() },
}));

const signedIn: SyncStatus = {
  ...SIGNED_OUT,
  state: "idle",
  server_url: "https://sync.acme.test",
  email: "dana@acme.test",
  name: "Dana",
  org_name: "Acme",
  last_synced_at: new Date().toISOString(),
};

function type(testId: string, value: string) {
  fireEvent.change(screen.getByTestId(testId), { target: { value } });
}

describe("SyncSettings", () => {
  it("signs in, showing the server's refusal first, and remembers the server", async () => {
    const onMessage = vi.fn();
    vi.mocked(commands.syncSignIn)
      .mockRejectedValueOnce({ kind: "unauthorized", message: "signed out of the sync server: wrong email or password" })
      .mockResolvedValueOnce(signedIn);
    render(<SyncSettings status={{ ...SIGNED_OUT, pending: 3 }} onMessage={onMessage} />);
    expect(screen.getByTestId("sync-pending-note").textContent).toContain("3 changes");
    const submit = screen.getByTestId("sync-submit") as HTMLButtonElement;
    expect(submit.disabled).toBe(true);
    type("sync-server", "https://sync.acme.test");
    type("sync-email", "dana@acme.test");
    type("sync-password", "wrong");
    fireEvent.click(submit);
    expect((await screen.findByTestId("sync-error")).textContent).toContain("wrong email or password");
    type("sync-password", "a long enough password");
    fireEvent.click(submit);
    await vi.waitFor(() => expect(onMessage).toHaveBeenCalledWith("Signed in as dana@acme.test; syncing"));
    expect(commands.syncSignIn).toHaveBeenLastCalledWith({
      server_url: "https://sync.acme.test",
      email: "dana@acme.test",
      password: "a long enough password",
    });
    expect(window.localStorage.getItem("cuecard.syncServer")).toBe("https://sync.acme.test");
  });

  it("joins with an invitation code", async () => {
    vi.mocked(commands.syncSignUp).mockResolvedValue(signedIn);
    const onMessage = vi.fn();
    render(<SyncSettings status={SIGNED_OUT} onMessage={onMessage} />);
    fireEvent.click(screen.getByTestId("sync-mode-join"));
    type("sync-server", "sync.acme.test");
    type("sync-invitation", "inv_123");
    type("sync-name", "Dana Rep");
    type("sync-password", "a long enough password");
    fireEvent.click(screen.getByTestId("sync-submit"));
    await vi.waitFor(() => expect(onMessage).toHaveBeenCalled());
    expect(commands.syncSignUp).toHaveBeenCalledWith({
      server_url: "sync.acme.test",
      invitation: "inv_123",
      name: "Dana Rep",
      password: "a long enough password",
    });
  });

  it("shows the account, a problem with its retry, and syncs now or signs out", async () => {
    vi.mocked(commands.syncNow).mockResolvedValue(signedIn);
    vi.mocked(commands.syncSignOut).mockResolvedValue(SIGNED_OUT);
    const onMessage = vi.fn();
    render(
      <SyncSettings
        status={{
          ...signedIn,
          state: "offline",
          pending: 1,
          rejected: 2,
          recordings_waiting: 2,
          error: "the sync server cannot be reached",
          retry_in_secs: 16,
        }}
        onMessage={onMessage}
      />,
    );
    expect(screen.getByTestId("sync-who").textContent).toBe("Dana (dana@acme.test)");
    expect(screen.getByTestId("sync-state").textContent).toBe("Offline · 1 change waiting");
    expect(screen.getByTestId("sync-pending").textContent).toBe("1 change");
    expect(screen.getByTestId("sync-rejected").textContent).toContain("refused 2 changes");
    expect(screen.getByTestId("sync-problem").textContent).toContain("retrying in 16 s");
    expect(screen.getByTestId("sync-last").textContent).toBe("just now");
    expect(screen.getByTestId("sync-recordings").textContent).toBe("2 waiting to upload");
    fireEvent.click(screen.getByTestId("sync-now"));
    await vi.waitFor(() => expect(commands.syncNow).toHaveBeenCalled());
    await vi.waitFor(() => expect((screen.getByTestId("sync-sign-out") as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByTestId("sync-sign-out"));
    await vi.waitFor(() => expect(onMessage).toHaveBeenCalledWith("Signed out of sync; your data stays on this computer"));
  });

  it("says when the team keeps recordings on devices", () => {
    render(<SyncSettings status={{ ...signedIn, recordings_kept_on_device: true, recordings_waiting: 3 }} onMessage={() => {}} />);
    expect(screen.getByTestId("sync-recordings").textContent).toBe("Kept on this computer (your team’s policy)");
  });

  it("words every state for the sidebar", () => {
    expect(syncSummary(SIGNED_OUT).text).toBe("Sync off");
    expect(syncSummary({ ...signedIn, state: "syncing", pending: 1 }).text).toBe("Syncing 1 change…");
    expect(syncSummary({ ...signedIn, pending: 4 })).toEqual({ text: "4 changes to sync", tone: "busy" });
    expect(syncSummary({ ...signedIn, state: "error" }).tone).toBe("bad");
    expect(syncSummary(signedIn)).toEqual({ text: "Up to date", tone: "ok" });
  });
});
