// A time zone name with the current local time there, refreshed every 30 seconds.
import { useEffect, useState } from "react";
import { localTimeIn } from "../lib/format";

export function LocalTime({ zone }: { zone: string }) {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const t = window.setInterval(() => setNow(new Date()), 30_000);
    return () => window.clearInterval(t);
  }, []);
  const local = localTimeIn(zone, now);
  return (
    <span data-testid="contact-time-zone">
      {zone}
      {local && <span className="muted"> · {local} there</span>}
    </span>
  );
}
