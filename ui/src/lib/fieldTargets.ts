// The import wizard's column targets: FieldTarget values <-> select option keys and labels.
import type { FieldTarget } from "../bindings";

export type TargetKey = FieldTarget["field"];

export const TARGET_OPTIONS: { key: TargetKey; label: string }[] = [
  { key: "name", label: "Name" },
  { key: "first_name", label: "First name" },
  { key: "last_name", label: "Last name" },
  { key: "company", label: "Company" },
  { key: "title", label: "Title" },
  { key: "phone", label: "Phone" },
  { key: "email", label: "Email" },
  { key: "tags", label: "Tags" },
  { key: "deal_stage", label: "Deal stage" },
  { key: "deal_value", label: "Deal value" },
  { key: "currency", label: "Currency" },
  { key: "time_zone", label: "Time zone" },
  { key: "owner", label: "Owner" },
  { key: "do_not_call", label: "Do not call" },
  { key: "do_not_email", label: "Do not email" },
  { key: "custom", label: "Custom field (key = header)" },
  { key: "ignore", label: "Ignore" },
];

/** The FieldTarget for a select key; custom fields are keyed by the column header. */
export function targetFromKey(key: TargetKey, header: string): FieldTarget {
  if (key === "custom") return { field: "custom", key: header.trim() || "custom" };
  return { field: key } as FieldTarget;
}
