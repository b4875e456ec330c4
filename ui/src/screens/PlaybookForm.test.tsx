// Settings → Playbook → Form: editing a card's fields, adding a rule, a refusal that
// names the card and field, and a save that sends clean lists.
import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { PlaybookForm } from "./PlaybookForm";
import { commands } from "../bindings";
import type { Playbook } from "../bindings";

vi.mock("../bindings", () => ({
  commands: {
    coachPlaybook: vi.fn(),
    coachPlaybookSave: vi.fn(),
  },
}));

const playbook = (version: number): Playbook => ({
  playbook: { id: "generic", name: "Generic B2B", version },
  cards: [
    { id: "objection-price", kind: "objection", objection: "price", title: "Price or budget", triggers: ["too expensive"], speaker: "prospect", priority: 80, body: "Anchor on value." },
    { id: "acme", kind: "competitor", competitor: "Acme", title: "Acme Dialer", triggers: ["acme"], body: "Where we win." },
  ],
  rules: [],
});

describe("PlaybookForm", () => {
  it("edits a card and adds a rule, shows a refusal, and saves clean lists", async () => {
    vi.mocked(commands.coachPlaybook).mockResolvedValueOnce(playbook(2)).mockResolvedValue(playbook(3));
    vi.mocked(commands.coachPlaybookSave)
      .mockRejectedValueOnce({ kind: "invalid", message: 'playbook.toml: rule "rule-1": phrases: at least one phrase is needed' })
      .mockResolvedValue({ kind: "playbook", toml: "", custom: true, summary: "2 cards · v3" });
    const onSaved = vi.fn();
    render(<PlaybookForm onSaved={onSaved} />);

    const title = (await screen.findByTestId("card-title")) as HTMLInputElement;
    expect(title.value).toBe("Price or budget");
    fireEvent.change(title, { target: { value: "Price, budget or cost" } });
    fireEvent.change(screen.getByTestId("card-triggers"), { target: { value: "too expensive\n\n  costs a fortune \n" } });
    expect((screen.getByTestId("card-triggers") as HTMLTextAreaElement).value).toBe("too expensive\n\n  costs a fortune \n");

    fireEvent.click(screen.getByTestId("form-add-rule"));
    expect(screen.getByTestId("rule-editor")).toBeTruthy();
    fireEvent.click(screen.getByTestId("form-save"));
    await waitFor(() => expect(screen.getByTestId("form-message").textContent).toContain('rule "rule-1": phrases'));

    fireEvent.change(screen.getByTestId("rule-phrases"), { target: { value: "guaranteed returns" } });
    fireEvent.change(screen.getByTestId("rule-title"), { target: { value: "No guarantees" } });
    fireEvent.click(screen.getByTestId("form-save"));
    await waitFor(() => expect(screen.getByTestId("form-message").textContent).toContain("version 3"));
    const sent = vi.mocked(commands.coachPlaybookSave).mock.calls[1][0];
    expect(sent.cards?.[0].title).toBe("Price, budget or cost");
    expect(sent.cards?.[0].triggers).toEqual(["too expensive", "costs a fortune"]);
    expect(sent.rules?.[0]).toMatchObject({ id: "rule-1", kind: "forbidden", title: "No guarantees", phrases: ["guaranteed returns"] });
    expect(onSaved).toHaveBeenCalled();
  });
});
