// A transient message at the bottom of the window, with an optional action (e.g. Undo).
import { useEffect } from "react";

export type ToastData = {
  id: number;
  message: string;
  action?: { label: string; run: () => void };
};

type Props = { toast: ToastData | null; onDismiss: () => void; durationMs?: number };

export function Toast({ toast, onDismiss, durationMs = 8000 }: Props) {
  useEffect(() => {
    if (!toast) return;
    const t = window.setTimeout(onDismiss, durationMs);
    return () => window.clearTimeout(t);
  }, [toast, onDismiss, durationMs]);

  if (!toast) return null;
  return (
    <div className="toast" role="status" data-testid="toast">
      <span>{toast.message}</span>
      {toast.action && (
        <button
          type="button"
          className="toast-action"
          data-testid="toast-undo"
          onClick={() => {
            toast.action?.run();
            onDismiss();
          }}
        >
          {toast.action.label}
        </button>
      )}
      <button type="button" className="toast-close" aria-label="Dismiss" onClick={onDismiss}>
        ×
      </button>
    </div>
  );
}
