// Settings → Audio: choose the mic, the speakers and where the far end comes from; watch
// the mic's level live; run the mic test (record, hear it back, verdict) and the echo test.
import { useCallback, useEffect, useState } from "react";
import { commands, events } from "../bindings";
import type { AudioDevices, AudioLevelEvent, DeviceInfo, EchoTestResult, MicTestResult } from "../bindings";
import { errorMessage } from "../lib/api";
import { getAudioChoices, setAudioChoices } from "../lib/audioSettings";
import type { AudioChoices } from "../lib/audioSettings";
import { LevelMeter } from "../components/LevelMeter";

const MIC_TEST_SECONDS = 4;
const DEVICE_REFRESH_MS = 3000;

/** Whole decibels, without "-0". */
function db(value: number | null): string {
  const rounded = Math.round(value ?? -96);
  return String(rounded === 0 ? 0 : rounded);
}

function micVerdict(r: MicTestResult): { ok: boolean; text: string } {
  const level = db(r.speech_rms_db);
  switch (r.verdict) {
    case "good":
      return { ok: true, text: `Sounds good: your voice came through at ${level} dBFS.` };
    case "too_quiet":
      return { ok: false, text: `Too quiet (${level} dBFS while speaking): move closer or raise the input gain.` };
    case "clipping":
      return { ok: false, text: "Too loud: your voice clipped. Lower the input gain." };
    case "no_speech":
      return { ok: false, text: "No speech heard. Check that this is the right mic and that it is not muted." };
  }
}

function echoVerdict(r: EchoTestResult): { ok: boolean; text: string } {
  if (!r.echo_heard) {
    return { ok: true, text: "No echo: your mic does not hear your speakers (a headset?)." };
  }
  const erle = r.erle_db ?? 0;
  const heard = db(r.echo_return_db);
  if (erle >= 20) {
    return {
      ok: true,
      text: `Your mic hears your speakers (echo at ${heard} dB); echo cancellation removes ${db(erle)} dB of it.`,
    };
  }
  return {
    ok: false,
    text: `Your mic hears your speakers (echo at ${heard} dB) and cancellation removes only ${db(erle)} dB: use a headset for calls.`,
  };
}

function label(d: DeviceInfo): string {
  return d.is_monitor ? `${d.name} (loopback)` : d.name;
}

export function AudioSettings() {
  const [devices, setDevices] = useState<AudioDevices | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [choices, setChoices] = useState<AudioChoices>(getAudioChoices);
  const [level, setLevel] = useState<AudioLevelEvent | null>(null);
  const [meterError, setMeterError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState<"mic" | "echo" | null>(null);
  const [micResult, setMicResult] = useState<MicTestResult | null>(null);
  const [echoResult, setEchoResult] = useState<EchoTestResult | null>(null);
  const [testError, setTestError] = useState<string | null>(null);

  const loadDevices = useCallback(async () => {
    try {
      setDevices(await commands.audioDevices());
      setLoadError(null);
    } catch (e) {
      setLoadError(errorMessage(e));
    }
  }, []);

  // The device list, refreshed while the screen is open so plugged-in devices appear.
  useEffect(() => {
    void loadDevices();
    const timer = window.setInterval(() => void loadDevices(), DEVICE_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [loadDevices]);

  // The live meter on the chosen mic, paused while a test holds the device.
  useEffect(() => {
    if (busy) return;
    let cancelled = false;
    const unlisten: Array<() => void> = [];
    setLevel(null);
    setMeterError(null);
    void (async () => {
      unlisten.push(await events.audioLevelEvent.listen((e) => !cancelled && setLevel(e.payload)));
      unlisten.push(await events.audioDeviceEvent.listen((e) => !cancelled && setNotice(e.payload.message)));
      try {
        await commands.audioMeterStart(choices.mic);
      } catch (e) {
        if (!cancelled) setMeterError(errorMessage(e));
      }
    })();
    return () => {
      cancelled = true;
      unlisten.forEach((u) => u());
      void commands.audioMeterStop().catch(() => {});
    };
  }, [choices.mic, busy]);

  function choose(next: Partial<AudioChoices>) {
    const merged = { ...choices, ...next };
    setChoices(merged);
    setAudioChoices(merged);
    setMicResult(null);
    setEchoResult(null);
  }

  async function runMicTest() {
    setBusy("mic");
    setTestError(null);
    setMicResult(null);
    try {
      setMicResult(await commands.audioMicTest(choices.mic, choices.output, MIC_TEST_SECONDS));
    } catch (e) {
      setTestError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

  async function runEchoTest() {
    setBusy("echo");
    setTestError(null);
    setEchoResult(null);
    try {
      setEchoResult(await commands.audioEchoTest(choices.mic, choices.output));
    } catch (e) {
      setTestError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

  const inputs = devices?.devices.filter((d) => d.direction === "input") ?? [];
  const outputs = devices?.devices.filter((d) => d.direction === "output") ?? [];
  const defaultIn = inputs.find((d) => d.is_default);
  const defaultOut = outputs.find((d) => d.is_default);
  const missing = (id: string | null, list: DeviceInfo[]) => id !== null && devices !== null && !list.some((d) => d.id === id);
  const mic = micResult && micVerdict(micResult);
  const echo = echoResult && echoVerdict(echoResult);

  return (
    <div className="screen settings-screen">
      <header className="screen-header">
        <h1>Audio</h1>
        {devices && <span className="muted">Audio system: {devices.host}</span>}
      </header>
      {loadError && <p className="problem-message" role="alert">Could not list audio devices: {loadError}</p>}

      <section className="card settings-card">
        <h2>Devices</h2>
        <label className="field">
          <span>Microphone</span>
          <select data-testid="audio-mic" value={choices.mic ?? ""} disabled={busy !== null}
            onChange={(e) => choose({ mic: e.target.value || null })}>
            <option value="">System default{defaultIn ? ` (${label(defaultIn)})` : ""}</option>
            {inputs.map((d) => (
              <option key={d.id} value={d.id}>{label(d)}</option>
            ))}
            {missing(choices.mic, inputs) && <option value={choices.mic ?? ""}>{choices.mic} (not connected)</option>}
          </select>
        </label>
        <div className="meter-row">
          <LevelMeter label="Microphone level" rmsDb={level?.rms_db ?? null} peakDb={level?.peak_db ?? null}
            clipped={level?.clipped ?? false} />
          <span className="meter-readout" data-testid="audio-level">
            {busy ? "paused for the test" : level ? `${db(level.rms_db)} dBFS${level.speaking ? " · speech" : ""}` : "…"}
          </span>
        </div>
        {meterError && <p className="problem-message" role="alert">{meterError}</p>}
        {notice && <p className="muted" data-testid="audio-notice">{notice}</p>}

        <label className="field">
          <span>Speakers or headset</span>
          <select data-testid="audio-output" value={choices.output ?? ""} disabled={busy !== null}
            onChange={(e) => choose({ output: e.target.value || null })}>
            <option value="">System default{defaultOut ? ` (${label(defaultOut)})` : ""}</option>
            {outputs.map((d) => (
              <option key={d.id} value={d.id}>{label(d)}</option>
            ))}
            {missing(choices.output, outputs) && <option value={choices.output ?? ""}>{choices.output} (not connected)</option>}
          </select>
        </label>

        <label className="field">
          <span>The other side, for calls in other apps</span>
          <select data-testid="audio-far-end" value={choices.farEnd}
            onChange={(e) => choose({ farEnd: e.target.value === "none" ? "none" : "loopback" })}>
            <option value="loopback" disabled={!devices?.loopback}>What my speakers play</option>
            <option value="none">Nothing (my side only)</option>
          </select>
        </label>
        {devices?.loopback_error && <p className="muted">{devices.loopback_error}</p>}
        <p className="muted">Calls you place from Cuecard always take the other side from the call itself.</p>
      </section>

      <section className="card settings-card">
        <h2>Tests</h2>
        <div className="button-row">
          <button type="button" className="btn btn-primary" data-testid="audio-mic-test" disabled={busy !== null}
            onClick={() => void runMicTest()}>
            {busy === "mic" ? `Recording ${MIC_TEST_SECONDS} s, then playing it back…` : "Test my mic"}
          </button>
          <button type="button" className="btn" data-testid="audio-echo-test" disabled={busy !== null}
            onClick={() => void runEchoTest()}>
            {busy === "echo" ? "Playing the test clip…" : "Test for echo"}
          </button>
        </div>
        <p className="muted">
          The mic test records {MIC_TEST_SECONDS} seconds (say a sentence) and plays it back. The echo test plays a
          short clip on your speakers and listens for it in your mic.
        </p>
        {testError && <p className="problem-message" role="alert">{testError}</p>}
        {mic && (
          <p className={mic.ok ? "result-ok" : "result-warn"} data-testid="audio-mic-result">{mic.text}</p>
        )}
        {echo && (
          <p className={echo.ok ? "result-ok" : "result-warn"} data-testid="audio-echo-result">{echo.text}</p>
        )}
      </section>
    </div>
  );
}
