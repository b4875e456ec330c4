// Small visual markers: tag chips, deal stage, do-not-call / do-not-email badges.
import type { DealStage } from "../bindings";
import { stageLabel } from "../lib/format";

export function TagChips({ tags }: { tags: string[] }) {
  if (tags.length === 0) return null;
  return (
    <span className="chips">
      {tags.map((t) => (
        <span key={t} className="chip">
          {t}
        </span>
      ))}
    </span>
  );
}

export function StageBadge({ stage }: { stage: DealStage }) {
  return <span className={`stage stage-${stage}`}>{stageLabel(stage)}</span>;
}

export function DncBadge() {
  return (
    <span className="badge badge-danger" data-testid="dnc-badge" title="Do not call">
      DNC
    </span>
  );
}

export function DoNotEmailBadge() {
  return (
    <span className="badge badge-warn" title="Do not e-mail">
      No e-mail
    </span>
  );
}
