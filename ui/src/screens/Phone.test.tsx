// Component tests for the phone: the dialer (search, keypad, dial with the rep's region
// and devices, refusals shown), the in-call screen (timer, quality, controls), the
// incoming-call banner, Settings → Phone (save, test connection) and the call log.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { commands } from "../bindings";
import type { Board, CallLogEntry, CallView } from "../bindings";
import { Phone } from "./Phone";
import { InCall } from "./InCall";
import { PhoneSettings } from "./PhoneSettings";
import { CallLog } from "./CallLog";
import { IncomingCall } from "../components/IncomingCall";
import { setAudioChoices } from "../lib/audioSettings";
import { contact } from "../test/fixtures";

vi.mock("../bindings", () => ({
  commands: {
    phoneCall: vi.fn(),
    phoneGoOnline: vi.fn(),
    phoneGoOffline: vi.fn(),
    phoneMute: vi.fn(),
    phoneHold: vi.fn(),
    phoneDtmf: vi.fn(),
    phoneTransfer: vi.fn(),
    phoneHangup: vi.fn(),
    phoneAnswer: vi.fn(),
    phoneReject: vi.fn(),
    phoneSettings: vi.fn(),
    savePhoneSettings: vi.fn(),
    phoneTest: vi.fn(),
    twilioTokenSaved: vi.fn(),
    twilioSetup: vi.fn(),
    recentCalls: vi.fn(),
    listContacts: vi.fn(),
  },
  events: {},
}));

const offline: Board = { account: null, registration: { state: "offline" }, calls: [] };

function view(overrides: Partial<CallView> = {}): CallView {
  return {
    id: 7,
    direction: "outbound",
    remote: "+919812345678",
    remote_display: null,
    contact_id: "c1",
    contact_name: "Asha Rao",
    state: "connected",
    answered_at_ms: Date.now() - 65_000,
    muted: false,
    held: false,
    held_by_remote: false,
    quality: { mos: 4.36, grade: "good", loss_percent: 0, jitter_ms: 2.1, rtt_ms: 0.4 },
    outcome: null,
    end_reason: null,
    log_id: null,
    ...overrides,
  };
}

const logged: CallLogEntry = {
  contact_name: "Asha Rao",
  call: {
    id: "k1",
    contact_id: "c1",
    direction: "outbound",
    status: "completed",
    from: "sip:alice@acme.sip.twilio.com",
    to: "+919812345678",
    started_at: "2026-11-22T09:00:00Z",
    answered_at: "2026-11-22T09:00:05Z",
    ended_at: "2026-11-22T09:02:10Z",
    duration_secs: 125,
    disposition: null,
    recording: null,
    notes: "",
  },
};

const noop = () => {};

describe("Phone", () => {
  beforeEach(() => {
    for (const f of Object.values(commands)) vi.mocked(f).mockReset();
    vi.mocked(commands.recentCalls).mockResolvedValue([logged]);
  });

  it("dials a typed number with the region, the chosen devices and coaching", async () => {
    window.localStorage.setItem("cuecard.region", "IN");
    setAudioChoices({ mic: "pulseaudio:usb", output: "pulseaudio:headset", farEnd: "loopback" });
    vi.mocked(commands.phoneCall).mockResolvedValue(offline);
    render(<Phone board={offline} preset={null} onOpenSettings={noop} onOpenContact={noop} onOpenLog={noop} />);
    expect(screen.getByTestId("phone-status").textContent).toBe("Offline");
    fireEvent.change(screen.getByTestId("dialer-target"), { target: { value: "0981234567" } });
    fireEvent.click(screen.getByTestId("dialer-keypad-8"));
    expect((screen.getByTestId("dialer-target") as HTMLInputElement).value).toBe("09812345678");
    fireEvent.click(screen.getByTestId("dialer-call"));
    await waitFor(() =>
      expect(commands.phoneCall).toHaveBeenCalledWith({
        target: "09812345678",
        region: "IN",
        contact_id: null,
        options: { mic: "pulseaudio:usb", speaker: "pulseaudio:headset", coach: true },
      }),
    );
    // The recent calls list shows the contact and the outcome.
    await screen.findByText("Asha Rao");
    expect(screen.getByTestId("recent-calls").textContent).toContain("Completed · 2:05");
  });

  it("shows why a number was refused and links to settings when the phone is not set up", async () => {
    vi.mocked(commands.phoneCall).mockRejectedValueOnce({
      kind: "do_not_call",
      message: "+919812345678 is on the do-not-call list (asked); remove it from Do not call to dial it",
    });
    const onOpenSettings = vi.fn();
    render(<Phone board={offline} preset={{ target: "+919812345678", contactId: "c1", label: "Asha Rao" }}
      onOpenSettings={onOpenSettings} onOpenContact={noop} onOpenLog={noop} />);
    expect(screen.getByTestId("dialer-contact").textContent).toContain("Asha Rao");
    fireEvent.click(screen.getByTestId("dialer-call"));
    await waitFor(() => expect(screen.getByTestId("phone-error").textContent).toContain("do-not-call list (asked)"));
    expect(vi.mocked(commands.phoneCall).mock.calls[0][0].contact_id).toBe("c1");

    vi.mocked(commands.phoneCall).mockRejectedValueOnce({
      kind: "not_set_up",
      message: "no SIP password yet: enter it in Settings → Phone",
    });
    fireEvent.click(screen.getByTestId("dialer-call"));
    await waitFor(() => expect(screen.getByTestId("phone-error").textContent).toContain("no SIP password"));
    fireEvent.click(screen.getByText("Open it"));
    expect(onOpenSettings).toHaveBeenCalled();
  });

  it("finds contacts by name and dials the picked one's number", async () => {
    vi.mocked(commands.listContacts).mockResolvedValue({
      contacts: [contact()],
      total: 1,
      total_capped: false,
    });
    vi.mocked(commands.phoneCall).mockResolvedValue(offline);
    render(<Phone board={offline} preset={null} onOpenSettings={noop} onOpenContact={noop} onOpenLog={noop} />);
    fireEvent.change(screen.getByTestId("dialer-target"), { target: { value: "asha" } });
    const match = await screen.findByText(/Asha Rao · \+919812345678/);
    fireEvent.click(match);
    expect((screen.getByTestId("dialer-target") as HTMLInputElement).value).toBe("+919812345678");
    fireEvent.click(screen.getByTestId("dialer-call"));
    await waitFor(() => expect(vi.mocked(commands.phoneCall).mock.calls[0][0].contact_id).toBe("c1"));
  });

  it("shows the call in progress instead of the dialer, and a failed login", () => {
    const board: Board = {
      account: "alice@acme.sip.twilio.com",
      registration: { state: "failed", message: "401 Unauthorized", unauthorized: true },
      calls: [view()],
    };
    render(<Phone board={board} preset={null} onOpenSettings={noop} onOpenContact={noop} onOpenLog={noop} />);
    expect(screen.getByTestId("phone-status").textContent).toBe("Wrong SIP user name or password");
    expect(screen.getByTestId("in-call")).toBeTruthy();
    expect(screen.queryByTestId("dialer")).toBeNull();
  });
});

describe("InCall", () => {
  beforeEach(() => {
    for (const f of Object.values(commands)) vi.mocked(f).mockReset().mockResolvedValue(undefined as never);
  });

  it("shows the timer and quality and drives mute, hold, keypad, transfer and hang-up", async () => {
    window.localStorage.setItem("cuecard.region", "IN");
    const { rerender } = render(<InCall call={view()} onOpenContact={noop} />);
    expect(screen.getByTestId("in-call-name").textContent).toBe("Asha Rao");
    expect(screen.getByTestId("in-call-timer").textContent?.trim()).toMatch(/^1:0[5-6]$/);
    expect(screen.getByTestId("in-call-quality").textContent).toContain("Good (MOS 4.4)");

    fireEvent.click(screen.getByTestId("in-call-mute"));
    await waitFor(() => expect(commands.phoneMute).toHaveBeenCalledWith(7, true));
    rerender(<InCall call={view({ muted: true, held: true })} onOpenContact={noop} />);
    expect(screen.getByTestId("in-call-mute").textContent).toBe("Unmute");
    expect(screen.getByTestId("in-call-state").textContent).toContain("On hold");
    fireEvent.click(screen.getByTestId("in-call-hold"));
    await waitFor(() => expect(commands.phoneHold).toHaveBeenCalledWith(7, false));

    fireEvent.click(screen.getByTestId("in-call-keypad"));
    fireEvent.click(screen.getByTestId("in-call-pad-5"));
    fireEvent.click(screen.getByTestId("in-call-pad-hash"));
    await waitFor(() => expect(commands.phoneDtmf).toHaveBeenCalledWith(7, "#"));
    expect(screen.getByTestId("in-call-sent").textContent).toBe("Sent: 5#");

    fireEvent.click(screen.getByTestId("in-call-transfer"));
    fireEvent.change(screen.getByTestId("in-call-transfer-target"), { target: { value: "1002" } });
    fireEvent.click(screen.getByTestId("in-call-transfer-go"));
    await waitFor(() => expect(commands.phoneTransfer).toHaveBeenCalledWith(7, "1002", "IN"));

    vi.mocked(commands.phoneHangup).mockRejectedValueOnce({ kind: "phone", message: "the softphone has stopped" });
    fireEvent.click(screen.getByTestId("in-call-hangup"));
    await waitFor(() => expect(screen.getByTestId("in-call-error").textContent).toBe("the softphone has stopped"));
  });

  it("grades a poor call and says a ringing call is ringing", () => {
    render(
      <InCall
        call={view({
          state: "ringing",
          answered_at_ms: null,
          quality: { mos: 3.34, grade: "poor", loss_percent: 10, jitter_ms: 30, rtt_ms: null },
        })}
        onOpenContact={noop}
      />,
    );
    expect(screen.getByTestId("in-call-state").textContent).toBe("Ringing…");
    expect(screen.queryByTestId("in-call-timer")).toBeNull();
    expect(screen.getByTestId("in-call-quality").textContent).toContain("Poor (MOS 3.3) · 10% lost");
    expect((screen.getByTestId("in-call-mute") as HTMLButtonElement).disabled).toBe(true);
  });
});

describe("IncomingCall", () => {
  it("answers with the devices and coaching choice, or declines", async () => {
    vi.mocked(commands.phoneAnswer).mockReset().mockResolvedValue(undefined as never);
    vi.mocked(commands.phoneReject).mockReset().mockResolvedValue(undefined as never);
    window.localStorage.setItem("cuecard.phone.coach", "off");
    const onAnswered = vi.fn();
    const call = view({ id: 3, state: "incoming", direction: "inbound", remote: "sip:+919812345678@acme.sip.twilio.com" });
    render(<IncomingCall call={call} onAnswered={onAnswered} />);
    expect(screen.getByTestId("incoming-call").textContent).toContain("Asha Rao is calling from +919812345678");
    fireEvent.click(screen.getByTestId("incoming-answer"));
    await waitFor(() => expect(onAnswered).toHaveBeenCalled());
    expect(commands.phoneAnswer).toHaveBeenCalledWith(3, { mic: null, speaker: null, coach: false });
    fireEvent.click(screen.getByTestId("incoming-decline"));
    await waitFor(() => expect(commands.phoneReject).toHaveBeenCalledWith(3));
  });
});

describe("PhoneSettings", () => {
  const settings = {
    user: "",
    domain: "",
    proxy: null,
    transport: "tls" as const,
    encryption: "required" as const,
    display_name: null,
    register_expires: 600,
    tls_ca_file: null,
    twilio: { account_sid: null, voice_url: null, base_url: null },
  };

  beforeEach(() => {
    vi.mocked(commands.phoneSettings).mockReset().mockResolvedValue({ settings, password_saved: false });
    vi.mocked(commands.savePhoneSettings).mockReset();
    vi.mocked(commands.phoneTest).mockReset();
    vi.mocked(commands.twilioTokenSaved).mockReset().mockResolvedValue(false);
    vi.mocked(commands.twilioSetup).mockReset();
  });

  it("sets up the SIP Domain over Twilio with the token for the keychain, and shows a refusal", async () => {
    render(<PhoneSettings onSaved={noop} />);
    fireEvent.change(await screen.findByTestId("twilio-sid"), { target: { value: "AC0123456789abcdef0123456789abcdef" } });
    fireEvent.change(screen.getByTestId("twilio-token"), { target: { value: "tok" } });
    fireEvent.change(screen.getByTestId("twilio-voice-url"), { target: { value: "https://example.com/voice" } });
    const twilio = { account_sid: "AC0123456789abcdef0123456789abcdef", voice_url: "https://example.com/voice", base_url: null };
    vi.mocked(commands.twilioSetup).mockResolvedValueOnce({
      domain: "acme.sip.twilio.com",
      steps: ["created the SIP Domain acme.sip.twilio.com", "added the SIP login alice"],
      settings: { ...settings, user: "alice", domain: "acme.sip.twilio.com", twilio },
    });
    fireEvent.click(screen.getByTestId("twilio-setup"));
    await waitFor(() => expect(screen.getByTestId("twilio-result").textContent).toContain("added the SIP login alice"));
    expect(commands.twilioSetup).toHaveBeenCalledWith({ ...twilio, auth_token: "tok" });
    expect((screen.getByTestId("phone-domain") as HTMLInputElement).value).toBe("acme.sip.twilio.com");
    expect(screen.getByText(/Auth token \(saved in the keychain/)).toBeTruthy();

    vi.mocked(commands.twilioSetup).mockRejectedValueOnce({ kind: "twilio", message: "Twilio refused the credentials (401, code 20003)" });
    fireEvent.click(screen.getByTestId("twilio-setup"));
    await waitFor(() => expect(screen.getByTestId("twilio-result").textContent).toContain("The set-up stopped: Twilio refused"));
  });

  it("saves the login with the password for the keychain and tests the connection", async () => {
    const onSaved = vi.fn();
    render(<PhoneSettings onSaved={onSaved} />);
    fireEvent.change(await screen.findByTestId("phone-user"), { target: { value: "alice" } });
    fireEvent.change(screen.getByTestId("phone-domain"), { target: { value: "acme.sip.twilio.com" } });
    fireEvent.change(screen.getByTestId("phone-password"), { target: { value: "s3cret" } });

    vi.mocked(commands.phoneTest).mockResolvedValueOnce({ account: "alice@acme.sip.twilio.com", expires: 600, elapsed_ms: 42 });
    fireEvent.click(screen.getByTestId("phone-test"));
    await waitFor(() =>
      expect(screen.getByTestId("phone-test-result").textContent).toContain("registered alice@acme.sip.twilio.com in 42 ms"),
    );
    expect(commands.phoneTest).toHaveBeenCalledWith({ ...settings, user: "alice", domain: "acme.sip.twilio.com" }, "s3cret");

    vi.mocked(commands.phoneTest).mockRejectedValueOnce({ kind: "phone", message: "wrong user name or password (401)" });
    fireEvent.click(screen.getByTestId("phone-test"));
    await waitFor(() => expect(screen.getByTestId("phone-test-result").textContent).toContain("Could not connect: wrong user"));

    const saved = { ...settings, user: "alice", domain: "acme.sip.twilio.com" };
    vi.mocked(commands.savePhoneSettings).mockResolvedValueOnce({ settings: saved, password_saved: true });
    fireEvent.click(screen.getByTestId("phone-save"));
    await waitFor(() => expect(onSaved).toHaveBeenCalledWith("Phone settings saved"));
    expect(commands.savePhoneSettings).toHaveBeenCalledWith(saved, "s3cret");
    expect((screen.getByTestId("phone-password") as HTMLInputElement).value).toBe("");
    expect(screen.getByText(/saved in the keychain/)).toBeTruthy();
  });

  it("shows a save refusal", async () => {
    vi.mocked(commands.savePhoneSettings).mockRejectedValueOnce({ kind: "invalid", message: "the SIP Domain is empty" });
    render(<PhoneSettings onSaved={noop} />);
    fireEvent.click(await screen.findByTestId("phone-save"));
    await waitFor(() => expect(screen.getByTestId("phone-settings-error").textContent).toBe("the SIP Domain is empty"));
  });
});

describe("CallLog", () => {
  it("lists calls with contact, outcome and talk time, and reloads on a new version", async () => {
    vi.mocked(commands.recentCalls).mockReset().mockResolvedValue([
      logged,
      {
        contact_name: null,
        call: { ...logged.call, id: "k2", contact_id: null, direction: "inbound", status: "no_answer", from: "sip:+14155550134@x", duration_secs: 0 },
      },
    ]);
    const onOpenContact = vi.fn();
    const { rerender } = render(<CallLog version={0} onOpenContact={onOpenContact} onOpenCall={noop} />);
    const rows = await screen.findAllByTestId("call-log-row");
    expect(rows).toHaveLength(2);
    expect(rows[0].textContent).toContain("Asha Rao");
    expect(rows[0].textContent).toContain("2:05");
    expect(rows[1].textContent).toContain("+14155550134");
    expect(rows[1].textContent).toContain("No answer");
    fireEvent.click(screen.getByText("Asha Rao"));
    expect(onOpenContact).toHaveBeenCalledWith("c1");
    act(() => rerender(<CallLog version={1} onOpenContact={onOpenContact} onOpenCall={noop} />));
    await waitFor(() => expect(commands.recentCalls).toHaveBeenCalledTimes(2));
  });
});
