// Component tests for Settings → Audio: device pickers, the live meter, the two tests.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { AudioSettings } from "./AudioSettings";
import { commands, events } from "../bindings";
import type { AudioDevices, AudioLevelEvent } from "../bindings";
import { getAudioChoices } from "../lib/audioSettings";

type LevelHandler = (e: { payload: AudioLevelEvent }) => void;
const handlers: { level: LevelHandler | null } = { level: null };

vi.mock("../bindings", () => ({
  commands: {
    audioDevices: vi.fn(),
    audioMeterStart: vi.fn(),
    audioMeterStop: vi.fn(),
    audioMicTest: vi.fn(),
    audioEchoTest: vi.fn(),
  },
  events: {
    audioLevelEvent: { listen: vi.fn() },
    audioDeviceEvent: { listen: vi.fn() },
  },
}));

const devices: AudioDevices = {
  host: "PulseAudio",
  devices: [
    { id: "pulseaudio:mic", name: "Built-in Mic", direction: "input", is_default: true, is_monitor: false, sample_rate: 48000, channels: 1 },
    { id: "pulseaudio:usb", name: "USB Headset Mic", direction: "input", is_default: false, is_monitor: false, sample_rate: 44100, channels: 1 },
    { id: "pulseaudio:speakers.monitor", name: "Monitor of Speakers", direction: "input", is_default: false, is_monitor: true, sample_rate: 48000, channels: 2 },
    { id: "pulseaudio:speakers", name: "Speakers", direction: "output", is_default: true, is_monitor: false, sample_rate: 48000, channels: 2 },
  ],
  loopback: "pulseaudio:speakers.monitor",
  loopback_error: null,
};

describe("AudioSettings", () => {
  beforeEach(() => {
    vi.mocked(commands.audioDevices).mockReset().mockResolvedValue(devices);
    vi.mocked(commands.audioMeterStart).mockReset().mockResolvedValue("pulseaudio:mic");
    vi.mocked(commands.audioMeterStop).mockReset().mockResolvedValue(null);
    vi.mocked(commands.audioMicTest).mockReset();
    vi.mocked(commands.audioEchoTest).mockReset();
    vi.mocked(events.audioLevelEvent.listen).mockReset().mockImplementation(async (cb) => {
      handlers.level = cb as unknown as LevelHandler;
      return () => {};
    });
    vi.mocked(events.audioDeviceEvent.listen).mockReset().mockResolvedValue(() => {});
  });

  it("lists devices with the defaults, meters the mic live and remembers a new choice", async () => {
    render(<AudioSettings />);
    const mic = (await screen.findByTestId("audio-mic")) as HTMLSelectElement;
    await waitFor(() => expect(mic.options.length).toBe(4));
    expect(mic.options[0].textContent).toBe("System default (Built-in Mic)");
    expect(mic.options[3].textContent).toBe("Monitor of Speakers (loopback)");
    await waitFor(() => expect(commands.audioMeterStart).toHaveBeenCalledWith(null));

    await waitFor(() => expect(handlers.level).not.toBeNull());
    handlers.level?.({ payload: { device: "pulseaudio:mic", rms_db: -23.4, peak_db: -8, clipped: false, speaking: true } });
    await waitFor(() => expect(screen.getByTestId("audio-level").textContent).toBe("-23 dBFS · speech"));
    expect(screen.getByRole("meter").getAttribute("aria-valuenow")).toBe("-23");

    fireEvent.change(mic, { target: { value: "pulseaudio:usb" } });
    await waitFor(() => expect(commands.audioMeterStart).toHaveBeenLastCalledWith("pulseaudio:usb"));
    expect(commands.audioMeterStop).toHaveBeenCalled();
    expect(getAudioChoices().mic).toBe("pulseaudio:usb");
  });

  it("runs the mic test and says what to fix", async () => {
    vi.mocked(commands.audioMicTest).mockResolvedValue({
      device: "pulseaudio:mic", seconds: 4, peak_db: -30, speech_rms_db: -46.2, speech_ms: 2100, clipped: false, verdict: "too_quiet",
    });
    render(<AudioSettings />);
    fireEvent.click(await screen.findByTestId("audio-mic-test"));
    expect(await screen.findByTestId("audio-mic-result")).toHaveProperty(
      "textContent",
      "Too quiet (-46 dBFS while speaking): move closer or raise the input gain.",
    );
    expect(commands.audioMicTest).toHaveBeenCalledWith(null, null, 4);
  });

  it("reports the echo test and an error from a vanished device", async () => {
    vi.mocked(commands.audioEchoTest).mockResolvedValueOnce({ mic: "m", echo_return_db: -12, erle_db: 31.5, echo_heard: true });
    render(<AudioSettings />);
    fireEvent.click(await screen.findByTestId("audio-echo-test"));
    expect((await screen.findByTestId("audio-echo-result")).textContent).toBe(
      "Your mic hears your speakers (echo at -12 dB); echo cancellation removes 32 dB of it.",
    );
    vi.mocked(commands.audioEchoTest).mockRejectedValueOnce({ kind: "device_not_found", message: "no audio device named \"usb\"" });
    fireEvent.click(screen.getByTestId("audio-echo-test"));
    expect((await screen.findByRole("alert")).textContent).toBe("no audio device named \"usb\"");
  });
});
