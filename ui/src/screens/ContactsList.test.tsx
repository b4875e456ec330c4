// Component tests for the contacts list with the Tauri commands mocked.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { useState } from "react";
import { ContactsList } from "./ContactsList";
import { commands } from "../bindings";
import { EMPTY_FILTERS } from "../lib/api";
import type { ListFilters } from "../lib/api";
import { contact } from "../test/fixtures";

vi.mock("../bindings", () => ({
  commands: {
    listContacts: vi.fn(),
    tagCounts: vi.fn(),
    uiReady: vi.fn(),
  },
}));

const list = vi.mocked(commands.listContacts);
const tags = vi.mocked(commands.tagCounts);
const uiReady = vi.mocked(commands.uiReady);

function Harness(props: { onOpen?: (id: string) => void; onImport?: () => void; onExport?: () => void }) {
  const [filters, setFilters] = useState<ListFilters>(EMPTY_FILTERS);
  return (
    <ContactsList
      filters={filters}
      onFiltersChange={setFilters}
      version={0}
      onOpen={props.onOpen ?? (() => {})}
      onNew={() => {}}
      onImport={props.onImport ?? (() => {})}
      onExport={props.onExport ?? (() => {})}
    />
  );
}

describe("ContactsList", () => {
  beforeEach(() => {
    list.mockReset();
    tags.mockReset().mockResolvedValue([{ tag: "vip", count: 1 }]);
    uiReady.mockReset().mockResolvedValue(1);
  });

  it("renders rows, the total, and reports ui_ready once", async () => {
    list.mockResolvedValue({
      contacts: [contact(), contact({ id: "c2", name: "Bo Chen", do_not_call: true, tags: [] })],
      total: 2,
      total_capped: false,
    });
    const onOpen = vi.fn();
    render(<Harness onOpen={onOpen} />);

    const rows = await screen.findAllByTestId("contact-row");
    expect(rows).toHaveLength(2);
    expect(rows[0].textContent).toContain("Asha Rao");
    expect(rows[0].textContent).toContain("+919812345678");
    expect(rows[0].textContent).toContain("vip");
    expect(rows[1].querySelector("[data-testid=dnc-badge]")).not.toBeNull();
    expect(screen.getByTestId("contact-total").textContent).toBe("2 contacts");
    expect(list).toHaveBeenCalledWith({
      text: null,
      tag: null,
      stage: null,
      do_not_call: null,
      include_deleted: false,
      sort: "name_asc",
      limit: 100,
      offset: 0,
    });
    await waitFor(() => expect(uiReady).toHaveBeenCalledTimes(1));

    fireEvent.click(rows[1]);
    expect(onOpen).toHaveBeenCalledWith("c2");

    // Searching sends the text (debounced) with relevance order; ui_ready is not sent again.
    fireEvent.change(screen.getByTestId("contact-search"), { target: { value: "bo" } });
    await waitFor(() => expect(list).toHaveBeenLastCalledWith(expect.objectContaining({ text: "bo", sort: "relevance" })));
    expect(uiReady).toHaveBeenCalledTimes(1);
    expect(screen.queryByTestId("page-next")).toBeNull();
  });

  it("shows the empty state with a way to import", async () => {
    list.mockResolvedValue({ contacts: [], total: 0, total_capped: false });
    const onImport = vi.fn();
    render(<Harness onImport={onImport} />);
    await screen.findByTestId("contacts-empty");
    expect(screen.getByTestId("contact-total").textContent).toBe("0 contacts");
    fireEvent.click(screen.getByTestId("empty-import-button"));
    expect(onImport).toHaveBeenCalledOnce();
  });

  it("pages through more than 100 contacts", async () => {
    list.mockResolvedValue({ contacts: [contact()], total: 250, total_capped: false });
    render(<Harness />);
    fireEvent.click(await screen.findByTestId("page-next"));
    await waitFor(() => expect(list).toHaveBeenLastCalledWith(expect.objectContaining({ offset: 100 })));
    expect(await screen.findByTestId("page-prev")).toBeTruthy();
  });
});
