// The <option>s of a region picker ("IN – India"), shared by the contact form and the import wizard.
import { REGIONS } from "../lib/choices";

export function RegionOptions() {
  return (
    <>
      {REGIONS.map((r) => (
        <option key={r.code} value={r.code}>
          {r.code} – {r.label}
        </option>
      ))}
    </>
  );
}
