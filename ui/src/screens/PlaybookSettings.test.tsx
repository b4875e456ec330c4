// Component tests for Settings → Playbook: the document in force, a refused edit that
// names the item and field, saving, switching to the rubric, import and reset.
import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { PlaybookSettings } from "./PlaybookSettings";
import { commands } from "../bindings";
import type { CoachDocument } from "../bindings";

vi.mock("../bindings", () => ({
  commands: {
    coachDocument: vi.fn(),
    coachDocumentSave: vi.fn(),
    coachDocumentImport: vi.fn(),
    coachDocumentExport: vi.fn(),
    coachDocumentReset: vi.fn(),
    coachPlaybook: vi.fn(async () => ({ playbook: { id: "generic", name: "Generic B2B", version: 2 }, cards: [], rules: [] })),
    coachPlaybookSave: vi.fn(),
    coachSettings: vi.fn(async () => ({ settings: { assist: { enabled: false, base_url: "https://api.openai.com/v1", model: "gpt-4o-mini", max_age_ms: 6000 } }, problem: null })),
    speechKeys: vi.fn(async () => []),
  },
}));

const doc = (kind: CoachDocument["kind"], toml: string, custom: boolean, summary: string): CoachDocument => ({
  kind,
  toml,
  custom,
  summary,
});

describe("PlaybookSettings", () => {
  it("edits, refuses a bad edit with its location, saves, and resets", async () => {
    vi.mocked(commands.coachDocument).mockResolvedValue(
      doc("playbook", '[playbook]\nname = "Generic B2B"\n', false, "14 cards · v2"),
    );
    render(<PlaybookSettings />);
    const summary = await screen.findByText(/The built-in playbook: 14 cards · v2/);
    expect(summary).toBeTruthy();
    // The playbook opens as a form; the TOML is one click away.
    expect(await screen.findByTestId("playbook-form")).toBeTruthy();
    fireEvent.click(screen.getByTestId("mode-toml"));
    const editor = screen.getByTestId("doc-text") as HTMLTextAreaElement;
    expect(editor.value).toContain("Generic B2B");
    expect((screen.getByTestId("doc-save") as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByTestId("doc-reset") as HTMLButtonElement).disabled).toBe(true);

    fireEvent.change(editor, { target: { value: '[playbook]\nname = ""\n' } });
    vi.mocked(commands.coachDocumentSave).mockRejectedValueOnce({
      kind: "invalid",
      message: 'playbook.toml: playbook: name: is empty',
    });
    fireEvent.click(screen.getByTestId("doc-save"));
    expect((await screen.findByRole("alert")).textContent).toBe("playbook.toml: playbook: name: is empty");
    // The edit is still there to fix; switching documents waits for it.
    expect(editor.value).toContain('name = ""');
    expect((screen.getByTestId("doc-rubric") as HTMLButtonElement).disabled).toBe(true);

    fireEvent.change(editor, { target: { value: '[playbook]\nname = "Acme"\n' } });
    vi.mocked(commands.coachDocumentSave).mockResolvedValueOnce(
      doc("playbook", '[playbook]\nname = "Acme"\n', true, "14 cards · v3"),
    );
    fireEvent.click(screen.getByTestId("doc-save"));
    await screen.findByText(/Your team's playbook: 14 cards · v3/);
    expect(commands.coachDocumentSave).toHaveBeenLastCalledWith("playbook", '[playbook]\nname = "Acme"\n');

    vi.mocked(commands.coachDocumentReset).mockResolvedValueOnce(
      doc("playbook", '[playbook]\nname = "Generic B2B"\n', false, "14 cards · v2"),
    );
    fireEvent.click(screen.getByTestId("doc-reset"));
    await screen.findByText(/The built-in playbook/);
    expect(editor.value).toContain("Generic B2B");
  });

  it("switches to the rubric and imports and exports files", async () => {
    vi.mocked(commands.coachDocument).mockImplementation(async (kind) =>
      kind === "rubric"
        ? doc("rubric", '[rubric]\nid = "default"\n', false, "5 categories, 9 checks · v2")
        : doc("playbook", "[playbook]\n", false, "14 cards · v2"),
    );
    render(<PlaybookSettings />);
    await screen.findByText(/14 cards/);
    fireEvent.click(screen.getByTestId("doc-rubric"));
    await screen.findByText(/The built-in scoring rubric: 5 categories, 9 checks · v2/);

    fireEvent.change(screen.getByTestId("doc-path"), { target: { value: "/tmp/team-rubric.toml" } });
    vi.mocked(commands.coachDocumentExport).mockResolvedValueOnce("/tmp/team-rubric.toml");
    fireEvent.click(screen.getByTestId("doc-export"));
    expect((await screen.findByRole("status")).textContent).toBe("Exported to /tmp/team-rubric.toml.");
    expect(commands.coachDocumentExport).toHaveBeenCalledWith("rubric", "/tmp/team-rubric.toml");

    vi.mocked(commands.coachDocumentImport).mockResolvedValueOnce(
      doc("rubric", '[rubric]\nid = "team"\n', true, "2 categories, 3 checks · v1"),
    );
    fireEvent.click(screen.getByTestId("doc-import"));
    await waitFor(() => expect(screen.getByTestId("doc-summary").textContent).toContain("Your team's scoring rubric"));
    expect((screen.getByTestId("doc-text") as HTMLTextAreaElement).value).toContain('id = "team"');
  });
});
