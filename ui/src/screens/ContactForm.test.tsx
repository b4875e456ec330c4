// Component tests for the contact form: phone normalisation on blur and saving.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { ContactForm } from "./ContactForm";
import { commands } from "../bindings";
import { contact } from "../test/fixtures";

vi.mock("../bindings", () => ({
  commands: {
    checkPhone: vi.fn(),
    createContact: vi.fn(),
    updateContact: vi.fn(),
  },
}));

const checkPhone = vi.mocked(commands.checkPhone);
const create = vi.mocked(commands.createContact);

describe("ContactForm", () => {
  beforeEach(() => {
    checkPhone.mockReset();
    create.mockReset();
  });

  it("normalises a phone on blur, fills the time zone and creates the contact", async () => {
    checkPhone.mockResolvedValue({ e164: "+919812345678", time_zone: "Asia/Kolkata" });
    create.mockResolvedValue(contact());
    const onSaved = vi.fn();
    render(<ContactForm contact={null} onSaved={onSaved} onCancel={() => {}} />);

    fireEvent.change(screen.getByTestId("form-name"), { target: { value: "Asha Rao" } });
    const phone = screen.getByTestId("form-phone") as HTMLInputElement;
    fireEvent.change(phone, { target: { value: "98123 45678" } });
    fireEvent.blur(phone);
    await waitFor(() => expect(phone.value).toBe("+919812345678"));
    expect(checkPhone).toHaveBeenCalledWith("98123 45678", "IN");
    expect((screen.getByTestId("form-time-zone") as HTMLInputElement).value).toBe("Asia/Kolkata");

    fireEvent.change(screen.getByTestId("form-deal-value"), { target: { value: "1,20,000" } });
    fireEvent.change(screen.getByTestId("form-tags"), { target: { value: "vip, hot" } });
    fireEvent.click(screen.getByTestId("save-contact-button"));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(create.mock.calls[0][0]).toMatchObject({
      name: "Asha Rao",
      phones: [{ e164: "+919812345678", label: null }],
      emails: [],
      tags: ["vip", "hot"],
      deal_value: { minor_units: 12000000, currency: "INR" },
      time_zone: "Asia/Kolkata",
      company: null,
    });
  });

  it("shows phone and save errors inline", async () => {
    checkPhone.mockRejectedValue({ kind: "invalid", message: "not a phone number" });
    create.mockRejectedValue({ kind: "invalid", message: "name too long" });
    render(<ContactForm contact={null} onSaved={() => {}} onCancel={() => {}} />);
    const phone = screen.getByTestId("form-phone");
    fireEvent.change(phone, { target: { value: "12" } });
    fireEvent.blur(phone);
    expect((await screen.findByTestId("phone-error")).textContent).toBe("not a phone number");

    fireEvent.change(phone, { target: { value: "" } });
    fireEvent.change(screen.getByTestId("form-name"), { target: { value: "X" } });
    fireEvent.click(screen.getByTestId("save-contact-button"));
    expect((await screen.findByTestId("form-error")).textContent).toBe("name too long");
  });
});
