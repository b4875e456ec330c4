// Settings → Playbook → AI suggestions: whether the live coach asks a language model
// (any OpenAI-compatible endpoint, a local server included) what to say next, which
// endpoint and model, how old a suggestion may be, and the endpoint's key (kept in the
// system keychain). The rules never wait for the model; late answers are dropped.
import { useEffect, useState } from "react";
import { commands } from "../bindings";
import type { AssistSettings as Settings, KeyStatus } from "../bindings";
import { errorMessage } from "../lib/api";

const KEY = "llm_api_key" as const;

export function AssistSettings() {
  const [saved, setSaved] = useState<Settings | null>(null);
  const [draft, setDraft] = useState<Settings | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [key, setKey] = useState<KeyStatus | null>(null);
  const [keyDraft, setKeyDraft] = useState("");
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  useEffect(() => {
    commands
      .coachSettings()
      .then((s) => {
        setSaved(s.settings.assist ?? null);
        setDraft(s.settings.assist ?? null);
        setProblem(s.problem);
      })
      .catch((e: unknown) => setProblem(errorMessage(e)));
    commands
      .speechKeys()
      .then((keys) => setKey(keys.find((k) => k.name === KEY) ?? null))
      .catch(() => {});
  }, []);

  if (!draft) {
    return (
      <section className="card settings-card" data-testid="assist-settings">
        <h2>AI suggestions</h2>
        <p className="muted">{problem ?? "Loading…"}</p>
      </section>
    );
  }

  async function save(next: Settings) {
    setMessage(null);
    try {
      const s = await commands.saveCoachSettings({ assist: next });
      setSaved(s.assist ?? next);
      setDraft(s.assist ?? next);
      setProblem(null);
      setMessage({ ok: true, text: "Saved. The next call uses it." });
    } catch (e) {
      setMessage({ ok: false, text: errorMessage(e) });
    }
  }

  async function storeKey() {
    try {
      const keys = await commands.setSpeechKey(KEY, keyDraft);
      setKey(keys.find((k) => k.name === KEY) ?? null);
      setKeyDraft("");
    } catch (e) {
      setMessage({ ok: false, text: errorMessage(e) });
    }
  }

  async function removeKey() {
    try {
      const keys = await commands.removeSpeechKey(KEY);
      setKey(keys.find((k) => k.name === KEY) ?? null);
    } catch (e) {
      setMessage({ ok: false, text: errorMessage(e) });
    }
  }

  const dirty = JSON.stringify(saved) !== JSON.stringify(draft);
  const set = (patch: Partial<Settings>) => setDraft({ ...draft, ...patch });

  return (
    <section className="card settings-card" data-testid="assist-settings">
      <h2>AI suggestions</h2>
      <p className="muted">
        During a call, after the customer speaks, a language model suggests what you could say next. Cards from the
        playbook never wait for it, and a suggestion that comes too late is not shown.
      </p>
      {problem && <p className="problem-message" role="alert">{problem}</p>}
      <label className="checkbox">
        <input
          type="checkbox"
          data-testid="assist-enabled"
          checked={draft.enabled ?? false}
          onChange={(e) => set({ enabled: e.target.checked })}
        />
        Ask a language model for suggestions
      </label>
      <label className="field">
        <span>Endpoint (OpenAI-compatible)</span>
        <input
          className="input"
          data-testid="assist-base-url"
          value={draft.base_url ?? ""}
          placeholder="https://api.openai.com/v1"
          onChange={(e) => set({ base_url: e.target.value })}
        />
      </label>
      <label className="field">
        <span>Model</span>
        <input className="input" data-testid="assist-model" value={draft.model ?? ""} onChange={(e) => set({ model: e.target.value })} />
      </label>
      <label className="field">
        <span>Drop a suggestion older than (seconds)</span>
        <input
          className="input"
          type="number"
          min={0.5}
          max={60}
          step={0.5}
          data-testid="assist-max-age"
          value={(draft.max_age_ms ?? 6000) / 1000}
          onChange={(e) => set({ max_age_ms: Math.round(Number(e.target.value) * 1000) })}
        />
      </label>
      <div className="button-row">
        <button type="button" className="btn btn-primary" data-testid="assist-save" disabled={!dirty} onClick={() => void save(draft)}>
          Save
        </button>
        <button type="button" className="btn" disabled={!dirty} onClick={() => setDraft(saved)}>
          Revert
        </button>
      </div>
      {message && (
        <p className={message.ok ? "ok-message" : "problem-message"} role={message.ok ? "status" : "alert"} data-testid="assist-message">
          {message.text}
        </p>
      )}
      <div className="key-row" data-testid="assist-key">
        <div>
          <strong>API key</strong>
          <div className="muted" data-testid="assist-key-state">
            {key?.source === "keychain"
              ? "Saved in the system keychain"
              : key?.source === "environment"
                ? "From the CUECARD_LLM_API_KEY environment variable"
                : "None (fine for a local server)"}
          </div>
        </div>
        <input
          className="input"
          type="password"
          autoComplete="off"
          placeholder="Paste a new key"
          aria-label="Language model API key"
          data-testid="assist-key-input"
          value={keyDraft}
          onChange={(e) => setKeyDraft(e.target.value)}
        />
        <button type="button" className="btn" data-testid="assist-key-save" disabled={!keyDraft.trim()} onClick={() => void storeKey()}>
          Save
        </button>
        {key?.source === "keychain" && (
          <button type="button" className="btn" onClick={() => void removeKey()}>
            Remove
          </button>
        )}
      </div>
    </section>
  );
}
