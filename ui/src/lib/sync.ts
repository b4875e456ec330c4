// The sync status for any component: fetched once, then kept from the SyncStatusEvent
// the app sends after every change; plus the words the indicator and Settings → Sync use.
import { createContext, useEffect, useState } from "react";
import { commands, events } from "../bindings";
import type { SyncStatus } from "../bindings";
import { relativeTime } from "./format";

export const SIGNED_OUT: SyncStatus = {
  state: "signed_out",
  server_url: null,
  email: null,
  name: null,
  org_name: null,
  last_synced_at: null,
  pending: 0,
  rejected: 0,
  waiting: 0,
  recordings_waiting: 0,
  recordings_kept_on_device: false,
  error: null,
  retry_in_secs: null,
};

/** The app's live sync status for screens deep in the tree (App provides it). */
export const SyncContext = createContext<SyncStatus>(SIGNED_OUT);

/** The sync status, live. */
export function useSyncStatus(): SyncStatus {
  const [status, setStatus] = useState<SyncStatus>(SIGNED_OUT);
  useEffect(() => {
    let cancelled = false;
    let unlisten: (() => void) | null = null;
    void events.syncStatusEvent
      .listen((e) => setStatus(e.payload.status))
      .then((u) => {
        if (cancelled) u();
        else unlisten = u;
      });
    commands
      .syncStatus()
      .then((s) => {
        if (!cancelled) setStatus(s);
      })
      .catch(() => {});
    return () => {
      cancelled = true;
      unlisten?.();
    };
  }, []);
  return status;
}

function changes(n: number): string {
  return `${n} ${n === 1 ? "change" : "changes"}`;
}

/** The indicator's tone: drives its dot's colour. */
export type SyncTone = "off" | "ok" | "busy" | "warn" | "bad";

/** One short line for the sidebar, and its tone. */
export function syncSummary(s: SyncStatus): { text: string; tone: SyncTone } {
  switch (s.state) {
    case "signed_out":
      return { text: "Sync off", tone: "off" };
    case "syncing":
      return { text: s.pending > 0 ? `Syncing ${changes(s.pending)}…` : "Syncing…", tone: "busy" };
    case "offline":
      return {
        text: s.pending > 0 ? `Offline · ${changes(s.pending)} waiting` : "Offline",
        tone: "warn",
      };
    case "error":
      return { text: "Sync needs attention", tone: "bad" };
    case "idle":
      // Idle means the last round went through and a long poll is waiting on the server:
      // up to date, however long ago the last change was.
      if (s.pending > 0) return { text: `${changes(s.pending)} to sync`, tone: "busy" };
      return { text: "Up to date", tone: "ok" };
  }
}

/** "just now", "5 min ago", or "never". */
export function lastSynced(s: SyncStatus, now: Date = new Date()): string {
  return s.last_synced_at ? relativeTime(s.last_synced_at, now) : "never";
}
