// The contacts screen: search, filters, sort, paging, the table, and the empty state.
import { useEffect, useState } from "react";
import { commands } from "../bindings";
import type { ContactPage, ContactSort, DealStage, TagCount } from "../bindings";
import {
  PAGE_SIZE,
  buildQuery,
  effectiveSort,
  errorMessage,
  reportUiReadyOnce,
} from "../lib/api";
import type { DncFilter, ListFilters } from "../lib/api";
import { DEAL_STAGES, stageLabel } from "../lib/format";
import { useDebounced } from "../lib/useDebounced";
import { ContactsTable } from "./ContactsTable";

type Props = {
  filters: ListFilters;
  onFiltersChange: (f: ListFilters) => void;
  /** Bumped by the app when contacts changed elsewhere; reloads the list. */
  version: number;
  onOpen: (id: string) => void;
  onNew: () => void;
  onImport: () => void;
  /** Exports every contact as CSV; shows where the file went. */
  onExport: () => void;
};

const SORTS: { value: ContactSort; label: string }[] = [
  { value: "relevance", label: "Relevance" },
  { value: "name_asc", label: "Name A–Z" },
  { value: "name_desc", label: "Name Z–A" },
  { value: "company_asc", label: "Company" },
  { value: "updated_desc", label: "Recently updated" },
  { value: "created_desc", label: "Recently created" },
];

export function ContactsList({ filters, onFiltersChange, version, onOpen, onNew, onImport, onExport }: Props) {
  const text = useDebounced(filters.text, 150);
  const [page, setPage] = useState<ContactPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tags, setTags] = useState<TagCount[]>([]);

  const query = buildQuery(filters, text);
  const queryKey = JSON.stringify(query);

  useEffect(() => {
    let cancelled = false;
    commands
      .listContacts(JSON.parse(queryKey))
      .then((p) => {
        if (cancelled) return;
        setPage(p);
        setError(null);
      })
      .catch((e: unknown) => {
        if (!cancelled) setError(errorMessage(e));
      });
    return () => {
      cancelled = true;
    };
  }, [queryKey, version]);

  useEffect(() => {
    let cancelled = false;
    commands
      .tagCounts()
      .then((t) => {
        if (!cancelled) setTags(t);
      })
      .catch(() => {
        // The tag filter just stays empty.
      });
    return () => {
      cancelled = true;
    };
  }, [version]);

  // Cold-start measurement: report the first committed render of real data (or the empty state).
  useEffect(() => {
    if (page) reportUiReadyOnce();
  }, [page]);

  // A page past the end (after deletes elsewhere): go back to the first page.
  useEffect(() => {
    if (page && page.contacts.length === 0 && page.total > 0 && filters.page > 0) {
      onFiltersChange({ ...filters, page: 0 });
    }
  }, [page, filters, onFiltersChange]);

  const update = (patch: Partial<ListFilters>) =>
    onFiltersChange({ ...filters, page: 0, ...patch });

  const searching = filters.text.trim() !== "";
  const hasFilters = searching || filters.tag !== null || filters.stage !== null || filters.dnc !== "all";
  const total = page?.total ?? 0;
  const firstIndex = filters.page * PAGE_SIZE;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const tagOptions =
    filters.tag && !tags.some((t) => t.tag === filters.tag)
      ? [...tags, { tag: filters.tag, count: 0 }]
      : tags;

  return (
    <section className="screen" data-testid="contacts-list">
      <header className="screen-header">
        <h1>Contacts</h1>
        {page && (
          <span className="muted" data-testid="contact-total">
            {page.total_capped
              ? `More than ${total} matches, newest first — keep typing to narrow the search`
              : `${total} ${total === 1 ? "contact" : "contacts"}`}
          </span>
        )}
        <div className="spacer" />
        {page && total > 0 && (
          <button type="button" className="btn" data-testid="export-button" onClick={onExport}>
            Export CSV
          </button>
        )}
        <button type="button" className="btn btn-primary" data-testid="new-contact-button" onClick={onNew}>
          New contact
        </button>
      </header>

      <div className="toolbar">
        <input
          type="search"
          className="input search"
          placeholder="Search name, company, number, e-mail, tag…"
          aria-label="Search contacts"
          data-testid="contact-search"
          value={filters.text}
          onChange={(e) => update({ text: e.target.value })}
        />
        <select
          className="input"
          aria-label="Tag"
          data-testid="filter-tag"
          value={filters.tag ?? ""}
          onChange={(e) => update({ tag: e.target.value || null })}
        >
          <option value="">All tags</option>
          {tagOptions.map((t) => (
            <option key={t.tag} value={t.tag}>
              {t.tag} ({t.count})
            </option>
          ))}
        </select>
        <select
          className="input"
          aria-label="Deal stage"
          data-testid="filter-stage"
          value={filters.stage ?? ""}
          onChange={(e) => update({ stage: (e.target.value || null) as DealStage | null })}
        >
          <option value="">All stages</option>
          {DEAL_STAGES.map((s) => (
            <option key={s} value={s}>
              {stageLabel(s)}
            </option>
          ))}
        </select>
        <select
          className="input"
          aria-label="Do not call"
          data-testid="filter-dnc"
          value={filters.dnc}
          onChange={(e) => update({ dnc: e.target.value as DncFilter })}
        >
          <option value="all">All contacts</option>
          <option value="callable">Callable</option>
          <option value="dnc">Do not call</option>
        </select>
        <select
          className="input"
          aria-label="Sort"
          data-testid="sort"
          value={effectiveSort(filters.sort, searching)}
          onChange={(e) => update({ sort: e.target.value as ContactSort })}
        >
          {SORTS.filter((s) => searching || s.value !== "relevance").map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </select>
      </div>

      {error && (
        <p className="error-banner" role="alert">
          {error}
        </p>
      )}

      {page && total === 0 && !hasFilters && (
        <div className="empty-state" data-testid="contacts-empty">
          <h2>No contacts yet</h2>
          <p className="muted">Import a spreadsheet of leads, or add someone by hand.</p>
          <div className="button-row center">
            <button type="button" className="btn btn-primary" data-testid="empty-import-button" onClick={onImport}>
              Import CSV
            </button>
            <button type="button" className="btn" data-testid="empty-new-contact-button" onClick={onNew}>
              New contact
            </button>
          </div>
        </div>
      )}

      {page && total === 0 && hasFilters && (
        <div className="empty-state" data-testid="contacts-no-match">
          <p className="muted">No contacts match these filters.</p>
        </div>
      )}

      {page && page.contacts.length > 0 && (
        <div className="table-wrap">
          <ContactsTable contacts={page.contacts} onOpen={onOpen} />
        </div>
      )}

      {page && total > PAGE_SIZE && (
        <footer className="pager">
          <span className="muted">
            {firstIndex + 1}–{Math.min(firstIndex + PAGE_SIZE, total)} of {total} · page {filters.page + 1} of{" "}
            {pages}
          </span>
          {filters.page > 0 && (
            <button
              type="button"
              className="btn"
              data-testid="page-prev"
              onClick={() => onFiltersChange({ ...filters, page: filters.page - 1 })}
            >
              Prev
            </button>
          )}
          {filters.page + 1 < pages && (
            <button
              type="button"
              className="btn"
              data-testid="page-next"
              onClick={() => onFiltersChange({ ...filters, page: filters.page + 1 })}
            >
              Next
            </button>
          )}
        </footer>
      )}
    </section>
  );
}
