// Shown at start-up when the database file cannot be used: why, where, and what can be done.
import { useState } from "react";
import { commands } from "../bindings";
import type { AppStatus } from "../bindings";
import { errorMessage } from "../lib/api";

type Props = {
  dbPath: string;
  message: string;
  canMoveAside: boolean;
  /** Called with the new status once the database is usable. */
  onStatus: (status: AppStatus) => void;
};

export function DatabaseUnavailable({ dbPath, message, canMoveAside, onStatus }: Props) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function run(action: () => Promise<AppStatus>) {
    setBusy(true);
    setError(null);
    try {
      const status = await action();
      if (status.db.state === "unavailable") setError("The database is still unavailable.");
      onStatus(status);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="fullscreen-center">
      <div className="card problem-card" data-testid="database-unavailable">
        <h1>Cuecard can’t open its database</h1>
        <p className="problem-message">{message}</p>
        <dl className="kv">
          <dt>Database file</dt>
          <dd>
            <code data-testid="db-path">{dbPath}</code>
          </dd>
        </dl>
        <p className="muted">
          The file has not been modified. You can copy it somewhere safe before doing anything else.
        </p>
        {canMoveAside && (
          <p className="muted">
            Moving it aside renames the file (nothing is deleted) and starts an empty database.
          </p>
        )}
        {error && (
          <p className="error-text" role="alert">
            {error}
          </p>
        )}
        <div className="button-row">
          {canMoveAside && (
            <button
              type="button"
              className="btn btn-primary"
              data-testid="move-aside-button"
              disabled={busy}
              onClick={() => run(() => commands.moveDatabaseAside())}
            >
              Move it aside and start fresh
            </button>
          )}
          <button
            type="button"
            className="btn"
            data-testid="retry-status"
            disabled={busy}
            onClick={() => run(() => commands.appStatus())}
          >
            Try again
          </button>
        </div>
      </div>
    </div>
  );
}
