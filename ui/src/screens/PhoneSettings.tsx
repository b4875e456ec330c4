// Settings → Phone: the SIP login on the Twilio SIP Domain (user, domain, transport,
// media encryption, an optional proxy), the SIP password (kept in the OS keychain, never
// shown again), and "Test connection", which registers and unregisters without saving.
// Below it, the Twilio account (SID, auth token in the keychain, voice URL) and "Set up
// the SIP Domain", which creates or repairs the Domain and adds this login to it.
import { useEffect, useState } from "react";
import { commands } from "../bindings";
import type {
  ConnectionTest,
  MediaEncryption,
  PhoneSettings as Settings,
  SipTransport,
  TwilioAccount,
  TwilioSetupResult,
} from "../bindings";
import { errorMessage } from "../lib/api";

type Props = { onSaved: (message: string) => void };

/** The settings with every field present (the file may leave any out). */
type Full = Required<Omit<Settings, "twilio">> & { twilio: Required<TwilioAccount> };

export function withDefaults(v: Settings): Full {
  return {
    user: v.user ?? "",
    domain: v.domain ?? "",
    proxy: v.proxy ?? null,
    transport: v.transport ?? "tls",
    encryption: v.encryption ?? "required",
    display_name: v.display_name ?? null,
    register_expires: v.register_expires ?? 600,
    tls_ca_file: v.tls_ca_file ?? null,
    twilio: {
      account_sid: v.twilio?.account_sid ?? null,
      voice_url: v.twilio?.voice_url ?? null,
      base_url: v.twilio?.base_url ?? null,
    },
  };
}

export function PhoneSettings({ onSaved }: Props) {
  const [settings, setSettings] = useState<Full | null>(null);
  const [passwordSaved, setPasswordSaved] = useState(false);
  const [password, setPassword] = useState("");
  const [loadError, setLoadError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<"save" | "test" | null>(null);
  const [test, setTest] = useState<{ ok: true; result: ConnectionTest } | { ok: false; message: string } | null>(null);
  const [token, setToken] = useState("");
  const [tokenSaved, setTokenSaved] = useState(false);
  const [twilioBusy, setTwilioBusy] = useState(false);
  const [twilio, setTwilio] = useState<{ ok: true; result: TwilioSetupResult } | { ok: false; message: string } | null>(null);

  useEffect(() => {
    commands
      .twilioTokenSaved()
      .then(setTokenSaved)
      .catch(() => setTokenSaved(false));
  }, []);

  useEffect(() => {
    commands
      .phoneSettings()
      .then((v) => {
        setSettings(withDefaults(v.settings));
        setPasswordSaved(v.password_saved);
      })
      .catch((e: unknown) => setLoadError(errorMessage(e)));
  }, []);

  if (loadError) return <p className="problem-message" role="alert">{loadError}</p>;
  if (!settings) return <p className="muted">Loading…</p>;

  const s = settings;
  const set = (patch: Partial<Full>) => {
    setSettings({ ...s, ...patch });
    setTest(null);
  };
  const optional = (v: string) => (v.trim() ? v.trim() : null);

  async function save() {
    setBusy("save");
    setError(null);
    try {
      const v = await commands.savePhoneSettings(s, password || null);
      setSettings(withDefaults(v.settings));
      setPasswordSaved(v.password_saved);
      setPassword("");
      onSaved("Phone settings saved");
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

  async function setUpDomain() {
    setTwilioBusy(true);
    setTwilio(null);
    try {
      const result = await commands.twilioSetup({
        account_sid: s.twilio.account_sid ?? "",
        auth_token: token || null,
        voice_url: s.twilio.voice_url ?? "",
        base_url: s.twilio.base_url,
      });
      setSettings(withDefaults(result.settings));
      setToken("");
      setTokenSaved(true);
      setTwilio({ ok: true, result });
    } catch (e) {
      setTwilio({ ok: false, message: errorMessage(e) });
    } finally {
      setTwilioBusy(false);
    }
  }
  const setTwilioField = (patch: Partial<Full["twilio"]>) => set({ twilio: { ...s.twilio, ...patch } });

  async function runTest() {
    setBusy("test");
    setError(null);
    setTest(null);
    try {
      setTest({ ok: true, result: await commands.phoneTest(s, password || null) });
    } catch (e) {
      setTest({ ok: false, message: errorMessage(e) });
    } finally {
      setBusy(null);
    }
  }

  return (
    <div className="screen settings-screen" data-testid="phone-settings">
      <header className="screen-header">
        <h1>Phone</h1>
      </header>
      <section className="card settings-card">
        <h2>SIP login</h2>
        <p className="muted">
          Cuecard is a phone on your Twilio SIP Domain. Use a login from the Domain’s credential list; calls you
          place go out through the Domain’s voice URL.
        </p>
        <label className="field">
          <span>SIP user name</span>
          <input data-testid="phone-user" value={s.user} autoComplete="username" onChange={(e) => set({ user: e.target.value })} />
        </label>
        <label className="field">
          <span>SIP Domain</span>
          <input data-testid="phone-domain" value={s.domain} placeholder="acme.sip.twilio.com"
            onChange={(e) => set({ domain: e.target.value })} />
        </label>
        <label className="field">
          <span>Password{passwordSaved ? " (saved in the keychain; type to replace it)" : ""}</span>
          <input data-testid="phone-password" type="password" value={password} autoComplete="current-password"
            placeholder={passwordSaved ? "••••••••" : ""} onChange={(e) => {
              setPassword(e.target.value);
              setTest(null);
            }} />
        </label>
        <label className="field">
          <span>Name shown to people you call</span>
          <input data-testid="phone-display-name" value={s.display_name ?? ""}
            onChange={(e) => set({ display_name: optional(e.target.value) })} />
        </label>
        <details>
          <summary>Connection</summary>
          <label className="field">
            <span>Transport</span>
            <select data-testid="phone-transport" value={s.transport}
              onChange={(e) => set({ transport: e.target.value as SipTransport })}>
              <option value="tls">TLS (encrypted signalling, port 5061)</option>
              <option value="tcp">TCP</option>
              <option value="udp">UDP</option>
            </select>
          </label>
          <label className="field">
            <span>Call audio encryption (SRTP)</span>
            <select data-testid="phone-encryption" value={s.encryption}
              onChange={(e) => set({ encryption: e.target.value as MediaEncryption })}>
              <option value="required">Required (Twilio Secure Media)</option>
              <option value="optional">When the other side supports it</option>
              <option value="off">Off</option>
            </select>
          </label>
          <label className="field">
            <span>Proxy (host:port, when it is not the domain)</span>
            <input data-testid="phone-proxy" value={s.proxy ?? ""} onChange={(e) => set({ proxy: optional(e.target.value) })} />
          </label>
          <label className="field">
            <span>Extra CA certificate for TLS (PEM file)</span>
            <input data-testid="phone-ca" value={s.tls_ca_file ?? ""}
              onChange={(e) => set({ tls_ca_file: optional(e.target.value) })} />
          </label>
          <label className="field">
            <span>Registration lifetime (seconds)</span>
            <input data-testid="phone-expires" type="number" min={60} max={3600} value={s.register_expires}
              onChange={(e) => set({ register_expires: Number(e.target.value) || 600 })} />
          </label>
        </details>
        <div className="button-row">
          <button type="button" className="btn btn-primary" data-testid="phone-save" disabled={busy !== null}
            onClick={() => void save()}>
            {busy === "save" ? "Saving…" : "Save"}
          </button>
          <button type="button" className="btn" data-testid="phone-test" disabled={busy !== null || !s.user || !s.domain}
            onClick={() => void runTest()}>
            {busy === "test" ? "Connecting…" : "Test connection"}
          </button>
        </div>
        {error && <p className="problem-message" role="alert" data-testid="phone-settings-error">{error}</p>}
        {test?.ok === true && (
          <p className="result-ok" data-testid="phone-test-result">
            Connected: registered {test.result.account} in {test.result.elapsed_ms} ms (for {test.result.expires} s), then
            signed off again.
          </p>
        )}
        {test?.ok === false && (
          <p className="result-warn" data-testid="phone-test-result">
            Could not connect: {test.message}
          </p>
        )}
      </section>

      <section className="card settings-card" data-testid="twilio-settings">
        <h2>Twilio account</h2>
        <p className="muted">
          Optional: Cuecard can create the SIP Domain (or repair it) and add the login above to it. Save the login and
          password first.
        </p>
        <label className="field">
          <span>Account SID</span>
          <input data-testid="twilio-sid" value={s.twilio.account_sid ?? ""} placeholder="AC…"
            onChange={(e) => setTwilioField({ account_sid: optional(e.target.value) })} />
        </label>
        <label className="field">
          <span>Auth token{tokenSaved ? " (saved in the keychain; type to replace it)" : ""}</span>
          <input data-testid="twilio-token" type="password" value={token} placeholder={tokenSaved ? "••••••••" : ""}
            onChange={(e) => setToken(e.target.value)} />
        </label>
        <label className="field">
          <span>Voice URL (answers the Domain's calls with TwiML that dials the number)</span>
          <input data-testid="twilio-voice-url" value={s.twilio.voice_url ?? ""} placeholder="https://…"
            onChange={(e) => setTwilioField({ voice_url: optional(e.target.value) })} />
        </label>
        <details>
          <summary>API</summary>
          <label className="field">
            <span>REST API base URL</span>
            <input data-testid="twilio-base-url" value={s.twilio.base_url ?? ""} placeholder="https://api.twilio.com"
              onChange={(e) => setTwilioField({ base_url: optional(e.target.value) })} />
          </label>
        </details>
        <div className="button-row">
          <button type="button" className="btn" data-testid="twilio-setup"
            disabled={twilioBusy || !s.twilio.account_sid || !s.twilio.voice_url}
            onClick={() => void setUpDomain()}>
            {twilioBusy ? "Setting up…" : "Set up the SIP Domain"}
          </button>
        </div>
        {twilio?.ok === true && (
          <div className="result-ok" data-testid="twilio-result">
            <p>{twilio.result.domain} is ready:</p>
            <ul>
              {twilio.result.steps.map((step) => (
                <li key={step}>{step}</li>
              ))}
            </ul>
          </div>
        )}
        {twilio?.ok === false && (
          <p className="result-warn" data-testid="twilio-result">
            The set-up stopped: {twilio.message}
          </p>
        )}
      </section>
    </div>
  );
}
