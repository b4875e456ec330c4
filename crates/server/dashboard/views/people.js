// People: invite someone (the code to paste into the app's Settings → Sync is shown once),
// the invitations still pending with a way to revoke them, the teams and who is in them,
// and for admins: new teams, moving people between teams and who manages them, everyone
// in the organisation with a way to deactivate them, and whether call recordings leave
// reps' computers.
// @ts-check

import {
  ApiError,
  createTeam,
  deactivateUser,
  getOrgSettings,
  getSession,
  invite,
  isAbort,
  listInvitations,
  listTeams,
  listUsers,
  reactivateUser,
  removeMember,
  revokeInvitation,
  setMembership,
  setRecordingPolicy,
} from "../api.js";
import { formatDate } from "../format.js";
import { emptyState, errorBox, h, loading, pageTitle, replace } from "../dom.js";

/**
 * A table's head: a column per label, then an unlabelled one (for screen readers,
 * "Actions") for the row's buttons.
 * @param {string[]} labels
 */
function headWithActions(labels) {
  return h(
    "thead",
    null,
    h("tr", null, ...labels.map((t) => h("th", { scope: "col" }, t)), h("th", null, h("span", { class: "visually-hidden" }, "Actions"))),
  );
}

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
      const [teams, pending, settings, users] = await Promise.all([
        listTeams(ctx.signal),
        listInvitations(ctx.signal),
        isAdmin ? getOrgSettings(ctx.signal) : Promise.resolve(null),
        isAdmin ? listUsers(ctx.signal) : Promise.resolve(null),
      ]);
      // Managers invite into teams they manage; admins into any team, or none.
      const myId = session?.user.id;
      const invitable = isAdmin ? teams : teams.filter((t) => t.members.some((m) => m.user_id === myId && m.manages));
      replace(
        body,
        inviteCard(invitable, isAdmin, load),
        pendingCard(pending, teams, load),
        users ? teamsAdminCard(teams, users, load) : teamsCard(teams),
        users ? everyoneCard(users, myId, load) : null,
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
      headWithActions(["Email", "Role", "Team", "Invited by", "Expires"]),
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

/**
 * What an admin action failed with, in words.
 * @param {unknown} err
 * @param {string} fallback
 */
function failure(err, fallback) {
  return h("p", { class: "form-error", role: "alert", testid: "people-error" }, err instanceof ApiError ? err.message : fallback);
}

/**
 * Runs `action` with `control` disabled, then reloads the page's data; on failure shows
 * why in `slot` and gives the control back.
 * @param {HTMLButtonElement | HTMLInputElement | HTMLSelectElement} control
 * @param {HTMLElement} slot
 * @param {() => Promise<unknown>} action
 * @param {() => Promise<void>} reload
 * @param {string} fallback
 */
async function act(control, slot, action, reload, fallback) {
  control.disabled = true;
  slot.replaceChildren();
  try {
    await action();
  } catch (err) {
    slot.replaceChildren(failure(err, fallback));
    control.disabled = false;
    return;
  }
  await reload();
}

/**
 * Admins' teams: a new team, and per team its people with whether they manage it, a way
 * to take them out, and a way to add anyone active who is not in it yet.
 * @param {import("../api.js").Team[]} teams
 * @param {import("../api.js").OrgUser[]} users
 * @param {() => Promise<void>} reload
 */
function teamsAdminCard(teams, users, reload) {
  const errors = h("div", { "aria-live": "polite" });
  const name = h("input", { id: "team-name", required: true, maxlength: 200, autocomplete: "off", testid: "team-name" });
  const create = h("button", { type: "submit", class: "primary", testid: "team-create" }, "Create team");
  /** @param {SubmitEvent} ev */
  const onCreate = (ev) => {
    ev.preventDefault();
    void act(create, errors, () => createTeam(name.value.trim()), reload, "Could not create the team.");
  };
  const active = users.filter((u) => u.active);
  const inactive = new Set(users.filter((u) => !u.active).map((u) => u.id));

  /** @param {import("../api.js").Team} team */
  const block = (team) => {
    /** @param {import("../api.js").TeamMember} m */
    const row = (m) => {
      const manages = h("input", {
        type: "checkbox",
        checked: m.manages,
        disabled: m.role === "rep",
        title: m.role === "rep" ? "Reps cannot manage a team" : null,
        "aria-label": `${m.name} manages ${team.name}`,
        testid: "member-manages",
      });
      manages.addEventListener("change", () => {
        void act(manages, errors, () => setMembership(team.id, m.user_id, manages.checked), reload, "Could not change who manages the team.");
      });
      const remove = h("button", { type: "button", class: "secondary", testid: "member-remove" }, "Remove");
      remove.addEventListener("click", () => {
        void act(remove, errors, () => removeMember(team.id, m.user_id), reload, "Could not remove them from the team.");
      });
      return h(
        "tr",
        { testid: "member-row", "data-email": m.email },
        h("th", { scope: "row" }, m.name, inactive.has(m.user_id) ? h("span", { class: "muted" }, " · deactivated") : null),
        h("td", null, m.email),
        h("td", null, ROLE_LABEL[m.role] ?? m.role),
        h("td", null, h("label", { class: "check" }, manages, " Manages")),
        h("td", { class: "num" }, remove),
      );
    };
    const inTeam = new Set(team.members.map((m) => m.user_id));
    const candidates = active.filter((u) => !inTeam.has(u.id));
    const pick = h(
      "select",
      { "aria-label": `Add someone to ${team.name}`, testid: "member-pick" },
      ...candidates.map((u) => h("option", { value: u.id }, `${u.name} (${ROLE_LABEL[u.role] ?? u.role})`)),
    );
    const add = h("button", { type: "submit", class: "secondary", testid: "member-add" }, "Add to team");
    /** @param {SubmitEvent} ev */
    const onAdd = (ev) => {
      ev.preventDefault();
      if (!pick.value) return;
      void act(add, errors, () => setMembership(team.id, pick.value, false), reload, "Could not add them to the team.");
    };
    return h(
      "div",
      { class: "team-block", testid: "team", "data-team": team.name },
      h("h3", null, team.name, h("span", { class: "muted" }, ` · ${team.members.length} ${team.members.length === 1 ? "person" : "people"}`)),
      team.members.length
        ? h(
            "table",
            { class: "table compact" },
            headWithActions(["Name", "Email", "Role", "In charge"]),
            h("tbody", null, ...team.members.map(row)),
          )
        : h("p", { class: "muted" }, "Nobody in this team yet."),
      candidates.length ? h("form", { class: "inline-form", onsubmit: onAdd }, pick, add) : null,
    );
  };

  return h(
    "section",
    { class: "card", testid: "teams" },
    h("h2", null, "Teams"),
    h(
      "form",
      { class: "invite-form", onsubmit: onCreate },
      h("div", { class: "field" }, h("label", { for: "team-name" }, "New team"), name),
      create,
    ),
    errors,
    teams.length ? teams.map(block) : emptyState("No teams yet."),
  );
}

/**
 * Admins: everyone in the organisation, with their teams, and a way to deactivate someone
 * (asked twice: it signs them out everywhere at once) or to let them back in.
 * @param {import("../api.js").OrgUser[]} users
 * @param {string | undefined} myId
 * @param {() => Promise<void>} reload
 */
function everyoneCard(users, myId, reload) {
  const errors = h("div", { "aria-live": "polite" });
  /** @param {import("../api.js").OrgUser} u */
  const row = (u) => {
    const actions = h("td", { class: "num" });
    const ask = () => {
      const go = h("button", { type: "button", class: "danger", testid: "user-deactivate-confirm" }, `Deactivate ${u.name}`);
      const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
      go.addEventListener("click", () => {
        void act(go, errors, () => deactivateUser(u.id), reload, "Could not deactivate them.");
      });
      cancel.addEventListener("click", () => replace(actions, start()));
      replace(actions, go, " ", cancel);
      go.focus();
    };
    const start = () => {
      if (!u.active) {
        const back = h("button", { type: "button", class: "secondary", testid: "user-reactivate" }, "Reactivate");
        back.addEventListener("click", () => {
          void act(back, errors, () => reactivateUser(u.id), reload, "Could not reactivate them.");
        });
        return back;
      }
      if (u.id === myId) return null;
      const b = h("button", { type: "button", class: "secondary", testid: "user-deactivate" }, "Deactivate…");
      b.addEventListener("click", ask);
      return b;
    };
    replace(actions, start());
    return h(
      "tr",
      { testid: "user-row", "data-email": u.email, class: u.active ? null : "inactive" },
      h("th", { scope: "row" }, u.name),
      h("td", null, u.email),
      h("td", null, ROLE_LABEL[u.role] ?? u.role),
      h("td", null, u.teams.length ? u.teams.map((t) => (t.manages ? `${t.name} (manages)` : t.name)).join(", ") : h("span", { class: "muted" }, "No team")),
      h("td", { testid: "user-status" }, u.active ? "Active" : "Deactivated"),
      actions,
    );
  };
  return h(
    "section",
    { class: "card table-card", testid: "everyone" },
    h("h2", null, "Everyone"),
    h(
      "table",
      { class: "table" },
      headWithActions(["Name", "Email", "Role", "Teams", "Status"]),
      h("tbody", null, ...users.map(row)),
    ),
    errors,
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
