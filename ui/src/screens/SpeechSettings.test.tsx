// Component tests for Settings → Speech: engine choice per use, keys, the model manager
// (download progress, cancel, import errors, remove) and the live mic test.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { SpeechSettings } from "./SpeechSettings";
import { commands, events } from "../bindings";
import type { KeyStatus, ModelDownloadEvent, ModelImportEvent, ModelsOverview, SpeechSettings as Settings, SpeechTestEvent } from "../bindings";

type Handler<T> = (e: { payload: T }) => void;
const handlers: {
  progress: Handler<ModelDownloadEvent> | null;
  test: Handler<SpeechTestEvent> | null;
  import: Handler<ModelImportEvent> | null;
} = { progress: null, test: null, import: null };

vi.mock("../bindings", () => ({
  commands: {
    speechSettings: vi.fn(),
    saveSpeechSettings: vi.fn(),
    speechKeys: vi.fn(),
    setSpeechKey: vi.fn(),
    removeSpeechKey: vi.fn(),
    speechModels: vi.fn(),
    modelDownload: vi.fn(),
    modelDownloadCancel: vi.fn(),
    modelImport: vi.fn(),
    modelRemove: vi.fn(),
    speechTestStart: vi.fn(),
    speechTestStop: vi.fn(),
  },
  events: {
    modelDownloadEvent: { listen: vi.fn() },
    speechTestEvent: { listen: vi.fn() },
    modelImportEvent: { listen: vi.fn() },
  },
}));

const defaults: Settings = {
  live_call: { engine: "local", fallback_to_local: true },
  practice: { engine: "local", fallback_to_local: true },
  post_call: { engine: "local", fallback_to_local: true },
  local_model: null,
  language: "en",
  deepgram: { base_url: "wss://api.deepgram.com", model: "nova-3" },
  openai: { base_url: "https://api.openai.com/v1", model: "whisper-1" },
  models_url: "https://huggingface.co/ggerganov/whisper.cpp/resolve/main/{file}",
};

const hparams = {
  n_vocab: 51864, n_audio_ctx: 1500, n_audio_state: 384, n_audio_head: 6, n_audio_layer: 4,
  n_text_ctx: 448, n_text_state: 384, n_text_head: 6, n_text_layer: 4, n_mels: 80, ftype: 1,
};

const overview: ModelsOverview = {
  dir: "/home/rep/.local/share/app.cuecard.desktop/models",
  installed: [{ id: "tiny.en", path: "/m/ggml-tiny.en.bin", bytes: 77_691_713, hparams }],
  catalog: [
    { id: "tiny.en", english_only: true, approx_mib: 75, parameters: "39 M", installed: true },
    { id: "base.en", english_only: true, approx_mib: 142, parameters: "74 M", installed: false },
  ],
  downloading: [],
};

const noKeys: KeyStatus[] = [
  { name: "deepgram_api_key", label: "Deepgram API key", source: null, env_var: "DEEPGRAM_API_KEY", error: null },
  { name: "openai_api_key", label: "OpenAI API key", source: null, env_var: "OPENAI_API_KEY", error: null },
];

describe("SpeechSettings", () => {
  beforeEach(() => {
    vi.mocked(commands.speechSettings).mockReset().mockResolvedValue({ settings: defaults, problem: null });
    vi.mocked(commands.saveSpeechSettings).mockReset().mockImplementation(async (s) => s);
    vi.mocked(commands.speechKeys).mockReset().mockResolvedValue(noKeys);
    vi.mocked(commands.setSpeechKey).mockReset();
    vi.mocked(commands.removeSpeechKey).mockReset();
    vi.mocked(commands.speechModels).mockReset().mockResolvedValue(overview);
    vi.mocked(commands.modelDownload).mockReset();
    vi.mocked(commands.modelDownloadCancel).mockReset().mockResolvedValue(null);
    vi.mocked(commands.modelImport).mockReset();
    vi.mocked(commands.modelRemove).mockReset();
    vi.mocked(commands.speechTestStart).mockReset();
    vi.mocked(commands.speechTestStop).mockReset().mockResolvedValue(null);
    vi.mocked(events.modelDownloadEvent.listen).mockReset().mockImplementation(async (cb) => {
      handlers.progress = cb as unknown as Handler<ModelDownloadEvent>;
      return () => {};
    });
    vi.mocked(events.speechTestEvent.listen).mockReset().mockImplementation(async (cb) => {
      handlers.test = cb as unknown as Handler<SpeechTestEvent>;
      return () => {};
    });
    vi.mocked(events.modelImportEvent.listen).mockReset().mockImplementation(async (cb) => {
      handlers.import = cb as unknown as Handler<ModelImportEvent>;
      return () => {};
    });
  });

  it("saves an engine per use and offers the file-only engine only after calls", async () => {
    render(<SpeechSettings />);
    const live = (await screen.findByTestId("speech-engine-live_call")) as HTMLSelectElement;
    expect([...live.options].map((o) => o.value)).toEqual(["local", "deepgram"]);
    const post = screen.getByTestId("speech-engine-post_call") as HTMLSelectElement;
    expect([...post.options].map((o) => o.value)).toEqual(["local", "deepgram", "openai"]);

    fireEvent.change(live, { target: { value: "deepgram" } });
    await waitFor(() =>
      expect(commands.saveSpeechSettings).toHaveBeenLastCalledWith(
        expect.objectContaining({ live_call: { engine: "deepgram", fallback_to_local: true } }),
      ),
    );
    // A cloud choice shows its fall-back switch and flags the missing key.
    fireEvent.click(await screen.findByTestId("speech-fallback-live_call"));
    await waitFor(() =>
      expect(commands.saveSpeechSettings).toHaveBeenLastCalledWith(
        expect.objectContaining({ live_call: { engine: "deepgram", fallback_to_local: false } }),
      ),
    );
    expect(screen.getByTestId("speech-key-deepgram_api_key").textContent).toContain("needed by your engine choice");
  });

  it("shows a refused save and keeps what is really saved", async () => {
    vi.mocked(commands.saveSpeechSettings).mockRejectedValueOnce({
      kind: "invalid",
      message: "speech settings: the language \"english please\" is not a language tag such as en or en-US",
    });
    render(<SpeechSettings />);
    const lang = (await screen.findByTestId("speech-language")) as HTMLInputElement;
    fireEvent.change(lang, { target: { value: "english please" } });
    fireEvent.blur(lang);
    expect((await screen.findByTestId("speech-save-state")).textContent).toContain("not a language tag");
    await waitFor(() => expect(commands.speechSettings).toHaveBeenCalledTimes(2));
  });

  it("stores a key in the keychain without showing it again", async () => {
    vi.mocked(commands.setSpeechKey).mockResolvedValue([
      { ...noKeys[0], source: "keychain" },
      noKeys[1],
    ]);
    render(<SpeechSettings />);
    const input = (await screen.findByTestId("speech-key-input-deepgram_api_key")) as HTMLInputElement;
    expect(input.type).toBe("password");
    fireEvent.change(input, { target: { value: "dg-123" } });
    fireEvent.click(screen.getByTestId("speech-key-save-deepgram_api_key"));
    await waitFor(() =>
      expect(screen.getByTestId("speech-key-state-deepgram_api_key").textContent).toBe("Saved in the system keychain"),
    );
    expect(commands.setSpeechKey).toHaveBeenCalledWith("deepgram_api_key", "dg-123");
    expect(input.value).toBe("");
    expect(screen.getByTestId("speech-key-remove-deepgram_api_key")).toBeTruthy();
  });

  it("downloads a model with progress and can cancel it", async () => {
    let finish: (v: unknown) => void = () => {};
    vi.mocked(commands.modelDownload).mockImplementation(
      () => new Promise((_, reject) => (finish = reject)) as never,
    );
    render(<SpeechSettings />);
    fireEvent.click(await screen.findByTestId("model-download-base.en"));
    await waitFor(() => expect(handlers.progress).not.toBeNull());
    handlers.progress?.({ payload: { id: "base.en", downloaded: 74_000_000, total: 148_000_000, resumed_from: 0 } });
    const row = screen.getByTestId("model-base.en");
    await waitFor(() => expect(within(row).getByText("50%")).toBeTruthy());
    fireEvent.click(screen.getByTestId("model-cancel-base.en"));
    expect(commands.modelDownloadCancel).toHaveBeenCalledWith("base.en");
    finish({ kind: "cancelled", message: "cancelled" });
    await waitFor(() => expect(screen.getByTestId("model-download-base.en")).toBeTruthy());
    expect(screen.queryByTestId("model-error")).toBeNull();
  });

  it("shows an import's progress and the installed model", async () => {
    let finish: (v: unknown) => void = () => {};
    vi.mocked(commands.modelImport).mockImplementation(() => new Promise((resolve) => (finish = resolve)) as never);
    render(<SpeechSettings />);
    fireEvent.change(await screen.findByTestId("model-import-path"), { target: { value: "/models/faster-whisper-base" } });
    fireEvent.change(screen.getByTestId("model-import-name"), { target: { value: " base " } });
    fireEvent.click(screen.getByTestId("model-import"));
    expect(await screen.findByTestId("model-import-progress")).toBeTruthy();
    await waitFor(() => expect(handlers.import).not.toBeNull());
    handlers.import?.({ payload: { path: "/models/faster-whisper-base", fraction: 0.42 } });
    await waitFor(() => expect(screen.getByText("42%")).toBeTruthy());
    finish({ id: "base", path: "/m/ggml-base.bin", bytes: 147_951_465, hparams });
    expect((await screen.findByTestId("speech-save-state")).textContent).toBe("Installed base.");
    expect(screen.queryByTestId("model-import-progress")).toBeNull();
    expect(commands.modelImport).toHaveBeenCalledWith("/models/faster-whisper-base", "base");
  });

  it("reports a bad import and removes a model", async () => {
    vi.mocked(commands.modelImport).mockRejectedValue({ kind: "model", message: "/tmp/x.bin is not a ggml whisper model" });
    vi.mocked(commands.modelRemove).mockResolvedValue({ ...overview, installed: [] });
    render(<SpeechSettings />);
    fireEvent.change(await screen.findByTestId("model-import-path"), { target: { value: "/tmp/x.bin" } });
    fireEvent.click(screen.getByTestId("model-import"));
    expect((await screen.findByTestId("model-error")).textContent).toBe("/tmp/x.bin is not a ggml whisper model");
    expect(commands.modelImport).toHaveBeenCalledWith("/tmp/x.bin", null);

    fireEvent.click(screen.getByTestId("model-remove-tiny.en"));
    await waitFor(() => expect(screen.getByTestId("model-download-tiny.en")).toBeTruthy());
  });

  it("runs the live test: partials, then finals, then stop", async () => {
    vi.mocked(commands.speechTestStart).mockResolvedValue({ device: "pulseaudio:mic", engine: "local", warning: null });
    render(<SpeechSettings />);
    fireEvent.click(await screen.findByTestId("speech-test-start"));
    expect((await screen.findByTestId("speech-test-device")).textContent).toBe(
      "Listening on pulseaudio:mic with the local engine.",
    );
    const seg = (text: string) => ({
      channel: "rep" as const, speaker: null, start_ms: 0, end_ms: 900, text, confidence: 0.9, words: [],
    });
    handlers.test?.({ payload: { event: { kind: "partial", segment: seg("send the") } } });
    await waitFor(() => expect(screen.getByTestId("speech-test-transcript").textContent).toBe(" send the"));
    handlers.test?.({ payload: { event: { kind: "final", segment: seg("Send the pricing.") } } });
    await waitFor(() => expect(screen.getByTestId("speech-test-transcript").textContent).toBe("Send the pricing."));
    fireEvent.click(screen.getByTestId("speech-test-stop"));
    await waitFor(() => expect(commands.speechTestStop).toHaveBeenCalled());
    expect(await screen.findByTestId("speech-test-start")).toBeTruthy();
  });

  it("shows an unreadable settings file and the defaults", async () => {
    vi.mocked(commands.speechSettings).mockResolvedValue({
      settings: defaults,
      problem: "speech settings in /d/speech.json: line 1, column 3: expected value. Saving replaces it with what is shown.",
    });
    render(<SpeechSettings />);
    expect((await screen.findByTestId("speech-problem")).textContent).toContain("speech.json: line 1");
  });
});
