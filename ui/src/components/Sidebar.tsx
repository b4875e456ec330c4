// Left navigation: the app name and the places a user can go.
export type NavTarget = "contacts" | "import" | "dnc" | "audio" | "speech";

type Props = {
  active: NavTarget | null;
  version: string | null;
  onNavigate: (target: NavTarget) => void;
};

export function Sidebar({ active, version, onNavigate }: Props) {
  return (
    <nav className="sidebar" aria-label="Main">
      <div className="sidebar-brand">Cuecard</div>
      <button
        type="button"
        className={`nav-item${active === "contacts" ? " active" : ""}`}
        data-testid="nav-contacts"
        aria-current={active === "contacts" ? "page" : undefined}
        onClick={() => onNavigate("contacts")}
      >
        Contacts
      </button>
      <button
        type="button"
        className={`nav-item${active === "import" ? " active" : ""}`}
        data-testid="nav-import"
        aria-current={active === "import" ? "page" : undefined}
        onClick={() => onNavigate("import")}
      >
        Import CSV
      </button>
      <button
        type="button"
        className={`nav-item${active === "dnc" ? " active" : ""}`}
        data-testid="nav-dnc"
        aria-current={active === "dnc" ? "page" : undefined}
        onClick={() => onNavigate("dnc")}
      >
        Do not call
      </button>
      <div className="nav-section">Settings</div>
      <button
        type="button"
        className={`nav-item${active === "audio" ? " active" : ""}`}
        data-testid="nav-audio"
        aria-current={active === "audio" ? "page" : undefined}
        onClick={() => onNavigate("audio")}
      >
        Audio
      </button>
      <button
        type="button"
        className={`nav-item${active === "speech" ? " active" : ""}`}
        data-testid="nav-speech"
        aria-current={active === "speech" ? "page" : undefined}
        onClick={() => onNavigate("speech")}
      >
        Speech
      </button>
      {version && <div className="sidebar-footer">v{version}</div>}
    </nav>
  );
}
