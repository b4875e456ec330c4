// The app shell: start-up status check, sidebar, state-based navigation between screens, toasts.
import { useCallback, useEffect, useRef, useState } from "react";
import { commands } from "./bindings";
import type { AppStatus, Contact } from "./bindings";
import { EMPTY_FILTERS, errorMessage } from "./lib/api";
import type { ListFilters } from "./lib/api";
import { displayName } from "./lib/format";
import { Sidebar } from "./components/Sidebar";
import type { NavTarget } from "./components/Sidebar";
import { Toast } from "./components/Toast";
import type { ToastData } from "./components/Toast";
import { DatabaseUnavailable } from "./screens/DatabaseUnavailable";
import { ContactsList } from "./screens/ContactsList";
import { ContactDetail } from "./screens/ContactDetail";
import { ContactForm } from "./screens/ContactForm";
import { ImportWizard } from "./screens/ImportWizard";
import { AudioSettings } from "./screens/AudioSettings";
import { SpeechSettings } from "./screens/SpeechSettings";
import { PlaybookSettings } from "./screens/PlaybookSettings";
import { DoNotCall } from "./screens/DoNotCall";
import { LiveCoach } from "./screens/LiveCoach";
import { Phone } from "./screens/Phone";
import type { DialPreset } from "./screens/Dialer";
import { CallLog } from "./screens/CallLog";
import { CallReview } from "./screens/CallReview";
import { PhoneSettings } from "./screens/PhoneSettings";
import { SyncSettings } from "./screens/SyncSettings";
import { SyncContext, useSyncStatus } from "./lib/sync";
import { IncomingCall } from "./components/IncomingCall";
import { noticeText, ringingIn, usePhoneBoard } from "./lib/phone";

type Startup =
  | { phase: "loading" }
  | { phase: "failed"; message: string }
  | { phase: "status"; status: AppStatus };

type View =
  | { name: "list" }
  | { name: "detail"; id: string }
  | { name: "form"; contact: Contact | null }
  | { name: "import" }
  | { name: "live" }
  | { name: "audio" }
  | { name: "speech" }
  | { name: "playbook" }
  | { name: "dnc" }
  | { name: "phone"; preset: DialPreset | null }
  | { name: "calllog" }
  | { name: "call"; id: string }
  | { name: "phonesettings" }
  | { name: "sync" };

export function App() {
  const [startup, setStartup] = useState<Startup>({ phase: "loading" });
  const [view, setView] = useState<View>({ name: "list" });
  const [filters, setFilters] = useState<ListFilters>(EMPTY_FILTERS);
  const [listVersion, setListVersion] = useState(0);
  const [toast, setToast] = useState<ToastData | null>(null);
  const toastId = useRef(0);
  const phone = usePhoneBoard();
  const sync = useSyncStatus();
  const [callLogVersion, setCallLogVersion] = useState(0);

  const checkStatus = useCallback(async () => {
    setStartup({ phase: "loading" });
    try {
      setStartup({ phase: "status", status: await commands.appStatus() });
    } catch (e) {
      setStartup({ phase: "failed", message: errorMessage(e) });
    }
  }, []);

  useEffect(() => {
    void checkStatus();
  }, [checkStatus]);

  const showToast = useCallback((message: string, action?: ToastData["action"]) => {
    toastId.current += 1;
    setToast({ id: toastId.current, message, action });
  }, []);
  const dismissToast = useCallback(() => setToast(null), []);

  // What the phone has to say (a call ended, a digit came in) shows as a toast.
  const { notice, noticeId } = phone;
  useEffect(() => {
    if (!notice || noticeId === 0) return;
    showToast(noticeText(notice));
    if (notice.kind === "ended") setCallLogVersion((v) => v + 1);
  }, [notice, noticeId, showToast]);
  const refreshList = useCallback(() => setListVersion((v) => v + 1), []);

  if (startup.phase === "loading") {
    return <div className="fullscreen-center muted">Opening database…</div>;
  }
  if (startup.phase === "failed") {
    return (
      <div className="fullscreen-center">
        <div className="card problem-card">
          <h1>Cuecard couldn’t start</h1>
          <p className="problem-message">{startup.message}</p>
          <button type="button" className="btn" onClick={() => void checkStatus()}>
            Try again
          </button>
        </div>
      </div>
    );
  }
  const { status } = startup;
  if (status.db.state === "unavailable") {
    return (
      <DatabaseUnavailable
        dbPath={status.db_path}
        message={status.db.message}
        canMoveAside={status.db.can_move_aside}
        onStatus={(s) => setStartup({ phase: "status", status: s })}
      />
    );
  }

  const nav: NavTarget =
    view.name === "import" ||
    view.name === "live" ||
    view.name === "audio" ||
    view.name === "speech" ||
    view.name === "playbook" ||
    view.name === "dnc" ||
    view.name === "phone" ||
    view.name === "calllog" ||
    view.name === "phonesettings" ||
    view.name === "sync"
      ? view.name
      : view.name === "call"
        ? "calllog"
        : "contacts";

  function navigate(target: NavTarget) {
    if (target === "phone") setView({ name: "phone", preset: null });
    else if (target === "calllog") setView({ name: "calllog" });
    else if (target === "phonesettings") setView({ name: "phonesettings" });
    else if (target === "sync") setView({ name: "sync" });
    else if (target === "import") setView({ name: "import" });
    else if (target === "live") setView({ name: "live" });
    else if (target === "audio") setView({ name: "audio" });
    else if (target === "speech") setView({ name: "speech" });
    else if (target === "playbook") setView({ name: "playbook" });
    else if (target === "dnc") setView({ name: "dnc" });
    else {
      setView({ name: "list" });
      refreshList();
    }
  }

  function onDeleted(contact: Contact) {
    setView({ name: "list" });
    refreshList();
    showToast(`Deleted ${displayName(contact)}`, {
      label: "Undo",
      run: () => {
        commands
          .restoreContact(contact.id)
          .then(() => {
            refreshList();
            showToast(`Restored ${displayName(contact)}`);
          })
          .catch((e: unknown) => showToast(`Could not restore: ${errorMessage(e)}`));
      },
    });
  }

  let screen;
  switch (view.name) {
    case "list":
      screen = (
        <ContactsList
          filters={filters}
          onFiltersChange={setFilters}
          version={listVersion}
          onOpen={(id) => setView({ name: "detail", id })}
          onNew={() => setView({ name: "form", contact: null })}
          onImport={() => setView({ name: "import" })}
          onExport={() => {
            commands
              .exportContacts()
              .then((r) => showToast(`Exported ${r.count} ${r.count === 1 ? "contact" : "contacts"} to ${r.path}`))
              .catch((e: unknown) => showToast(`Export failed: ${errorMessage(e)}`));
          }}
        />
      );
      break;
    case "detail":
      screen = (
        <ContactDetail
          key={view.id}
          id={view.id}
          onBack={() => setView({ name: "list" })}
          onEdit={(contact) => setView({ name: "form", contact })}
          onDeleted={onDeleted}
          onCall={(e164, contact) =>
            setView({ name: "phone", preset: { target: e164, contactId: contact.id, label: displayName(contact) } })
          }
        />
      );
      break;
    case "form": {
      const editing = view.contact;
      screen = (
        <ContactForm
          key={editing?.id ?? "new"}
          contact={editing}
          onCancel={() => setView(editing ? { name: "detail", id: editing.id } : { name: "list" })}
          onSaved={(saved) => {
            refreshList();
            showToast(editing ? "Contact saved" : "Contact created");
            setView({ name: "detail", id: saved.id });
          }}
        />
      );
      break;
    }
    case "import":
      screen = (
        <ImportWizard
          onDone={() => {
            setFilters(EMPTY_FILTERS);
            refreshList();
            setView({ name: "list" });
          }}
        />
      );
      break;
    case "live":
      screen = <LiveCoach />;
      break;
    case "audio":
      screen = <AudioSettings />;
      break;
    case "speech":
      screen = <SpeechSettings />;
      break;
    case "playbook":
      screen = <PlaybookSettings />;
      break;
    case "dnc":
      screen = <DoNotCall />;
      break;
    case "phone":
      screen = (
        <Phone
          key={view.preset?.target ?? "dialer"}
          board={phone.board}
          preset={view.preset}
          onOpenSettings={() => setView({ name: "phonesettings" })}
          onOpenContact={(id) => setView({ name: "detail", id })}
          onOpenLog={() => setView({ name: "calllog" })}
        />
      );
      break;
    case "calllog":
      screen = (
        <CallLog
          version={callLogVersion}
          onOpenContact={(id) => setView({ name: "detail", id })}
          onOpenCall={(id) => setView({ name: "call", id })}
        />
      );
      break;
    case "call":
      screen = (
        <CallReview id={view.id} onBack={() => setView({ name: "calllog" })} />
      );
      break;
    case "phonesettings":
      screen = <PhoneSettings onSaved={(message) => showToast(message)} />;
      break;
    case "sync":
      screen = <SyncSettings status={sync} onMessage={showToast} />;
      break;
  }
  const incoming = ringingIn(phone.board);

  return (
    <div className="app">
      <Sidebar active={nav} version={status.version} sync={sync} onNavigate={navigate} />
      <main className="main">
        {incoming && (
          <IncomingCall
            key={incoming.id}
            call={incoming}
            onAnswered={() => setView({ name: "phone", preset: null })}
          />
        )}
        <SyncContext.Provider value={sync}>{screen}</SyncContext.Provider>
      </main>
      <Toast key={toast?.id} toast={toast} onDismiss={dismissToast} />
    </div>
  );
}
