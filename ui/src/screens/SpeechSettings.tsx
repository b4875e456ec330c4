// Settings → Speech: which engine transcribes live calls, practice and post-call
// recordings (with fall-back to local), the cloud API keys (kept in the OS keychain), the
// whisper model manager (download with progress and cancel, import, remove), and a live
// transcription test from the mic.
import { useCallback, useEffect, useState } from "react";
import { commands, events } from "../bindings";
import type {
  CloudSettings,
  EngineKind,
  KeyStatus,
  ModelDownloadEvent,
  ModelsOverview,
  SecretName,
  SpeechSettings as Settings,
  SpeechTestStarted,
  TranscriptEvent,
  UseSettings,
} from "../bindings";
import { errorMessage } from "../lib/api";
import { getAudioChoices } from "../lib/audioSettings";

/** The settings as the backend always sends them: every field present. */
type Full = Required<Omit<Settings, "live_call" | "practice" | "post_call" | "deepgram" | "openai">> & {
  live_call: Required<UseSettings>;
  practice: Required<UseSettings>;
  post_call: Required<UseSettings>;
  deepgram: CloudSettings;
  openai: CloudSettings;
};

type UseKey = "live_call" | "practice" | "post_call";

const USES: { key: UseKey; label: string; live: boolean }[] = [
  { key: "live_call", label: "Live calls", live: true },
  { key: "practice", label: "Practice", live: true },
  { key: "post_call", label: "Post-call transcripts", live: false },
];

const ENGINES: { kind: EngineKind; label: string; liveOk: boolean }[] = [
  { kind: "local", label: "On this computer (whisper)", liveOk: true },
  { kind: "deepgram", label: "Deepgram (cloud, streaming)", liveOk: true },
  { kind: "openai", label: "OpenAI-compatible (cloud, files only)", liveOk: false },
];

function mib(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(bytes < 10_485_760 ? 1 : 0)} MiB`;
}

function keySource(k: KeyStatus): string {
  if (k.error) return `Keychain unavailable: ${k.error}`;
  if (k.source === "keychain") return "Saved in the system keychain";
  if (k.source === "environment") return `From $${k.env_var}`;
  return "Not set";
}

/** The mic test's transcript: committed text plus the current partial. */
type TestTranscript = { finals: string[]; partial: string; notices: string[] };

const EMPTY_TEST: TestTranscript = { finals: [], partial: "", notices: [] };

function applyEvent(t: TestTranscript, e: TranscriptEvent): TestTranscript {
  switch (e.kind) {
    case "partial":
      return { ...t, partial: e.segment.text };
    case "final":
      return { ...t, finals: [...t.finals, e.segment.text], partial: "" };
    case "end_of_utterance":
      return { ...t, partial: "" };
    case "notice":
      return { ...t, notices: [...t.notices, `${e.notice.engine}: ${e.notice.message}`] };
  }
}

export function SpeechSettings() {
  const [settings, setSettings] = useState<Full | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [saveState, setSaveState] = useState<{ ok: boolean; text: string } | null>(null);
  const [keys, setKeys] = useState<KeyStatus[]>([]);
  const [keyDrafts, setKeyDrafts] = useState<Partial<Record<SecretName, string>>>({});
  const [keyError, setKeyError] = useState<string | null>(null);
  const [models, setModels] = useState<ModelsOverview | null>(null);
  const [progress, setProgress] = useState<Record<string, ModelDownloadEvent>>({});
  const [modelError, setModelError] = useState<string | null>(null);
  const [importPath, setImportPath] = useState("");
  const [importName, setImportName] = useState("");
  const [importing, setImporting] = useState(false);
  const [importFraction, setImportFraction] = useState<number | null>(null);
  const [test, setTest] = useState<SpeechTestStarted | null>(null);
  const [testBusy, setTestBusy] = useState(false);
  const [testError, setTestError] = useState<string | null>(null);
  const [transcript, setTranscript] = useState<TestTranscript>(EMPTY_TEST);

  const loadModels = useCallback(async () => {
    try {
      setModels(await commands.speechModels());
    } catch (e) {
      setModelError(errorMessage(e));
    }
  }, []);

  useEffect(() => {
    void (async () => {
      try {
        const state = await commands.speechSettings();
        setSettings(state.settings as Full);
        setProblem(state.problem);
      } catch (e) {
        setProblem(errorMessage(e));
      }
    })();
    commands.speechKeys().then(setKeys).catch((e: unknown) => setKeyError(errorMessage(e)));
    void loadModels();
  }, [loadModels]);

  // Download progress and the mic test's transcript arrive as events.
  useEffect(() => {
    const unlisten: Array<() => void> = [];
    let cancelled = false;
    void (async () => {
      const a = await events.modelDownloadEvent.listen((e) => {
        if (!cancelled) setProgress((p) => ({ ...p, [e.payload.id]: e.payload }));
      });
      const b = await events.speechTestEvent.listen((e) => {
        if (!cancelled) setTranscript((t) => applyEvent(t, e.payload.event));
      });
      const c = await events.modelImportEvent.listen((e) => {
        if (!cancelled) setImportFraction(e.payload.fraction);
      });
      if (cancelled) {
        a();
        b();
        c();
      } else unlisten.push(a, b, c);
    })();
    return () => {
      cancelled = true;
      unlisten.forEach((u) => u());
    };
  }, []);

  // Leaving the screen ends a running mic test.
  useEffect(() => () => void commands.speechTestStop().catch(() => {}), []);

  async function save(next: Full) {
    setSettings(next);
    try {
      setSettings((await commands.saveSpeechSettings(next)) as Full);
      setProblem(null);
      setSaveState({ ok: true, text: "Saved." });
    } catch (e) {
      setSaveState({ ok: false, text: errorMessage(e) });
      // Show what is really saved, not the refused change.
      commands.speechSettings().then((state) => setSettings(state.settings as Full)).catch(() => {});
    }
  }

  function setUse(key: UseKey, change: Partial<Required<UseSettings>>) {
    if (!settings) return;
    void save({ ...settings, [key]: { ...settings[key], ...change } });
  }

  async function storeKey(name: SecretName) {
    setKeyError(null);
    try {
      setKeys(await commands.setSpeechKey(name, keyDrafts[name] ?? ""));
      setKeyDrafts((d) => ({ ...d, [name]: "" }));
    } catch (e) {
      setKeyError(errorMessage(e));
    }
  }

  async function removeKey(name: SecretName) {
    setKeyError(null);
    try {
      setKeys(await commands.removeSpeechKey(name));
    } catch (e) {
      setKeyError(errorMessage(e));
    }
  }

  async function download(id: string) {
    setModelError(null);
    setModels((m) => (m ? { ...m, downloading: [...m.downloading, id] } : m));
    try {
      await commands.modelDownload(id);
    } catch (e) {
      const err = e as { kind?: string };
      if (err.kind !== "cancelled") setModelError(errorMessage(e));
    } finally {
      setProgress((p) => {
        const rest = { ...p };
        delete rest[id];
        return rest;
      });
      await loadModels();
    }
  }

  async function remove(id: string) {
    setModelError(null);
    try {
      setModels(await commands.modelRemove(id));
      if (settings?.local_model === id) await save({ ...settings, local_model: null });
    } catch (e) {
      setModelError(errorMessage(e));
    }
  }

  async function importModel() {
    setModelError(null);
    setImporting(true);
    setImportFraction(null);
    try {
      const model = await commands.modelImport(importPath, importName.trim() || null);
      setImportPath("");
      setImportName("");
      setSaveState({ ok: true, text: `Installed ${model.id}.` });
      await loadModels();
    } catch (e) {
      setModelError(errorMessage(e));
    } finally {
      setImporting(false);
      setImportFraction(null);
    }
  }

  async function startTest() {
    setTestBusy(true);
    setTestError(null);
    setTranscript(EMPTY_TEST);
    try {
      setTest(await commands.speechTestStart(getAudioChoices().mic));
    } catch (e) {
      setTestError(errorMessage(e));
    } finally {
      setTestBusy(false);
    }
  }

  async function stopTest() {
    setTestBusy(true);
    try {
      await commands.speechTestStop();
    } catch (e) {
      setTestError(errorMessage(e));
    } finally {
      setTest(null);
      setTestBusy(false);
    }
  }

  if (!settings) {
    return (
      <div className="screen settings-screen">
        <header className="screen-header"><h1>Speech</h1></header>
        {problem ? <p className="problem-message" role="alert">{problem}</p> : <p className="muted">Loading…</p>}
      </div>
    );
  }

  const installed = models?.installed ?? [];
  const cloudChosen = (kind: EngineKind) => USES.some((u) => settings[u.key].engine === kind);

  return (
    <div className="screen settings-screen">
      <header className="screen-header">
        <h1>Speech</h1>
        {saveState && (
          <span className={saveState.ok ? "result-ok" : "result-warn"} data-testid="speech-save-state" role={saveState.ok ? undefined : "alert"}>
            {saveState.text}
          </span>
        )}
      </header>
      {problem && <p className="problem-message" role="alert" data-testid="speech-problem">{problem}</p>}

      <section className="card settings-card">
        <h2>Engines</h2>
        {USES.map((u) => (
          <div key={u.key} className="engine-row">
            <label className="field">
              <span>{u.label}</span>
              <select className="input" data-testid={`speech-engine-${u.key}`} value={settings[u.key].engine}
                onChange={(e) => setUse(u.key, { engine: e.target.value as EngineKind })}>
                {ENGINES.filter((en) => en.liveOk || !u.live).map((en) => (
                  <option key={en.kind} value={en.kind}>{en.label}</option>
                ))}
              </select>
            </label>
            {settings[u.key].engine !== "local" && (
              <label className="checkbox">
                <input type="checkbox" data-testid={`speech-fallback-${u.key}`} checked={settings[u.key].fallback_to_local}
                  onChange={(e) => setUse(u.key, { fallback_to_local: e.target.checked })} />
                If the cloud fails, carry on on this computer
              </label>
            )}
          </div>
        ))}
        <label className="field">
          <span>Local model</span>
          <select className="input" data-testid="speech-local-model" value={settings.local_model ?? ""}
            onChange={(e) => void save({ ...settings, local_model: e.target.value || null })}>
            <option value="">Best installed English model</option>
            {installed.map((m) => (
              <option key={m.id} value={m.id}>{m.id}</option>
            ))}
            {settings.local_model && !installed.some((m) => m.id === settings.local_model) && (
              <option value={settings.local_model}>{settings.local_model} (not installed)</option>
            )}
          </select>
        </label>
        <label className="field">
          <span>Language</span>
          <input className="input" data-testid="speech-language" defaultValue={settings.language}
            onBlur={(e) => e.target.value !== settings.language && void save({ ...settings, language: e.target.value })} />
        </label>
      </section>

      <section className="card settings-card">
        <h2>Try it</h2>
        <p className="muted">Speak into your mic and watch the live-call engine transcribe you.</p>
        <div className="button-row">
          {test ? (
            <button type="button" className="btn" data-testid="speech-test-stop" disabled={testBusy} onClick={() => void stopTest()}>
              Stop
            </button>
          ) : (
            <button type="button" className="btn btn-primary" data-testid="speech-test-start" disabled={testBusy}
              onClick={() => void startTest()}>
              {testBusy ? "Loading the engine…" : "Start live transcription"}
            </button>
          )}
        </div>
        {test && <p className="muted" data-testid="speech-test-device">Listening on {test.device} with the {test.engine} engine.</p>}
        {test?.warning && <p className="result-warn">{test.warning}</p>}
        {testError && <p className="problem-message" role="alert" data-testid="speech-test-error">{testError}</p>}
        <div className="live-transcript" data-testid="speech-test-transcript" aria-live="polite">
          {transcript.finals.join(" ")}
          {transcript.partial && <span className="muted"> {transcript.partial}</span>}
        </div>
        {transcript.notices.map((n, i) => (
          <p key={i} className="result-warn">{n}</p>
        ))}
      </section>
      <section className="card settings-card">
        <h2>Cloud keys</h2>
        <p className="muted">Keys are kept in your system keychain, never in Cuecard’s files.</p>
        {keys.filter((k) => k.name !== "llm_api_key").map((k) => (
          <div key={k.name} className="key-row" data-testid={`speech-key-${k.name}`}>
            <div>
              <strong>{k.label}</strong>
              {cloudChosen(k.name === "deepgram_api_key" ? "deepgram" : "openai") && !k.source && (
                <span className="result-warn"> · needed by your engine choice</span>
              )}
              <div className="muted" data-testid={`speech-key-state-${k.name}`}>{keySource(k)}</div>
            </div>
            <input className="input" type="password" autoComplete="off" placeholder="Paste a new key" aria-label={`${k.label}`}
              data-testid={`speech-key-input-${k.name}`} value={keyDrafts[k.name] ?? ""}
              onChange={(e) => setKeyDrafts((d) => ({ ...d, [k.name]: e.target.value }))} />
            <button type="button" className="btn" data-testid={`speech-key-save-${k.name}`}
              disabled={!(keyDrafts[k.name] ?? "").trim()} onClick={() => void storeKey(k.name)}>
              Save
            </button>
            {k.source === "keychain" && (
              <button type="button" className="btn" data-testid={`speech-key-remove-${k.name}`} onClick={() => void removeKey(k.name)}>
                Remove
              </button>
            )}
          </div>
        ))}
        {keyError && <p className="problem-message" role="alert">{keyError}</p>}
        <details>
          <summary>Endpoints</summary>
          <CloudFields label="Deepgram" value={settings.deepgram} testId="deepgram"
            onSave={(deepgram) => void save({ ...settings, deepgram })} />
          <CloudFields label="OpenAI-compatible" value={settings.openai} testId="openai"
            onSave={(openai) => void save({ ...settings, openai })} />
        </details>
      </section>

      <section className="card settings-card">
        <h2>Models</h2>
        {models && <p className="muted">Stored in {models.dir}</p>}
        <table className="models-table">
          <thead>
            <tr><th>Model</th><th>Size</th><th>Language</th><th /></tr>
          </thead>
          <tbody>
            {models?.catalog.map((c) => {
              const here = installed.find((m) => m.id === c.id);
              const p = progress[c.id];
              const running = models.downloading.includes(c.id);
              return (
                <tr key={c.id} data-testid={`model-${c.id}`}>
                  <td>{c.id}</td>
                  <td>{here ? mib(here.bytes) : `~${c.approx_mib} MiB`}</td>
                  <td>{c.english_only ? "English" : "Multilingual"}</td>
                  <td className="model-actions">
                    {here && (
                      <button type="button" className="btn" data-testid={`model-remove-${c.id}`} onClick={() => void remove(c.id)}>
                        Remove
                      </button>
                    )}
                    {!here && !running && (
                      <button type="button" className="btn" data-testid={`model-download-${c.id}`} onClick={() => void download(c.id)}>
                        Download
                      </button>
                    )}
                    {running && (
                      <>
                        <progress data-testid={`model-progress-${c.id}`} max={p?.total ?? undefined} value={p?.downloaded ?? 0} />
                        <span className="muted">
                          {p ? (p.total ? `${Math.floor((p.downloaded * 100) / p.total)}%` : mib(p.downloaded)) : "starting…"}
                        </span>
                        <button type="button" className="btn" data-testid={`model-cancel-${c.id}`}
                          onClick={() => void commands.modelDownloadCancel(c.id)}>
                          Cancel
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              );
            })}
            {installed
              .filter((m) => !models?.catalog.some((c) => c.id === m.id))
              .map((m) => (
                <tr key={m.id} data-testid={`model-${m.id}`}>
                  <td>{m.id}</td>
                  <td>{mib(m.bytes)}</td>
                  <td>imported</td>
                  <td className="model-actions">
                    <button type="button" className="btn" data-testid={`model-remove-${m.id}`} onClick={() => void remove(m.id)}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
          </tbody>
        </table>
        <div className="import-row">
          <input className="input" data-testid="model-import-path" placeholder="Path to a ggml .bin file or a faster-whisper model folder"
            value={importPath} onChange={(e) => setImportPath(e.target.value)} />
          <input className="input" data-testid="model-import-name" placeholder="Name (optional)" value={importName}
            onChange={(e) => setImportName(e.target.value)} />
          <button type="button" className="btn" data-testid="model-import" disabled={!importPath.trim() || importing}
            onClick={() => void importModel()}>
            {importing ? "Importing…" : "Import"}
          </button>
        </div>
        {importing && (
          <div className="meter-row">
            <progress data-testid="model-import-progress" max={1} value={importFraction ?? 0} />
            <span className="muted">
              {importFraction === null ? "checking the file…" : `${Math.round(importFraction * 100)}%`}
            </span>
          </div>
        )}
        {modelError && <p className="problem-message" role="alert" data-testid="model-error">{modelError}</p>}
      </section>

    </div>
  );
}

function CloudFields({ label, value, testId, onSave }: {
  label: string;
  value: CloudSettings;
  testId: string;
  onSave: (v: CloudSettings) => void;
}) {
  const [draft, setDraft] = useState(value);
  useEffect(() => setDraft(value), [value]);
  const changed = draft.base_url !== value.base_url || draft.model !== value.model;
  return (
    <div className="cloud-fields">
      <label className="field">
        <span>{label} URL</span>
        <input className="input" data-testid={`speech-${testId}-url`} value={draft.base_url} onChange={(e) => setDraft({ ...draft, base_url: e.target.value })} />
      </label>
      <label className="field">
        <span>{label} model</span>
        <input className="input" data-testid={`speech-${testId}-model`} value={draft.model} onChange={(e) => setDraft({ ...draft, model: e.target.value })} />
      </label>
      <button type="button" className="btn" data-testid={`speech-${testId}-save`} disabled={!changed} onClick={() => onSave(draft)}>
        Save {label} endpoint
      </button>
    </div>
  );
}
