// Test data builders shared by component tests.
import type { Contact, ImportReport } from "../bindings";

export function contact(overrides: Partial<Contact> = {}): Contact {
  return {
    id: "c1",
    created_at: "2025-01-01T10:00:00Z",
    updated_at: "2025-01-02T10:00:00Z",
    deleted_at: null,
    name: "Asha Rao",
    company: "Acme",
    title: "CTO",
    phones: [{ e164: "+919812345678", label: "mobile" }],
    emails: [{ address: "asha@acme.in", label: null }],
    tags: ["vip"],
    deal_stage: "qualified",
    deal_value: { minor_units: 12000000, currency: "INR" },
    custom_fields: {},
    time_zone: "Asia/Kolkata",
    do_not_call: false,
    do_not_email: false,
    owner: null,
    ...overrides,
  };
}

export function report(overrides: Partial<ImportReport> = {}): ImportReport {
  return {
    file_name: "leads.csv",
    encoding: "UTF-8",
    delimiter: ",",
    headers: ["Name", "Phone", "Notes"],
    mapping: [
      { column: 0, header: "Name", target: { field: "name" } },
      { column: 1, header: "Phone", target: { field: "phone" } },
      { column: 2, header: "Notes", target: { field: "ignore" } },
    ],
    total_rows: 3,
    created: 1,
    merged: 0,
    unchanged: 0,
    failed: 1,
    blank: 1,
    dnc_flagged: 0,
    errors: [{ row: 3, message: "no phone number or e-mail" }],
    notes: [],
    preview: [
      {
        row: 2,
        outcome: { kind: "created", contact_id: "x" },
        fields: {
          name: "Asha Rao",
          company: null,
          title: null,
          phones: [{ e164: "+919812345678", label: null }],
          emails: [],
          tags: [],
          deal_stage: "lead",
          deal_value: null,
          custom_fields: {},
          time_zone: null,
          do_not_call: false,
          do_not_email: false,
          owner: null,
        },
      },
      { row: 3, outcome: { kind: "failed", reason: "no phone number or e-mail" }, fields: null },
      { row: 4, outcome: { kind: "blank" }, fields: null },
    ],
    committed: false,
    elapsed_ms: 4,
    ...overrides,
  };
}
