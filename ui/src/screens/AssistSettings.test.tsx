// Settings → Playbook → AI suggestions: turning suggestions on with an endpoint and
// model, a refused save keeping the saved settings, and the key going to the keychain.
import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { AssistSettings } from "./AssistSettings";
import { commands } from "../bindings";

vi.mock("../bindings", () => ({
  commands: {
    coachSettings: vi.fn(),
    saveCoachSettings: vi.fn(),
    speechKeys: vi.fn(),
    setSpeechKey: vi.fn(),
    removeSpeechKey: vi.fn(),
  },
}));

const defaults = { enabled: false, base_url: "https://api.openai.com/v1", model: "gpt-4o-mini", max_age_ms: 6000 };
const keyStatus = (source: "keychain" | null) => [
  { name: "deepgram_api_key" as const, label: "Deepgram API key", source: null, env_var: "DEEPGRAM_API_KEY", error: null },
  { name: "llm_api_key" as const, label: "Language model API key", source, env_var: "CUECARD_LLM_API_KEY", error: null },
];

describe("AssistSettings", () => {
  it("saves an endpoint, shows a refusal, and stores the key in the keychain", async () => {
    vi.mocked(commands.coachSettings).mockResolvedValue({ settings: { assist: defaults }, problem: null });
    vi.mocked(commands.speechKeys).mockResolvedValue(keyStatus(null));
    vi.mocked(commands.saveCoachSettings)
      .mockRejectedValueOnce({ kind: "invalid", message: "assist: the language model settings are invalid: base URL \"ftp://x\" must start with http:// or https://" })
      .mockImplementation(async (s) => s);
    vi.mocked(commands.setSpeechKey).mockResolvedValue(keyStatus("keychain"));
    render(<AssistSettings />);

    fireEvent.click(await screen.findByTestId("assist-enabled"));
    fireEvent.change(screen.getByTestId("assist-base-url"), { target: { value: "ftp://x" } });
    fireEvent.click(screen.getByTestId("assist-save"));
    await waitFor(() => expect(screen.getByTestId("assist-message").textContent).toContain("http://"));

    fireEvent.change(screen.getByTestId("assist-base-url"), { target: { value: "http://127.0.0.1:8080/v1" } });
    fireEvent.change(screen.getByTestId("assist-model"), { target: { value: "llama-3.1-8b" } });
    fireEvent.click(screen.getByTestId("assist-save"));
    await waitFor(() => expect(screen.getByTestId("assist-message").textContent).toContain("Saved"));
    expect(commands.saveCoachSettings).toHaveBeenLastCalledWith({
      assist: { ...defaults, enabled: true, base_url: "http://127.0.0.1:8080/v1", model: "llama-3.1-8b" },
    });
    expect((screen.getByTestId("assist-save") as HTMLButtonElement).disabled).toBe(true);

    expect(screen.getByTestId("assist-key-state").textContent).toContain("None");
    fireEvent.change(screen.getByTestId("assist-key-input"), { target: { value: "sk-local" } });
    fireEvent.click(screen.getByTestId("assist-key-save"));
    await waitFor(() => expect(screen.getByTestId("assist-key-state").textContent).toContain("keychain"));
    expect(commands.setSpeechKey).toHaveBeenCalledWith("llm_api_key", "sk-local");
  });
});
