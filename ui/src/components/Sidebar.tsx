// Left navigation: the app name, the places a user can go, and the sync indicator.
import type { SyncStatus } from "../bindings";
import { SyncIndicator } from "./SyncIndicator";

export type NavTarget =
  | "contacts"
  | "phone"
  | "calllog"
  | "live"
  | "import"
  | "dnc"
  | "audio"
  | "speech"
  | "playbook"
  | "phonesettings"
  | "sync";

type Props = {
  active: NavTarget | null;
  version: string | null;
  sync: SyncStatus;
  onNavigate: (target: NavTarget) => void;
};

function NavItem({ target, label, active, onNavigate }: {
  target: NavTarget;
  label: string;
  active: NavTarget | null;
  onNavigate: (target: NavTarget) => void;
}) {
  return (
    <button
      type="button"
      className={`nav-item${active === target ? " active" : ""}`}
      data-testid={`nav-${target}`}
      aria-current={active === target ? "page" : undefined}
      onClick={() => onNavigate(target)}
    >
      {label}
    </button>
  );
}

export function Sidebar({ active, version, sync, onNavigate }: Props) {
  return (
    <nav className="sidebar" aria-label="Main">
      <div className="sidebar-brand">Cuecard</div>
      <NavItem target="contacts" label="Contacts" active={active} onNavigate={onNavigate} />
      <NavItem target="phone" label="Phone" active={active} onNavigate={onNavigate} />
      <NavItem target="calllog" label="Call log" active={active} onNavigate={onNavigate} />
      <NavItem target="live" label="Coach a call" active={active} onNavigate={onNavigate} />
      <NavItem target="import" label="Import CSV" active={active} onNavigate={onNavigate} />
      <NavItem target="dnc" label="Do not call" active={active} onNavigate={onNavigate} />
      <div className="nav-section">Settings</div>
      <NavItem target="phonesettings" label="Phone" active={active} onNavigate={onNavigate} />
      <NavItem target="audio" label="Audio" active={active} onNavigate={onNavigate} />
      <NavItem target="speech" label="Speech" active={active} onNavigate={onNavigate} />
      <NavItem target="playbook" label="Playbook" active={active} onNavigate={onNavigate} />
      <NavItem target="sync" label="Sync" active={active} onNavigate={onNavigate} />
      <SyncIndicator status={sync} onOpen={() => onNavigate("sync")} />
      {version && <div className="sidebar-footer">v{version}</div>}
    </nav>
  );
}
