// The sign-in form: email and password, then on to where the user was going.
// @ts-check

import { ApiError, login } from "../api.js";
import { h, pageTitle } from "../dom.js";

/**
 * @param {HTMLElement} root
 * @param {import("../dom.js").ViewContext} ctx
 */
export async function render(root, ctx) {
  document.title = "Sign in — Cuecard";
  const email = h("input", { id: "login-email", type: "email", name: "email", autocomplete: "username", required: true, testid: "login-email" });
  const password = h("input", {
    id: "login-password",
    type: "password",
    name: "password",
    autocomplete: "current-password",
    required: true,
    testid: "login-password",
  });
  const submit = h("button", { type: "submit", class: "primary", testid: "login-submit" }, "Sign in");
  const errorSlot = h("div");

  /** @param {SubmitEvent} ev */
  const onSubmit = async (ev) => {
    ev.preventDefault();
    errorSlot.replaceChildren();
    submit.disabled = true;
    submit.textContent = "Signing in…";
    try {
      await login(email.value.trim(), password.value);
      const next = ctx.query.get("next");
      ctx.navigate(next && next.startsWith("#/") && !next.startsWith("#/login") ? next : "#/team");
    } catch (err) {
      const message = err instanceof ApiError ? err.message : "Could not sign in. Please try again.";
      errorSlot.replaceChildren(h("p", { class: "form-error", role: "alert", testid: "login-error" }, message));
      submit.disabled = false;
      submit.textContent = "Sign in";
      password.select();
    }
  };

  root.append(
    h(
      "section",
      { class: "login-card card" },
      h("p", { class: "brand-large", "aria-hidden": "true" }, "Cuecard"),
      pageTitle("Sign in to the dashboard"),
      h(
        "form",
        { class: "stack", onsubmit: onSubmit },
        h("div", { class: "field" }, h("label", { for: "login-email" }, "Email"), email),
        h("div", { class: "field" }, h("label", { for: "login-password" }, "Password"), password),
        errorSlot,
        submit,
      ),
    ),
  );
  email.focus();
}
