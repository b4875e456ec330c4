// Settings → Playbook: the team's playbook (cue cards, objections, battlecards, talk-track
// rules, stage suggestions) and scoring rubric as TOML. Edits are validated before they
// are saved (a problem names the item and field); import reads a shared file, export
// writes one, reset goes back to the built-in default. `cuecard analyze` uses the same files.
// Below, the language-model suggestions (AssistSettings).
import { useEffect, useState } from "react";
import { commands } from "../bindings";
import type { CoachDocument, DocumentKind } from "../bindings";
import { errorMessage } from "../lib/api";
import { AssistSettings } from "./AssistSettings";
import { PlaybookForm } from "./PlaybookForm";

const LABEL: Record<DocumentKind, string> = { playbook: "Playbook", rubric: "Scoring rubric" };

export function PlaybookSettings() {
  const [kind, setKind] = useState<DocumentKind>("playbook");
  // The playbook opens as a form; the rubric (and the playbook, for those who prefer)
  // as TOML.
  const [mode, setMode] = useState<"form" | "toml">("form");
  const [doc, setDoc] = useState<CoachDocument | null>(null);
  const [text, setText] = useState("");
  const [path, setPath] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  useEffect(() => {
    let live = true;
    setDoc(null);
    setMessage(null);
    commands
      .coachDocument(kind)
      .then((d) => {
        if (!live) return;
        setDoc(d);
        setText(d.toml);
      })
      .catch((e: unknown) => live && setMessage({ ok: false, text: errorMessage(e) }));
    return () => {
      live = false;
    };
  }, [kind]);

  async function run(action: () => Promise<CoachDocument>, done: string) {
    setBusy(true);
    setMessage(null);
    try {
      const d = await action();
      setDoc(d);
      setText(d.toml);
      setMessage({ ok: true, text: done });
    } catch (e) {
      setMessage({ ok: false, text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  }

  async function exportTo() {
    setBusy(true);
    setMessage(null);
    try {
      const written = await commands.coachDocumentExport(kind, path);
      setMessage({ ok: true, text: `Exported to ${written}.` });
    } catch (e) {
      setMessage({ ok: false, text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  }

  const dirty = doc !== null && text !== doc.toml;

  return (
    <div className="screen settings-screen" data-testid="playbook-settings">
      <header className="screen-header">
        <h1>Playbook</h1>
        <div className="segmented" role="tablist">
          {(["playbook", "rubric"] as const).map((k) => (
            <button
              key={k}
              type="button"
              role="tab"
              aria-selected={kind === k}
              className={`btn ${kind === k ? "btn-primary" : ""}`}
              data-testid={`doc-${k}`}
              disabled={busy || dirty}
              title={dirty ? "Save or revert your edits first" : undefined}
              onClick={() => setKind(k)}
            >
              {LABEL[k]}
            </button>
          ))}
        </div>
      </header>
      {kind === "playbook" && (
        <div className="segmented" role="tablist" aria-label="Edit as">
          {(["form", "toml"] as const).map((m) => (
            <button
              key={m}
              type="button"
              role="tab"
              aria-selected={mode === m}
              className={`btn ${mode === m ? "btn-primary" : ""}`}
              data-testid={`mode-${m}`}
              disabled={busy || dirty}
              onClick={() => setMode(m)}
            >
              {m === "form" ? "Form" : "TOML"}
            </button>
          ))}
        </div>
      )}
      {kind === "playbook" && mode === "form" ? (
        <section className="card settings-card">
          <p className="muted" data-testid="doc-summary">
            {doc ? `${doc.custom ? "Your team's" : "The built-in"} playbook: ${doc.summary}` : "Loading…"}
          </p>
          <PlaybookForm
            onSaved={(d) => {
              setDoc(d);
              setText(d.toml);
            }}
          />
        </section>
      ) : (
      <section className="card settings-card">
        <p className="muted" data-testid="doc-summary">
          {doc
            ? `${doc.custom ? "Your team's" : "The built-in"} ${LABEL[kind].toLowerCase()}: ${doc.summary}`
            : "Loading…"}
        </p>
        <textarea
          className="input mono toml-editor"
          data-testid="doc-text"
          spellCheck={false}
          value={text}
          onChange={(e) => setText(e.target.value)}
          rows={24}
          aria-label={`${LABEL[kind]} (TOML)`}
        />
        {message && (
          <p className={message.ok ? "ok-message" : "problem-message"} role={message.ok ? "status" : "alert"} data-testid="doc-message">
            {message.text}
          </p>
        )}
        <div className="button-row">
          <button
            type="button"
            className="btn btn-primary"
            data-testid="doc-save"
            disabled={busy || !dirty}
            onClick={() => void run(() => commands.coachDocumentSave(kind, text), "Saved. New calls use it.")}
          >
            Save
          </button>
          <button type="button" className="btn" disabled={busy || !dirty} onClick={() => doc && setText(doc.toml)}>
            Revert
          </button>
          <button
            type="button"
            className="btn btn-danger-outline"
            data-testid="doc-reset"
            disabled={busy || !doc?.custom}
            onClick={() => void run(() => commands.coachDocumentReset(kind), "Back to the built-in default.")}
          >
            Reset to default
          </button>
        </div>
      </section>
      )}
      <section className="card settings-card">
        <h2>Share</h2>
        <label className="field">
          <span>File</span>
          <input
            className="input"
            data-testid="doc-path"
            placeholder="/home/me/team-playbook.toml"
            value={path}
            onChange={(e) => setPath(e.target.value)}
          />
        </label>
        <div className="button-row">
          <button
            type="button"
            className="btn"
            data-testid="doc-import"
            disabled={busy || dirty || !path.trim()}
            onClick={() => void run(() => commands.coachDocumentImport(kind, path), "Imported and saved.")}
          >
            Import
          </button>
          <button type="button" className="btn" data-testid="doc-export" disabled={busy || !path.trim()} onClick={() => void exportTo()}>
            Export
          </button>
        </div>
      </section>
      <AssistSettings />
    </div>
  );
}
