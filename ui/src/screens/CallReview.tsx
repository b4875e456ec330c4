// A call's review: the summary, the score with its breakdown, every check with its
// explanation, managers' comments (synced from the dashboard), and the transcript;
// choosing a check marks the utterances behind it.
import { useContext, useEffect, useMemo, useRef, useState } from "react";
import { commands } from "../bindings";
import type { CallReview as Review, CheckResult, Utterance } from "../bindings";
import { errorMessage } from "../lib/api";
import { LoadingScreen } from "../components/LoadingScreen";
import { absoluteTime, formatDuration } from "../lib/format";
import { SyncContext } from "../lib/sync";

type Props = { id: string; onBack: () => void };

/** `m:ss` from milliseconds of call time. */
export function callClock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function scoreClass(value: number): string {
  if (value >= 75) return "good";
  if (value >= 50) return "fair";
  return "poor";
}

/** A share as a percentage; the bindings type Rust floats as `number | null`. */
function percent(value: number | null, of: number | null = 1): number {
  return of ? ((value ?? 0) / of) * 100 : 0;
}

function speaker(u: Utterance): string {
  return u.channel === "rep" ? "Rep" : u.speaker ?? "Customer";
}

export function CallReview({ id, onBack }: Props) {
  // Whenever sync brings changes the call is read again: a manager's comment may have come.
  const syncedAt = useContext(SyncContext).last_synced_at;
  const [review, setReview] = useState<Review | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const transcriptRef = useRef<HTMLOListElement>(null);

  useEffect(() => {
    let live = true;
    commands
      .callReview(id)
      .then((r) => live && setReview(r))
      .catch((e) => live && setError(errorMessage(e)));
    return () => {
      live = false;
    };
  }, [id, syncedAt]);

  const card = review?.scorecards[review.scorecards.length - 1] ?? null;
  const check: CheckResult | null = card?.checks.find((c) => c.check_id === selected) ?? null;
  const evidence = useMemo(() => new Set(check?.evidence ?? []), [check]);

  useEffect(() => {
    // Bring the first piece of evidence into view.
    const first = check?.evidence[0];
    if (!first) return;
    const row = transcriptRef.current?.querySelector(`[data-utterance="${first}"]`);
    if (row && "scrollIntoView" in row) (row as HTMLElement).scrollIntoView({ block: "center" });
  }, [check]);

  const back = (
    <button type="button" className="btn" data-testid="review-back" onClick={onBack}>
      ← Back
    </button>
  );
  if (!review) {
    return <LoadingScreen testId="call-review" header={back} error={error} />;
  }
  const { call, transcript } = review;
  const notes = call.notes.split("\n").filter((l) => l.trim());

  return (
    <section className="screen" data-testid="call-review">
      <header className="screen-header">
        {back}
        <h1>
          Call {call.direction === "outbound" ? "to" : "from"}{" "}
          {(call.direction === "outbound" ? call.to : call.from) || "unknown number"}
        </h1>
        <span className="muted">
          {absoluteTime(call.started_at)} · {formatDuration(call.duration_secs)}
        </span>
      </header>
      <div className="detail-grid">
        <div className="detail-col">
          {notes.length > 0 && (
            <div className="card" data-testid="review-summary">
              <h2>Summary</h2>
              {notes.map((line, i) => (
                <p key={i}>{line}</p>
              ))}
            </div>
          )}
          {review.reviews.length > 0 && (
            <div className="card" data-testid="review-comments">
              <h2>Manager’s comments</h2>
              <ul className="reviews">
                {review.reviews.map((r) => (
                  <li key={r.id} data-testid="review-comment">
                    <span className="who">{r.author_name}</span>
                    <span className="muted small"> · {absoluteTime(r.created_at)}</span>
                    <p className="body">{r.body}</p>
                  </li>
                ))}
              </ul>
            </div>
          )}
          {card ? (
            <div className="card" data-testid="review-score">
              <h2>
                Score <span className={`score ${scoreClass(card.total)}`}>{card.total}</span>
                <span className="muted small"> / 100 · rubric {card.rubric_version}</span>
              </h2>
              <ul className="score-bars">
                {card.categories.map((c) => (
                  <li key={c.key} data-testid={`category-${c.key}`}>
                    <span className="label">{c.label}</span>
                    <span className="bar">
                      <span
                        className={`fill ${scoreClass(percent(c.score, c.max))}`}
                        style={{ width: `${percent(c.score, c.max)}%` }}
                      />
                    </span>
                    <span className="value">{Math.round(c.score ?? 0)}</span>
                  </li>
                ))}
              </ul>
              <h3>Checks</h3>
              <ul className="checks">
                {card.checks.map((c) => (
                  <li key={c.check_id}>
                    <button
                      type="button"
                      className={`check ${selected === c.check_id ? "selected" : ""}`}
                      data-testid={`check-${c.check_id}`}
                      aria-pressed={selected === c.check_id}
                      onClick={() => setSelected(selected === c.check_id ? null : c.check_id)}
                    >
                      <span className={`credit ${scoreClass(percent(c.credit))}`}>
                        {Math.round(percent(c.credit))}%
                      </span>
                      <span className="explanation">{c.explanation}</span>
                      {c.evidence.length > 0 && (
                        <span className="muted small">
                          {" "}
                          · {c.evidence.length} {c.evidence.length === 1 ? "moment" : "moments"}
                        </span>
                      )}
                    </button>
                  </li>
                ))}
              </ul>
            </div>
          ) : (
            <div className="card">
              <p className="muted">This call has not been scored.</p>
            </div>
          )}
        </div>
        <div className="detail-col">
          <div className="card">
            <h2>Transcript</h2>
            {transcript.length === 0 ? (
              <p className="muted">No transcript.</p>
            ) : (
              <ol className="transcript" ref={transcriptRef} data-testid="review-transcript">
                {transcript.map((u) => (
                  <li
                    key={u.id}
                    data-utterance={u.id}
                    className={`${u.channel === "rep" ? "rep" : "far"} ${evidence.has(u.id) ? "evidence" : ""}`}
                  >
                    <span className="time mono">{callClock(u.start_ms)}</span>
                    <span className="who">{speaker(u)}</span>
                    <span className="text">{u.text}</span>
                  </li>
                ))}
              </ol>
            )}
          </div>
        </div>
      </div>
    </section>
  );
}
