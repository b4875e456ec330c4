// Unit tests for the pure display helpers.
import { describe, expect, it } from "vitest";
import {
  base64FromBytes,
  currencyDigits,
  displayName,
  formatDuration,
  formatMoney,
  localTimeIn,
  minorToDecimalString,
  parseMoneyToMinor,
  parseTags,
  relativeTime,
} from "./format";

describe("money", () => {
  it("formats minor units with the currency's digits", () => {
    expect(formatMoney(123456, "USD", "en-US")).toBe("$1,234.56");
    expect(formatMoney(1234, "JPY", "en-US")).toBe("¥1,234");
    expect(formatMoney(12000000, "INR", "en-IN")).toBe("₹1,20,000.00");
    expect(formatMoney(5, "EUR", "en-US")).toBe("€0.05");
  });

  it("knows minor-unit digits", () => {
    expect(currencyDigits("USD")).toBe(2);
    expect(currencyDigits("JPY")).toBe(0);
    expect(currencyDigits("BHD")).toBe(3);
  });

  it("falls back for an unknown currency code", () => {
    expect(formatMoney(1050, "??", "en-US")).toBe("10.50 ??");
  });

  it("parses typed amounts into minor units", () => {
    expect(parseMoneyToMinor("1,20,000", "INR")).toBe(12000000);
    expect(parseMoneyToMinor("12000.5", "USD")).toBe(1200050);
    expect(parseMoneyToMinor("$ 99", "USD")).toBe(9900);
    expect(parseMoneyToMinor("0.10", "USD")).toBe(10);
    expect(parseMoneyToMinor(".5", "USD")).toBe(50);
    expect(parseMoneyToMinor("1500", "JPY")).toBe(1500);
    expect(parseMoneyToMinor("15.5", "JPY")).toBeNull();
    expect(parseMoneyToMinor("1.234", "USD")).toBeNull();
    expect(parseMoneyToMinor("abc", "USD")).toBeNull();
    expect(parseMoneyToMinor("", "USD")).toBeNull();
  });

  it("round-trips minor units through the input string", () => {
    expect(minorToDecimalString(1200050, "USD")).toBe("12000.50");
    expect(minorToDecimalString(5, "USD")).toBe("0.05");
    expect(minorToDecimalString(1500, "JPY")).toBe("1500");
    expect(parseMoneyToMinor(minorToDecimalString(987654321, "INR"), "INR")).toBe(987654321);
  });
});

describe("displayName", () => {
  it("prefers the name, then e-mail, then phone", () => {
    expect(displayName({ name: " Asha Rao ", emails: [], phones: [] })).toBe("Asha Rao");
    expect(
      displayName({ name: "", emails: [{ address: "a@b.co", label: null }], phones: [{ e164: "+911", label: null }] }),
    ).toBe("a@b.co");
    expect(displayName({ name: "", emails: [], phones: [{ e164: "+919812345678", label: null }] })).toBe(
      "+919812345678",
    );
    expect(displayName({ name: "", emails: [], phones: [] })).toBe("Unnamed contact");
  });
});

describe("relativeTime", () => {
  const now = new Date("2025-03-10T12:00:00Z");
  it("describes recent times", () => {
    expect(relativeTime("2025-03-10T11:59:50Z", now)).toBe("just now");
    expect(relativeTime("2025-03-10T11:55:00Z", now)).toBe("5 min ago");
    expect(relativeTime("2025-03-10T09:00:00Z", now)).toBe("3 h ago");
    expect(relativeTime("2025-03-09T12:00:00Z", now)).toBe("yesterday");
    expect(relativeTime("2025-03-06T12:00:00Z", now)).toBe("4 days ago");
    expect(relativeTime("2025-03-10T12:10:00Z", now)).toBe("in 10 min");
  });
  it("passes through unparsable input", () => {
    expect(relativeTime("not a date", now)).toBe("not a date");
  });
});

describe("localTimeIn", () => {
  it("shows the time in the zone and rejects unknown zones", () => {
    const t = localTimeIn("Asia/Kolkata", new Date("2025-03-10T12:00:00Z"), "en-GB");
    expect(t).toContain("17:30");
    expect(localTimeIn("Not/AZone")).toBeNull();
  });
});

describe("small helpers", () => {
  it("formats durations", () => {
    expect(formatDuration(0)).toBe("0:00");
    expect(formatDuration(75)).toBe("1:15");
    expect(formatDuration(3725)).toBe("1:02:05");
  });
  it("parses tags", () => {
    expect(parseTags(" hot, vip;Hot ,, cold ")).toEqual(["hot", "vip", "cold"]);
  });
});

/** Decodes base64 independently of the encoder under test. */
const decode = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

describe("base64FromBytes", () => {
  it("encodes known vectors, with padding", () => {
    expect(base64FromBytes(new Uint8Array([]))).toBe("");
    expect(base64FromBytes(new TextEncoder().encode("Man"))).toBe("TWFu");
    expect(base64FromBytes(new TextEncoder().encode("Ma"))).toBe("TWE=");
    expect(base64FromBytes(new TextEncoder().encode("héllo, ₹"))).toBe("aMOpbGxvLCDigrk=");
  });

  it("encodes every byte value from an ArrayBuffer", () => {
    const bytes = new Uint8Array(256).map((_, i) => i);
    const b64 = base64FromBytes(bytes.buffer);
    expect(b64.startsWith("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g")).toBe(true);
    expect(decode(b64)).toEqual(bytes);
  });

  it("handles buffers far larger than one chunk (> 100 kB) without overflowing", () => {
    const bytes = new Uint8Array(300_001);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) & 0xff;
    const b64 = base64FromBytes(bytes);
    expect(b64.length).toBe(Math.ceil(bytes.length / 3) * 4);
    const back = decode(b64);
    expect(back.length).toBe(bytes.length);
    expect(back.every((v, i) => v === bytes[i])).toBe(true);
  });

  it("encodes a subarray view, not its whole backing buffer", () => {
    const backing = new Uint8Array([1, 2, 3, 4, 5, 6]);
    expect(base64FromBytes(backing.subarray(2, 5))).toBe("AwQF");
  });
});
