// Unit tests for query building, error text and the region setting.
import { describe, expect, it } from "vitest";
import { EMPTY_FILTERS, buildQuery, errorMessage, getRegion, setRegion } from "./api";

describe("buildQuery", () => {
  it("sends every field, null where unset", () => {
    expect(buildQuery(EMPTY_FILTERS, "")).toEqual({
      text: null,
      tag: null,
      stage: null,
      do_not_call: null,
      include_deleted: false,
      sort: "name_asc",
      limit: 100,
      offset: 0,
    });
  });
  it("uses relevance while searching and maps the DNC filter", () => {
    const q = buildQuery({ ...EMPTY_FILTERS, dnc: "callable", tag: "vip", page: 2 }, " asha ");
    expect(q).toMatchObject({ text: "asha", tag: "vip", do_not_call: false, sort: "relevance", offset: 200 });
    expect(buildQuery({ ...EMPTY_FILTERS, dnc: "dnc", sort: "relevance" }, "").sort).toBe("name_asc");
    expect(buildQuery({ ...EMPTY_FILTERS, dnc: "dnc" }, "").do_not_call).toBe(true);
  });
});

describe("errorMessage", () => {
  it("reads CommandError messages and falls back to String()", () => {
    expect(errorMessage({ kind: "invalid", message: "bad phone" })).toBe("bad phone");
    expect(errorMessage("plain")).toBe("plain");
    expect(errorMessage(42)).toBe("42");
  });
});

describe("region setting", () => {
  it("defaults to IN and remembers a choice", () => {
    expect(getRegion()).toBe("IN");
    setRegion("US");
    expect(getRegion()).toBe("US");
    expect(window.localStorage.getItem("cuecard.region")).toBe("US");
  });
});
