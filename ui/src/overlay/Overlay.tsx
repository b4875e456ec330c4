// The coaching overlay: a compact always-on-top window during a live call. Cue cards
// (objections, battlecards, talk-track warnings, the stage and what to do next) with
// keyboard dismiss and pin, the metrics bar, the rolling transcript, and the language
// model's suggestion when one is configured.
import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import { commands, events } from "../bindings";
import type { LiveCallInfo, LiveEvent } from "../bindings";
import { errorMessage } from "../lib/api";
import { displayName } from "../lib/format";
import { EMPTY, clock, dismiss, moveSelection, reduce, select, togglePin } from "../lib/overlayState";
import type { Cue, OverlayState } from "../lib/overlayState";

type Action =
  | { type: "event"; event: LiveEvent }
  | { type: "dismiss" }
  | { type: "pin" }
  | { type: "move"; delta: number }
  | { type: "select"; key: string };

function act(state: OverlayState, action: Action): OverlayState {
  switch (action.type) {
    case "event":
      return reduce(state, action.event);
    case "dismiss":
      return dismiss(state, state.selected);
    case "pin":
      return togglePin(state, state.selected);
    case "move":
      return moveSelection(state, action.delta);
    case "select":
      return select(state, action.key);
  }
}

function percent(x: number | null): string {
  return x === null ? "–" : `${Math.round(x * 100)}%`;
}

function MetricsBar({ state }: { state: OverlayState }) {
  const m = state.metrics;
  const ratio = m?.talk_ratio ?? null;
  const long = (m?.current_monologue_ms ?? 0) >= 60_000;
  return (
    <div className="overlay-metrics" data-testid="overlay-metrics">
      <span title="Your share of the talking" className={ratio !== null && ratio > 0.65 ? "metric-warn" : ""}>
        Talk <b data-testid="metric-talk">{percent(ratio)}</b>
      </span>
      <span title="How long you have been talking" className={long ? "metric-warn" : ""}>
        Monologue <b>{clock(m?.current_monologue_ms ?? 0)}</b>
      </span>
      <span title="Questions you asked">
        Questions <b data-testid="metric-questions">{m?.questions ?? 0}</b>
      </span>
      <span title="Your pace">
        Pace <b>{m?.words_per_minute ? Math.round(m.words_per_minute) : "–"}</b>
      </span>
      <span title="The prospect's mood and its trend">
        Mood{" "}
        <b>
          {m?.prospect_sentiment != null ? m.prospect_sentiment.toFixed(1) : "–"}
          {m && m.prospect_sentiment != null && (m.sentiment_trend === "rising" ? " ↑" : m.sentiment_trend === "falling" ? " ↓" : "")}
        </b>
      </span>
      {state.stage && (
        <span className="overlay-stage" data-testid="overlay-stage">
          {state.stage}
        </span>
      )}
    </div>
  );
}

function CueCard({ cue, selected, onSelect }: { cue: Cue; selected: boolean; onSelect: () => void }) {
  return (
    <li
      className={`cue cue-${cue.kind}${cue.severity ? ` cue-${cue.severity}` : ""}${selected ? " selected" : ""}${cue.pinned ? " pinned" : ""}`}
      data-testid="cue"
      data-kind={cue.kind}
      aria-selected={selected}
      onClick={onSelect}
    >
      <div className="cue-head">
        <span className="cue-title">{cue.title}</span>
        {cue.badge && <span className="cue-badge">{cue.badge}</span>}
        {cue.pinned && <span className="cue-pin" aria-label="Pinned">📌</span>}
        <span className="cue-time">{clock(cue.atMs)}</span>
      </div>
      {cue.body && <p className="cue-body">{cue.body}</p>}
      {cue.points.length > 0 && (
        <ul className="cue-points">
          {cue.points.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
    </li>
  );
}

export function Overlay() {
  const [state, dispatch] = useReducer(act, EMPTY);
  const [info, setInfo] = useState<LiveCallInfo | null>(null);
  const [ending, setEnding] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const transcriptEnd = useRef<HTMLDivElement>(null);
  const root = useRef<HTMLDivElement>(null);

  // The keys work from the start, without a click first.
  useEffect(() => {
    root.current?.focus();
  }, []);

  useEffect(() => {
    let unlisten: (() => void) | null = null;
    let cancelled = false;
    void events.liveCallEvent
      .listen((e) => dispatch({ type: "event", event: e.payload.event }))
      .then((u) => {
        if (cancelled) u();
        else unlisten = u;
      });
    commands
      .liveCallInfo()
      .then(setInfo)
      .catch((e: unknown) => setError(errorMessage(e)));
    return () => {
      cancelled = true;
      unlisten?.();
    };
  }, []);

  useEffect(() => {
    transcriptEnd.current?.scrollIntoView?.({ block: "end" });
  }, [state.lines.length]);

  const end = useCallback(
    (save: boolean) => {
      setEnding(true);
      commands.liveCallStop(save).catch((e: unknown) => {
        setEnding(false);
        setError(errorMessage(e));
      });
    },
    [],
  );

  const onKey = useCallback((e: React.KeyboardEvent) => {
    if (e.target instanceof HTMLButtonElement && (e.key === "Enter" || e.key === " ")) return;
    // Leave shortcuts with modifiers (copy, print…) alone.
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const k = e.key;
    if (k === "ArrowDown" || k === "j") dispatch({ type: "move", delta: 1 });
    else if (k === "ArrowUp" || k === "k") dispatch({ type: "move", delta: -1 });
    else if (k === "p" || k === "P") dispatch({ type: "pin" });
    else if (k === "x" || k === "Escape" || k === "Delete" || k === "Backspace") dispatch({ type: "dismiss" });
    else return;
    e.preventDefault();
  }, []);

  return (
    <div className="overlay" tabIndex={0} onKeyDown={onKey} data-testid="overlay" ref={root}>
      <header className="overlay-header">
        <div>
          <div className="overlay-who">{info?.contact ? displayName(info.contact) : "Live call"}</div>
          <div className="overlay-sub muted">
            {info ? `${info.playbook} · ${info.engine}` : "Connecting…"}
            {info?.warning ? ` · ${info.warning}` : ""}
          </div>
        </div>
        <div className="overlay-actions">
          <button type="button" className="btn btn-danger" data-testid="overlay-end" disabled={ending} onClick={() => end(true)}>
            End &amp; file
          </button>
        </div>
      </header>
      {(error || state.notice) && (
        <div className="overlay-notice" role="alert" data-testid="overlay-notice">
          {error ?? state.notice}
        </div>
      )}
      <MetricsBar state={state} />
      {state.suggestion && (
        <div className="overlay-suggestion" data-testid="overlay-suggestion">
          <span className="cue-badge">AI</span> {state.suggestion.text}
        </div>
      )}
      <ul className="cues" data-testid="cues" aria-label="Cue cards">
        {state.cues.length === 0 && <li className="muted cues-empty">Cards appear here as the call goes.</li>}
        {state.cues.map((c) => (
          <CueCard key={c.key} cue={c} selected={c.key === state.selected} onSelect={() => dispatch({ type: "select", key: c.key })} />
        ))}
      </ul>
      <div className="overlay-keys muted">↑↓ select · P pin · X dismiss</div>
      <div className="overlay-transcript" data-testid="overlay-transcript" aria-live="polite">
        {state.lines.map((l, i) => (
          <p key={`${l.startMs}-${i}`} className={`line line-${l.channel}`}>
            <span className="line-who">{l.channel === "rep" ? "You" : "Them"}</span> {l.text}
          </p>
        ))}
        {(["rep", "far_end"] as const).map((ch) =>
          state.partial[ch] ? (
            <p key={ch} className={`line line-${ch} line-partial`}>
              <span className="line-who">{ch === "rep" ? "You" : "Them"}</span> {state.partial[ch]}
            </p>
          ) : null,
        )}
        <div ref={transcriptEnd} />
      </div>
    </div>
  );
}
