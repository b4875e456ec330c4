// A horizontal level meter: RMS as the bar, peak as a tick, over −60…0 dBFS.
type Props = {
  rmsDb: number | null;
  peakDb: number | null;
  clipped: boolean;
  label: string;
};

const FLOOR = -60;

function percent(db: number | null): number {
  if (db === null) return 0;
  return Math.max(0, Math.min(100, ((db - FLOOR) / -FLOOR) * 100));
}

export function LevelMeter({ rmsDb, peakDb, clipped, label }: Props) {
  const rms = percent(rmsDb);
  return (
    <div className="level-meter" role="meter" aria-label={label} aria-valuemin={FLOOR} aria-valuemax={0}
      aria-valuenow={rmsDb === null ? FLOOR : Math.round(rmsDb)} data-testid="level-meter">
      <div className={`level-bar${clipped ? " clipped" : rms > 85 ? " hot" : ""}`} style={{ width: `${rms}%` }} />
      {peakDb !== null && <div className="level-peak" style={{ left: `${percent(peakDb)}%` }} />}
    </div>
  );
}
