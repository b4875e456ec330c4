// A phone keypad: twelve keys, each calling back with its character.
const KEYS: [string, string][] = [
  ["1", ""],
  ["2", "ABC"],
  ["3", "DEF"],
  ["4", "GHI"],
  ["5", "JKL"],
  ["6", "MNO"],
  ["7", "PQRS"],
  ["8", "TUV"],
  ["9", "WXYZ"],
  ["*", ""],
  ["0", "+"],
  ["#", ""],
];

export function Keypad({ onKey, testId, disabled = false }: { onKey: (key: string) => void; testId: string; disabled?: boolean }) {
  return (
    <div className="keypad" data-testid={testId} role="group" aria-label="Keypad">
      {KEYS.map(([key, letters]) => (
        <button
          key={key}
          type="button"
          className="keypad-key"
          data-testid={`${testId}-${key === "*" ? "star" : key === "#" ? "hash" : key}`}
          disabled={disabled}
          onClick={() => onKey(key)}
        >
          <span className="keypad-digit">{key}</span>
          <span className="keypad-letters">{letters}</span>
        </button>
      ))}
    </div>
  );
}
