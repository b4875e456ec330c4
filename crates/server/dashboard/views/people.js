// People: invite someone (the code to paste into the app's Settings → Sync is shown once),
// the invitations still pending with a way to revoke them, the teams and who is in them,
// and for admins whether call recordings leave reps' computers.
// @ts-check

import {
  ApiError,
  getOrgSettings,
  getSession,
  invite,
  isAbort,
  listInvitations,
  listTeams,
  revokeInvitation,
  setRecordingPolicy,
} from "../api.js";
import { formatDate } from "../format.js";
import { emptyState, errorBox, h, loading, pageTitle, replace } from "../dom.js";

/** @type {Record<string, string>} */
const ROLE_LABEL = { rep: "Rep", manager: "Manager", admin: "Admin" };

/**
 * @param {HTMLElement} root
 * @param {import("../dom.js").ViewContext} ctx
 */
export async function render(root, ctx) {
  document.title = "People — Cuecard";
  const session = getSession();
  const isAdmin = session?.user.role === "admin";
  const body = h("div", { class: "stack" }, loading("Loading people…"));
  root.append(h("header", { class: "page-header" }, h("div", null, pageTitle("People"))), body);

  const load = async () => {
    replace(body, loading("Loading people…"));
    try {
      const [teams, pending, settings] = await Promise.all([
        listTeams(ctx.signal),
        listInvitations(ctx.signal),
        isAdmin ? getOrgSettings(ctx.signal) : Promise.resolve(null),
      ]);
      // Managers invite into teams they manage; admins into any team, or none.
      const myId = session?.user.id;
      const invitable = isAdmin ? teams : teams.filter((t) => t.members.some((m) => m.user_id === myId && m.manages));
      replace(
        body,
        inviteCard(invitable, isAdmin, load),
        pendingCard(pending, teams, load),
        teamsCard(teams),
        settings ? policyCard(settings.recording_policy) : null,
      );
    } catch (err) {
      if (!isAbort(err)) replace(body, errorBox(err, load));
    }
  };
  await load();
}

/**
 * @param {import("../api.js").Team[]} teams
 * @param {boolean} isAdmin
 * @param {() => Promise<void>} reload
 */
function inviteCard(teams, isAdmin, reload) {
  const email = h("input", { id: "invite-email", type: "email", required: true, autocomplete: "off", testid: "invite-email" });
  const role = h(
    "select",
    { id: "invite-role", testid: "invite-role" },
    ...(isAdmin ? ["rep", "manager", "admin"] : ["rep"]).map((r) => h("option", { value: r }, ROLE_LABEL[r])),
  );
  const team = h(
    "select",
    { id: "invite-team", testid: "invite-team", required: !isAdmin },
    isAdmin ? h("option", { value: "" }, "No team") : null,
    ...teams.map((t) => h("option", { value: t.id }, t.name)),
  );
  const submit = h("button", { type: "submit", class: "primary", testid: "invite-submit" }, "Create invitation");
  const result = h("div", { "aria-live": "polite" });

  /** @param {SubmitEvent} ev */
  const onSubmit = async (ev) => {
    ev.preventDefault();
    result.replaceChildren();
    submit.disabled = true;
    try {
      const made = await invite({
        email: email.value.trim(),
        role: /** @type {import("../api.js").Role} */ (role.value),
        team_id: team.value || null,
      });
      email.value = "";
      await reload();
      // The reload redrew this card; show the code in the new one.
      const slot = document.querySelector("[data-testid=invite-result]");
      slot?.replaceChildren(...codeBlock(made));
    } catch (err) {
      const message = err instanceof ApiError ? err.message : "Could not create the invitation.";
      result.replaceChildren(h("p", { class: "form-error", role: "alert", testid: "invite-error" }, message));
      submit.disabled = false;
    }
  };

  if (!isAdmin && teams.length === 0) {
    return h("section", { class: "card" }, h("h2", null, "Invite someone"), emptyState("You manage no team yet: an admin can make you a team's manager."));
  }
  return h(
    "section",
    { class: "card" },
    h("h2", null, "Invite someone"),
    h(
      "form",
      { class: "invite-form", onsubmit: onSubmit },
      h("div", { class: "field" }, h("label", { for: "invite-email" }, "Email"), email),
      h("div", { class: "field" }, h("label", { for: "invite-role" }, "Role"), role),
      h("div", { class: "field" }, h("label", { for: "invite-team" }, "Team"), team),
      submit,
    ),
    h("div", { testid: "invite-result", "aria-live": "polite" }),
    result,
  );
}

/**
 * What to send the invited person: the code, once.
 * @param {import("../api.js").NewInvitation} made
 */
function codeBlock(made) {
  return [
    h("p", { class: "ok-note" }, `Invitation for ${made.email} (${ROLE_LABEL[made.role] ?? made.role}), valid until ${formatDate(made.expires_at)}. Send them this code; it is shown only now and works once:`),
    h("pre", { class: "invite-code", testid: "invite-code" }, made.token),
    h("p", { class: "muted" }, `In the Cuecard app: Settings → Sync → Join with an invitation, server ${location.origin}.`),
  ];
}

/**
 * @param {import("../api.js").PendingInvitation[]} pending
 * @param {import("../api.js").Team[]} teams
 * @param {() => Promise<void>} reload
 */
function pendingCard(pending, teams, reload) {
  const teamName = new Map(teams.map((t) => [t.id, t.name]));
  const error = h("div");
  if (pending.length === 0) {
    return h("section", { class: "card", testid: "pending" }, h("h2", null, "Pending invitations"), emptyState("No invitation is waiting."));
  }
  /** @param {import("../api.js").PendingInvitation} inv */
  const row = (inv) => {
    const revoke = h("button", { type: "button", class: "secondary", testid: "invite-revoke" }, "Revoke");
    revoke.addEventListener("click", async () => {
      revoke.disabled = true;
      try {
        await revokeInvitation(inv.id);
        await reload();
      } catch (err) {
        error.replaceChildren(errorBox(err));
        revoke.disabled = false;
      }
    });
    return h(
      "tr",
      { testid: "pending-row" },
      h("th", { scope: "row" }, inv.email),
      h("td", null, ROLE_LABEL[inv.role] ?? inv.role),
      h("td", null, inv.team_id ? (teamName.get(inv.team_id) ?? "—") : "—"),
      h("td", null, inv.created_by ?? "—"),
      h("td", null, formatDate(inv.expires_at)),
      h("td", { class: "num" }, revoke),
    );
  };
  return h(
    "section",
    { class: "card table-card", testid: "pending" },
    h("h2", null, "Pending invitations"),
    h(
      "table",
      { class: "table" },
      h(
        "thead",
        null,
        h("tr", null, ...["Email", "Role", "Team", "Invited by", "Expires"].map((t) => h("th", { scope: "col" }, t)), h("th", null, h("span", { class: "visually-hidden" }, "Actions"))),
      ),
      h("tbody", null, ...pending.map(row)),
    ),
    error,
  );
}

/** @param {import("../api.js").Team[]} teams */
function teamsCard(teams) {
  if (teams.length === 0) return h("section", { class: "card" }, h("h2", null, "Teams"), emptyState("No teams yet."));
  return h(
    "section",
    { class: "card", testid: "teams" },
    h("h2", null, "Teams"),
    ...teams.map((t) =>
      h(
        "div",
        { class: "team-block" },
        h("h3", null, t.name),
        h(
          "ul",
          { class: "plain" },
          ...t.members.map((m) => h("li", null, `${m.name} · ${m.email}`, m.manages ? h("span", { class: "muted" }, " · manages") : null)),
        ),
      ),
    ),
  );
}

/** @param {import("../api.js").RecordingPolicy} current */
function policyCard(current) {
  const select = h(
    "select",
    { id: "recording-policy", testid: "recording-policy" },
    h("option", { value: "upload", selected: current === "upload" }, "Uploaded: managers can listen to calls"),
    h("option", { value: "keep_on_device", selected: current === "keep_on_device" }, "Kept on reps' computers"),
  );
  const status = h("p", { class: "muted", "aria-live": "polite", testid: "recording-policy-status" });
  select.addEventListener("change", async () => {
    select.disabled = true;
    status.textContent = "Saving…";
    try {
      const saved = await setRecordingPolicy(/** @type {import("../api.js").RecordingPolicy} */ (select.value));
      status.textContent = saved.recording_policy === "upload" ? "Saved: apps upload new and waiting recordings." : "Saved: recordings stay on reps' computers.";
    } catch (err) {
      status.textContent = err instanceof ApiError ? err.message : "Could not save.";
    } finally {
      select.disabled = false;
    }
  });
  return h(
    "section",
    { class: "card" },
    h("h2", null, "Call recordings"),
    h("div", { class: "field" }, h("label", { for: "recording-policy" }, "Recordings are"), select),
    status,
  );
}
