// Settings → Sync: signed out, sign in to the team's sync server (or join it with an
// invitation code from a manager); signed in, the account, where sync stands (last
// synced, changes waiting, problems), "Sync now" and "Sign out". The password goes to
// the server only; the device's credentials are kept in the OS keychain by the app.
import { useState } from "react";
import { commands } from "../bindings";
import type { SyncStatus } from "../bindings";
import { errorMessage } from "../lib/api";
import { absoluteTime } from "../lib/format";
import { lastSynced, syncSummary } from "../lib/sync";

type Props = { status: SyncStatus; onMessage: (message: string) => void };

type Mode = "sign_in" | "join";

export const SERVER_KEY = "cuecard.syncServer";

function rememberedServer(): string {
  try {
    return window.localStorage.getItem(SERVER_KEY) ?? "";
  } catch {
    return "";
  }
}

function rememberServer(url: string): void {
  try {
    window.localStorage.setItem(SERVER_KEY, url);
  } catch {
    // Storage unavailable: the rep types it again next time.
  }
}

export function SyncSettings({ status, onMessage }: Props) {
  return (
    <div className="screen settings-screen" data-testid="sync-settings">
      <header className="screen-header">
        <h1>Sync</h1>
      </header>
      {status.state === "signed_out" ? (
        <SignInCard status={status} onMessage={onMessage} />
      ) : (
        <AccountCard status={status} onMessage={onMessage} />
      )}
    </div>
  );
}

function SignInCard({ status, onMessage }: Props) {
  const [mode, setMode] = useState<Mode>("sign_in");
  const [server, setServer] = useState(status.server_url ?? rememberedServer());
  const [email, setEmail] = useState("");
  const [invitation, setInvitation] = useState("");
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const ready =
    server.trim() !== "" &&
    password !== "" &&
    (mode === "sign_in" ? email.trim() !== "" : invitation.trim() !== "" && name.trim() !== "");

  async function submit() {
    setBusy(true);
    setError(null);
    try {
      const s =
        mode === "sign_in"
          ? await commands.syncSignIn({ server_url: server, email, password })
          : await commands.syncSignUp({ server_url: server, invitation, name, password });
      rememberServer(s.server_url ?? server);
      setPassword("");
      onMessage(`Signed in as ${s.email ?? email}; syncing`);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card settings-card" data-testid="sync-sign-in">
      <h2>Sync with your team</h2>
      <p className="muted">
        Contacts, calls, transcripts, scorecards and notes sync to your team’s Cuecard server, so your manager can
        review them and your other computers stay up to date. Everything keeps working offline and catches up later.
      </p>
      <div className="segmented" role="tablist" aria-label="How to sign in">
        {(["sign_in", "join"] as const).map((m) => (
          <button key={m} type="button" role="tab" aria-selected={mode === m}
            className={`btn ${mode === m ? "btn-primary" : ""}`} data-testid={`sync-mode-${m}`}
            disabled={busy} onClick={() => {
              setMode(m);
              setError(null);
            }}>
            {m === "sign_in" ? "Sign in" : "Join with an invitation"}
          </button>
        ))}
      </div>
      <form className="form-stack" onSubmit={(e) => {
        e.preventDefault();
        if (ready && !busy) void submit();
      }}>
        <label className="field">
          <span>Server</span>
          <input data-testid="sync-server" value={server} placeholder="https://sync.example.com"
            autoComplete="url" onChange={(e) => setServer(e.target.value)} />
        </label>
        {mode === "sign_in" ? (
          <label className="field">
            <span>Email</span>
            <input data-testid="sync-email" type="email" value={email} autoComplete="username"
              onChange={(e) => setEmail(e.target.value)} />
          </label>
        ) : (
          <>
            <label className="field">
              <span>Invitation code (from your manager)</span>
              <input data-testid="sync-invitation" value={invitation} autoComplete="off"
                onChange={(e) => setInvitation(e.target.value)} />
            </label>
            <label className="field">
              <span>Your name, as your team sees it</span>
              <input data-testid="sync-name" value={name} autoComplete="name" onChange={(e) => setName(e.target.value)} />
            </label>
          </>
        )}
        <label className="field">
          <span>{mode === "sign_in" ? "Password" : "Choose a password (at least 10 characters)"}</span>
          <input data-testid="sync-password" type="password" value={password}
            autoComplete={mode === "sign_in" ? "current-password" : "new-password"}
            onChange={(e) => setPassword(e.target.value)} />
        </label>
        <div className="button-row">
          <button type="submit" className="btn btn-primary" data-testid="sync-submit" disabled={!ready || busy}>
            {busy ? "Signing in…" : mode === "sign_in" ? "Sign in" : "Join and sign in"}
          </button>
        </div>
      </form>
      {error && <p className="problem-message" role="alert" data-testid="sync-error">{error}</p>}
      {status.pending > 0 && (
        <p className="muted" data-testid="sync-pending-note">
          {status.pending} {status.pending === 1 ? "change" : "changes"} made on this computer will sync after you sign
          in.
        </p>
      )}
    </section>
  );
}

function AccountCard({ status, onMessage }: Props) {
  const [busy, setBusy] = useState<"now" | "out" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { text, tone } = syncSummary(status);

  async function run(which: "now" | "out") {
    setBusy(which);
    setError(null);
    try {
      if (which === "now") await commands.syncNow();
      else {
        await commands.syncSignOut();
        onMessage("Signed out of sync; your data stays on this computer");
      }
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

  return (
    <section className="card settings-card" data-testid="sync-account">
      <h2>
        <span className={`sync-dot ${tone}`} aria-hidden="true" /> <span data-testid="sync-state">{text}</span>
      </h2>
      <dl className="kv">
        <div className="kv-row">
          <dt>Signed in as</dt>
          <dd data-testid="sync-who">
            {status.name} ({status.email})
          </dd>
        </div>
        <div className="kv-row">
          <dt>Team</dt>
          <dd>{status.org_name}</dd>
        </div>
        <div className="kv-row">
          <dt>Server</dt>
          <dd className="mono">{status.server_url}</dd>
        </div>
        <div className="kv-row">
          <dt>Last synced</dt>
          <dd data-testid="sync-last" title={status.last_synced_at ? absoluteTime(status.last_synced_at) : undefined}>
            {lastSynced(status)}
          </dd>
        </div>
        <div className="kv-row">
          <dt>Waiting to send</dt>
          <dd data-testid="sync-pending">
            {status.pending} {status.pending === 1 ? "change" : "changes"}
          </dd>
        </div>
        <div className="kv-row">
          <dt>Recordings</dt>
          <dd data-testid="sync-recordings">
            {status.recordings_kept_on_device
              ? "Kept on this computer (your team’s policy)"
              : status.recordings_waiting > 0
                ? `${status.recordings_waiting} waiting to upload`
                : "All uploaded"}
          </dd>
        </div>
        {status.waiting > 0 && (
          <div className="kv-row">
            <dt>Waiting to apply</dt>
            <dd>{status.waiting} received rows wait for a row they refer to; they apply when it arrives.</dd>
          </div>
        )}
        {status.rejected > 0 && (
          <div className="kv-row">
            <dt>Refused</dt>
            <dd data-testid="sync-rejected">
              The server refused {status.rejected} {status.rejected === 1 ? "change" : "changes"} (the reasons are in
              the app’s log).
            </dd>
          </div>
        )}
      </dl>
      {status.error && (
        <p className={status.state === "offline" ? "result-warn" : "problem-message"} role="alert"
          data-testid="sync-problem">
          {status.error}
          {status.retry_in_secs != null && ` · retrying in ${status.retry_in_secs} s`}
        </p>
      )}
      <div className="button-row">
        <button type="button" className="btn btn-primary" data-testid="sync-now" disabled={busy !== null}
          onClick={() => void run("now")}>
          Sync now
        </button>
        <button type="button" className="btn" data-testid="sync-sign-out" disabled={busy !== null}
          onClick={() => void run("out")}>
          {busy === "out" ? "Signing out…" : "Sign out"}
        </button>
      </div>
      {error && <p className="problem-message" role="alert">{error}</p>}
    </section>
  );
}
