// A screen whose data has not arrived: its header (a back button) and either "Loading…"
// or the error that stopped it.
import type { ReactNode } from "react";

export function LoadingScreen({ testId, header, error }: { testId: string; header: ReactNode; error: string | null }) {
  return (
    <section className="screen" data-testid={testId}>
      <header className="screen-header">{header}</header>
      {error ? (
        <p className="error-banner" role="alert">
          {error}
        </p>
      ) : (
        <p className="muted">Loading…</p>
      )}
    </section>
  );
}
