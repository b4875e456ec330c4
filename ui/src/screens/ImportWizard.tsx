// The CSV import wizard: choose a file (step 1), map columns and preview (step 2), report (step 3).
import { useRef, useState } from "react";
import { commands } from "../bindings";
import type { ColumnMapping, ImportOptions, ImportReport } from "../bindings";
import { errorMessage, getRegion, setRegion } from "../lib/api";
import { ENCODINGS } from "../lib/choices";
import { RegionOptions } from "../components/RegionOptions";
import { base64FromBytes } from "../lib/format";
import { ImportMapping } from "./ImportMapping";
import { ImportResult } from "./ImportResult";

type Step = "choose" | "map" | "done";
type LoadedFile = { name: string; base64: string };

const STEPS: { step: Step; label: string }[] = [
  { step: "choose", label: "Choose file" },
  { step: "map", label: "Map & preview" },
  { step: "done", label: "Done" },
];

export function ImportWizard({ onDone }: { onDone: () => void }) {
  const [step, setStep] = useState<Step>("choose");
  const [region, setRegionState] = useState(getRegion);
  const [encoding, setEncoding] = useState("");
  const [file, setFile] = useState<LoadedFile | null>(null);
  const [preview, setPreview] = useState<ImportReport | null>(null);
  const [mapping, setMapping] = useState<ColumnMapping[] | null>(null);
  const [result, setResult] = useState<ImportReport | null>(null);
  const [busy, setBusy] = useState<null | "reading" | "preview" | "import">(null);
  const [error, setError] = useState<string | null>(null);
  /** The last preview with an edited mapping failed: the preview on screen is out of date. */
  const [stale, setStale] = useState(false);
  const requestId = useRef(0);

  const options = (f: LoadedFile, reg: string, enc: string, map: ColumnMapping[] | null): ImportOptions => ({
    file_name: f.name,
    default_region: reg,
    default_currency: null,
    encoding: enc === "" ? null : enc,
    mapping: map,
  });

  /** Runs a preview. With no mapping (fresh detection) a failure returns to step 1. */
  async function runPreview(f: LoadedFile, reg: string, enc: string, map: ColumnMapping[] | null) {
    const id = ++requestId.current;
    setBusy("preview");
    setError(null);
    try {
      const report = await commands.importPreview(f.base64, options(f, reg, enc, map));
      if (id !== requestId.current) return;
      setPreview(report);
      setMapping(report.mapping);
      setStale(false);
      setStep("map");
    } catch (e) {
      if (id !== requestId.current) return;
      setError(errorMessage(e));
      setStale(true);
      if (map === null) {
        setPreview(null);
        setMapping(null);
        setStep("choose");
      }
    } finally {
      if (id === requestId.current) setBusy(null);
    }
  }

  async function onFile(input: HTMLInputElement) {
    const chosen = input.files?.[0];
    if (!chosen) return;
    requestId.current++;
    setBusy("reading");
    setError(null);
    try {
      const loaded = { name: chosen.name, base64: base64FromBytes(await chosen.arrayBuffer()) };
      setFile(loaded);
      setPreview(null);
      setMapping(null);
      setStep("choose");
      await runPreview(loaded, region, encoding, null);
    } catch (e) {
      setError(`Could not read ${chosen.name}: ${errorMessage(e)}`);
      setBusy(null);
    } finally {
      input.value = ""; // lets the same file be chosen again after fixing it
    }
  }

  async function runImport() {
    if (!file || !mapping) return;
    setBusy("import");
    setError(null);
    try {
      const report = await commands.importContacts(file.base64, options(file, region, encoding, mapping));
      setResult(report);
      setStep("done");
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

  function reset() {
    requestId.current++;
    setStep("choose");
    setFile(null);
    setPreview(null);
    setMapping(null);
    setResult(null);
    setError(null);
    setStale(false);
    setBusy(null);
  }

  const previewCurrent = preview !== null && mapping !== null && !stale;

  return (
    <section className="screen" data-testid="import-wizard">
      <header className="screen-header">
        <h1>Import CSV</h1>
        <ol className="steps">
          {STEPS.map((s, i) => (
            <li key={s.step} className={s.step === step ? "current" : ""}>
              <span className="step-num">{i + 1}</span> {s.label}
            </li>
          ))}
        </ol>
      </header>

      {step !== "done" && (
        <div className="card import-source">
          <label className="field file-field">
            <span>CSV file</span>
            <input
              type="file"
              accept=".csv,text/csv"
              data-testid="import-file"
              disabled={busy === "import"}
              onChange={(e) => void onFile(e.currentTarget)}
            />
            {file && <span className="muted small">Loaded: {file.name}</span>}
          </label>
          <label className="field">
            <span>Numbers without a country code are in</span>
            <select
              className="input"
              data-testid="import-region"
              value={region}
              disabled={busy === "import"}
              onChange={(e) => {
                const reg = e.target.value;
                setRegionState(reg);
                setRegion(reg);
                if (file) void runPreview(file, reg, encoding, step === "map" ? mapping : null);
              }}
            >
              <RegionOptions />
            </select>
          </label>
          <label className="field">
            <span>Encoding</span>
            <select
              className="input"
              data-testid="import-encoding"
              value={encoding}
              disabled={busy === "import"}
              onChange={(e) => {
                const enc = e.target.value;
                setEncoding(enc);
                // Columns may read differently in another encoding: detect the mapping afresh.
                if (file) void runPreview(file, region, enc, null);
              }}
            >
              {ENCODINGS.map((en) => (
                <option key={en.value} value={en.value}>
                  {en.label}
                </option>
              ))}
            </select>
          </label>
        </div>
      )}

      {busy === "reading" && <p className="muted">Reading file…</p>}
      {busy === "preview" && <p className="muted">Checking the file…</p>}
      {busy === "import" && <p className="muted">Importing…</p>}

      {error && (
        <div className="error-banner import-error" role="alert" data-testid="import-error">
          {error}
        </div>
      )}

      {step === "choose" && !file && !error && (
        <p className="muted">
          Choose a CSV exported from a spreadsheet or another CRM. Nothing is saved until you press Import.
        </p>
      )}

      {step === "map" && preview && mapping && (
        <>
          <ImportMapping
            report={preview}
            mapping={mapping}
            disabled={busy !== null}
            onMappingChange={(m) => {
              setMapping(m);
              if (file) void runPreview(file, region, encoding, m);
            }}
          />
          <div className="button-row sticky-actions">
            <button
              type="button"
              className="btn btn-primary"
              data-testid="import-run-button"
              disabled={busy !== null || !previewCurrent}
              onClick={() => void runImport()}
            >
              Import
            </button>
            <button type="button" className="btn" onClick={reset} disabled={busy === "import"}>
              Start over
            </button>
          </div>
        </>
      )}

      {step === "done" && result && (
        <ImportResult
          report={result}
          onDone={onDone}
          onAnother={reset}
        />
      )}
    </section>
  );
}
