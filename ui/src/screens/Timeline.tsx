// A contact's timeline, newest first.
import type { TimelineEvent } from "../bindings";
import { absoluteTime, relativeTime, timelineKindLabel } from "../lib/format";

export function Timeline({ events }: { events: TimelineEvent[] }) {
  const sorted = [...events].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  if (sorted.length === 0) {
    return (
      <ol className="timeline" data-testid="timeline">
        <li className="muted">Nothing yet.</li>
      </ol>
    );
  }
  const now = new Date();
  return (
    <ol className="timeline" data-testid="timeline">
      {sorted.map((ev) => (
        <li key={ev.id} className={`timeline-item kind-${ev.kind}`} data-testid="timeline-item">
          <div className="timeline-meta">
            <span className="timeline-kind">{timelineKindLabel(ev.kind)}</span>
            <time dateTime={ev.at} title={absoluteTime(ev.at)}>
              {relativeTime(ev.at, now)}
            </time>
          </div>
          <div className="timeline-summary">{ev.summary}</div>
        </li>
      ))}
    </ol>
  );
}
