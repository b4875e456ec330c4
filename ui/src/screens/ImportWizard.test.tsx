// Component tests for the import wizard with the Tauri commands mocked.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { ImportWizard } from "./ImportWizard";
import { commands } from "../bindings";
import { report } from "../test/fixtures";

vi.mock("../bindings", () => ({
  commands: {
    importPreview: vi.fn(),
    importContacts: vi.fn(),
  },
}));

const preview = vi.mocked(commands.importPreview);
const run = vi.mocked(commands.importContacts);

function chooseFile(text = "Name,Phone\nAsha,98123 45678\n") {
  const file = new File([text], "leads.csv", { type: "text/csv" });
  fireEvent.change(screen.getByTestId("import-file"), { target: { files: [file] } });
}

describe("ImportWizard", () => {
  beforeEach(() => {
    preview.mockReset();
    run.mockReset();
  });

  it("shows the preview error and stays on step 1", async () => {
    preview.mockRejectedValue({ kind: "import", message: "the file is not UTF-8 (line 3)" });
    render(<ImportWizard onDone={() => {}} />);
    chooseFile();

    const err = await screen.findByTestId("import-error");
    expect(err.textContent).toContain("the file is not UTF-8 (line 3)");
    expect(screen.queryByTestId("import-summary")).toBeNull();
    expect(screen.queryByTestId("import-run-button")).toBeNull();

    const [content, options] = preview.mock.calls[0];
    expect(atob(content)).toBe("Name,Phone\nAsha,98123 45678\n");
    expect(options).toEqual({
      file_name: "leads.csv",
      default_region: "IN",
      default_currency: null,
      encoding: null,
      mapping: null,
    });
  });

  it("retries with the chosen encoding", async () => {
    preview.mockRejectedValueOnce({ kind: "import", message: "not UTF-8" }).mockResolvedValueOnce(report());
    render(<ImportWizard onDone={() => {}} />);
    chooseFile();
    await screen.findByTestId("import-error");
    fireEvent.change(screen.getByTestId("import-encoding"), { target: { value: "windows-1252" } });
    await screen.findByTestId("import-summary");
    expect(preview.mock.calls[1][1].encoding).toBe("windows-1252");
    expect(screen.queryByTestId("import-error")).toBeNull();
  });

  it("previews, re-maps, imports and reports", async () => {
    // Like the backend, a preview reports the mapping it used.
    preview.mockImplementation(async (_content, options) =>
      report(options.mapping ? { mapping: options.mapping } : {}),
    );
    run.mockResolvedValue(report({ committed: true, created: 1, elapsed_ms: 12 }));
    const onDone = vi.fn();
    render(<ImportWizard onDone={onDone} />);
    chooseFile();

    const summary = await screen.findByTestId("import-summary");
    expect(within(summary).getByText("Will create").nextSibling?.textContent).toBe("1");
    expect(screen.getAllByTestId("import-error-row").map((li) => li.textContent)).toEqual([
      "Row 3: no phone number or e-mail",
    ]);
    expect(within(screen.getByTestId("import-preview")).getByText("Asha Rao")).toBeTruthy();

    const select = screen.getByTestId("mapping-select-2") as HTMLSelectElement;
    expect(select.value).toBe("ignore");
    fireEvent.change(select, { target: { value: "custom" } });
    await waitFor(() => expect(preview).toHaveBeenCalledTimes(2));
    expect(preview.mock.calls[1][1].mapping?.[2]).toEqual({
      column: 2,
      header: "Notes",
      target: { field: "custom", key: "Notes" },
    });

    await waitFor(() => expect((screen.getByTestId("import-run-button") as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByTestId("import-run-button"));
    const done = await screen.findByTestId("import-report");
    expect(done.textContent).toContain("12 ms");
    expect(run.mock.calls[0][1].mapping?.[2].target).toEqual({ field: "custom", key: "Notes" });

    fireEvent.click(screen.getByTestId("import-done-button"));
    expect(onDone).toHaveBeenCalledOnce();
  });
});
