// The sidebar's sync indicator: a dot and a short line (up to date, changes waiting,
// offline, a problem); choosing it opens Settings → Sync.
import type { SyncStatus } from "../bindings";
import { lastSynced, syncSummary } from "../lib/sync";

type Props = { status: SyncStatus; onOpen: () => void };

export function SyncIndicator({ status, onOpen }: Props) {
  const { text, tone } = syncSummary(status);
  const title =
    status.state === "signed_out"
      ? "Not signed in to a sync server"
      : `Last synced ${lastSynced(status)}${status.error ? ` · ${status.error}` : ""}`;
  return (
    <button type="button" className="sync-indicator" data-testid="sync-indicator" data-state={status.state}
      title={title} onClick={onOpen}>
      <span className={`sync-dot ${tone}`} aria-hidden="true" />
      <span data-testid="sync-indicator-text">{text}</span>
    </button>
  );
}
