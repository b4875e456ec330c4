// One call: header, scorecard with evidence links, transcript with audio, reviews.
// @ts-check

import { ApiError, addReview, freshAccessToken, getCall, isAbort } from "../api.js";
import {
  channelLabel,
  creditLabel,
  directionLabel,
  formatClock,
  formatDateTime,
  formatDuration,
  formatScore,
  humanize,
  percentOf,
  scoreBand,
} from "../format.js";
import { emptyState, errorBox, h, loading, pageTitle, replace } from "../dom.js";

/** @typedef {import("../api.js").CallDetail} CallDetail */

/**
 * @param {HTMLElement} root
 * @param {import("../dom.js").ViewContext} ctx
 */
export async function render(root, ctx) {
  const callId = ctx.params[0];
  document.title = "Call — Cuecard";
  const body = h("div", { class: "stack" }, loading("Loading the call…"));
  root.append(h("p", { class: "breadcrumb" }, h("a", { href: "#/calls" }, "← Calls")), body);

  const load = async () => {
    replace(body, loading("Loading the call…"));
    try {
      const data = await getCall(callId, ctx.signal);
      const who = data.call.contact_name || (data.call.direction === "inbound" ? data.call.from : data.call.to);
      document.title = `Call with ${who} — Cuecard`;
      const transcript = transcriptView(data);
      const audio = await audioView(data, transcript, ctx.signal);
      if (ctx.signal.aborted) return;
      replace(
        body,
        header(data, who),
        h(
          "div",
          { class: "call-layout" },
          h("div", { class: "stack" }, scorecardView(data, transcript.list), reviewsView(data, callId)),
          h(
            "section",
            { class: "card transcript-card", "aria-labelledby": "transcript-title" },
            h("h2", { id: "transcript-title" }, "Transcript"),
            audio,
            transcript.list,
          ),
        ),
      );
    } catch (err) {
      if (!isAbort(err)) replace(body, errorBox(err, load));
    }
  };
  await load();
}

/**
 * @param {CallDetail} data
 * @param {string} who
 */
function header(data, who) {
  const c = data.call;
  /** @type {[string, string][]} */
  const facts = [
    ["Rep", c.rep.name],
    ["From", c.from],
    ["To", c.to],
    ["Started", formatDateTime(c.started_at)],
    ["Answered", formatDateTime(c.answered_at)],
    ["Ended", formatDateTime(c.ended_at)],
    ["Duration", formatDuration(c.duration_secs)],
  ];
  return h(
    "header",
    { class: "call-header card" },
    h(
      "div",
      { class: "call-title" },
      pageTitle(`Call with ${who}`),
      h(
        "p",
        { class: "tags" },
        h("span", { class: "tag" }, directionLabel(c.direction)),
        h("span", { class: "tag" }, humanize(c.status)),
        h("span", { class: c.reviewed ? "tag good" : "tag", id: "reviewed-tag" }, c.reviewed ? "Reviewed" : "Not reviewed"),
      ),
    ),
    h("dl", { class: "facts" }, facts.map(([k, v]) => h("div", null, h("dt", null, k), h("dd", null, v)))),
    c.notes ? h("div", { class: "notes" }, h("h2", { class: "small-heading" }, "Rep's notes"), h("p", { class: "prewrap" }, c.notes)) : null,
  );
}

/**
 * The scorecard: total, category bars, and each check with its explanation and a link
 * to the transcript lines it rests on.
 * @param {CallDetail} data
 * @param {HTMLElement} transcriptList
 */
function scorecardView(data, transcriptList) {
  const sc = data.scorecard;
  const section = h("section", { class: "card", testid: "call-scorecard", "aria-labelledby": "scorecard-title" });
  if (!sc) {
    section.append(h("h2", { id: "scorecard-title" }, "Scorecard"), emptyState("This call has not been scored yet."));
    return section;
  }
  const catLabel = new Map(sc.categories.map((c) => [c.key, c.label]));
  const order = [...sc.categories.map((c) => c.key), ...sc.checks.map((c) => c.category)];
  const checks = [...sc.checks].sort((a, b) => order.indexOf(a.category) - order.indexOf(b.category));

  section.append(
    h(
      "div",
      { class: "scorecard-head" },
      h("h2", { id: "scorecard-title" }, "Scorecard"),
      h(
        "p",
        { class: "total" },
        h("span", { class: `total-value band-${scoreBand(sc.total)}`, testid: "call-total" }, formatScore(sc.total)),
        h("span", { class: "muted" }, " / 100"),
      ),
    ),
    h("p", { class: "muted small" }, `Rubric ${sc.rubric_version}`, sc.status !== "final" ? ` · ${humanize(sc.status)}` : ""),
    h(
      "ul",
      { class: "categories", "aria-label": "Categories" },
      sc.categories.map((c) => {
        const pct = percentOf(c.score, c.max);
        const fill = h("span", { class: `meter-fill band-${scoreBand(pct)}` });
        fill.style.width = `${pct}%`;
        return h(
          "li",
          { class: "category" },
          h("span", { class: "category-label" }, c.label),
          h("span", { class: "meter wide", role: "img", "aria-label": `${Math.round(pct)}%` }, fill),
          h("span", { class: "num", title: `${formatScore(c.score)} of ${formatScore(c.max)} points` }, `${Math.round(pct)}%`),
        );
      }),
    ),
    h("h3", null, "Checks"),
    checks.length === 0
      ? emptyState("No checks recorded.")
      : h(
          "ul",
          { class: "checks" },
          checks.map((check) => {
            const state = check.credit >= 1 ? "met" : check.credit <= 0 ? "missed" : "partial";
            const icon = state === "met" ? "✓" : state === "missed" ? "✗" : "◐";
            return h(
              "li",
              { class: `check ${state}` },
              h("span", { class: "check-icon", "aria-hidden": "true" }, icon),
              h(
                "div",
                null,
                h(
                  "p",
                  { class: "check-title" },
                  h("strong", null, check.label || humanize(check.check_id)),
                  h("span", { class: "muted small" }, ` · ${catLabel.get(check.category) ?? humanize(check.category)} · ${creditLabel(check.credit)}`),
                ),
                h("p", { class: "check-explanation" }, check.explanation),
                evidenceButton(check.evidence, transcriptList),
              ),
            );
          }),
        ),
  );
  return section;
}

/**
 * "Show in transcript": scrolls to and highlights the lines a check rests on.
 * @param {string[]} evidence Utterance ids.
 * @param {HTMLElement} transcriptList
 */
function evidenceButton(evidence, transcriptList) {
  if (evidence.length === 0) return null;
  const lines = evidence.length === 1 ? "1 line" : `${evidence.length} lines`;
  return h(
    "button",
    {
      type: "button",
      class: "link-button evidence-button",
      onclick: () => {
        for (const el of transcriptList.querySelectorAll(".evidence")) el.classList.remove("evidence");
        const found = evidence
          .map((id) => transcriptList.querySelector(`[data-utterance-id="${CSS.escape(id)}"]`))
          .filter((el) => el instanceof HTMLElement);
        for (const el of found) el.classList.add("evidence");
        const first = found[0];
        if (first) {
          scrollToLine(transcriptList, first);
          first.focus({ preventScroll: true });
        }
      },
    },
    `Show evidence (${lines})`,
  );
}

/**
 * Brings a transcript line into view: inside the transcript's own scroll area when it
 * has one (wide screens), so the scorecard stays where it is; else on the page.
 * @param {HTMLElement} list
 * @param {HTMLElement} line
 */
function scrollToLine(list, line) {
  const behavior = matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth";
  if (list.scrollHeight > list.clientHeight + 1) {
    list.closest(".card")?.scrollIntoView({ block: "nearest", behavior });
    list.scrollTo({ top: line.offsetTop - (list.clientHeight - line.offsetHeight) / 2, behavior });
  } else {
    line.scrollIntoView({ block: "center", behavior });
  }
}

/**
 * The transcript as a two-sided chat; `seek` is wired up once the audio exists.
 * @param {CallDetail} data
 */
function transcriptView(data) {
  /** @type {{seek: ((ms: number) => void) | null, list: HTMLElement}} */
  const view = { seek: null, list: h("ol", { class: "transcript", testid: "transcript", "aria-label": "Transcript" }) };
  if (data.transcript.length === 0) {
    view.list.append(h("li", { class: "muted" }, "No transcript for this call."));
    return view;
  }
  const hasAudio = data.recording?.status === "available";
  for (const u of data.transcript) {
    const side = u.channel === "mic" ? "rep" : "contact";
    const who = u.speaker || channelLabel(u.channel);
    const time = formatClock(u.start_ms);
    const line = h(
      "li",
      {
        class: `line ${side}`,
        testid: "transcript-line",
        tabindex: "-1",
        "data-utterance-id": u.id,
        "data-start-ms": u.start_ms,
        "data-end-ms": u.end_ms,
        onclick: () => view.seek?.(u.start_ms),
      },
      h(
        "div",
        { class: "bubble" },
        h(
          "p",
          { class: "line-meta" },
          h("span", { class: "speaker" }, who),
          " ",
          hasAudio
            ? h("button", { type: "button", class: "time link-button", "aria-label": `Play from ${time}`, title: "Play from here" }, time)
            : h("span", { class: "time" }, time),
        ),
        h("p", { class: "line-text" }, u.text),
      ),
    );
    view.list.append(line);
  }
  return view;
}

/**
 * The recording player, or a note saying why there is none. Clicking a transcript line
 * seeks to it; the line being spoken is marked while playing.
 * @param {CallDetail} data
 * @param {{seek: ((ms: number) => void) | null, list: HTMLElement}} transcript
 * @param {AbortSignal} signal Navigation away stops the player.
 */
async function audioView(data, transcript, signal) {
  const rec = data.recording;
  if (!rec || rec.status !== "available") {
    const text = !rec ? "No recording for this call." : rec.status === "pending" ? "Recording pending upload." : "Recording not uploaded.";
    transcript.list.classList.add("no-audio");
    return h("p", { class: "recording-note muted", testid: "recording-note" }, text);
  }
  const withToken = (/** @type {string | null} */ token) => `${rec.url}${rec.url.includes("?") ? "&" : "?"}access_token=${encodeURIComponent(token ?? "")}`;
  const audio = h("audio", { controls: true, preload: "metadata", testid: "audio-player", "aria-label": "Call recording" });
  audio.src = withToken(await freshAccessToken());
  // A detached <audio> keeps playing: stop it when the user leaves the page.
  signal.addEventListener("abort", () => {
    audio.pause();
    audio.removeAttribute("src");
    audio.load();
  });

  const problem = h("p", { class: "form-error", role: "alert", hidden: true }, "The recording could not be loaded.");
  // The token in the URL expires: on a load error get a new one and resume, once.
  let retried = false;
  audio.addEventListener("error", async () => {
    if (signal.aborted) return;
    if (retried) {
      problem.hidden = false;
      return;
    }
    retried = true;
    const at = audio.currentTime;
    audio.src = withToken(await freshAccessToken(true));
    audio.currentTime = at;
  });
  audio.addEventListener("loadeddata", () => {
    retried = false;
    problem.hidden = true;
  });

  const lines = /** @type {HTMLElement[]} */ ([...transcript.list.querySelectorAll("[data-start-ms]")]);
  /** @type {HTMLElement | null} */
  let playing = null;
  audio.addEventListener("timeupdate", () => {
    const ms = audio.currentTime * 1000;
    const now = lines.find((el) => Number(el.dataset.startMs) <= ms && ms < Number(el.dataset.endMs)) ?? null;
    if (now === playing) return;
    playing?.classList.remove("playing");
    now?.classList.add("playing");
    playing = now;
  });
  transcript.seek = (ms) => {
    audio.currentTime = ms / 1000;
    audio.play().catch(() => {
      // Autoplay refused or no source yet: the position is set; the user presses play.
    });
  };
  return h("div", { class: "player" }, audio, problem);
}

/**
 * The reviews so far and a form to add one.
 * @param {CallDetail} data
 * @param {string} callId
 */
function reviewsView(data, callId) {
  const list = h("ul", { class: "reviews", testid: "reviews", "aria-label": "Reviews" });
  const placeholder = h("li", { class: "muted" }, "No reviews yet.");
  if (data.reviews.length === 0) list.append(placeholder);
  for (const r of data.reviews) list.append(reviewItem(r));

  const textarea = h("textarea", { id: "review-body", name: "body", rows: 3, required: true, testid: "review-body", placeholder: "What went well, what to try next time" });
  const submit = h("button", { type: "submit", class: "primary", testid: "review-submit" }, "Add review");
  const status = h("div", { class: "form-status" });

  /** @param {SubmitEvent} ev */
  const onSubmit = async (ev) => {
    ev.preventDefault();
    const text = textarea.value.trim();
    if (!text) {
      replace(status, h("p", { class: "form-error", role: "alert" }, "Write the review first."));
      textarea.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "Adding…";
    status.replaceChildren();
    try {
      const review = await addReview(callId, text);
      placeholder.remove();
      list.append(reviewItem(review));
      textarea.value = "";
      replace(status, h("p", { class: "form-ok", role: "status" }, "Review added. It will sync to the rep's app."));
      const tag = document.getElementById("reviewed-tag");
      if (tag) {
        tag.textContent = "Reviewed";
        tag.className = "tag good";
      }
    } catch (err) {
      const message = err instanceof ApiError ? err.message : "Could not add the review. Please try again.";
      replace(status, h("p", { class: "form-error", role: "alert" }, message));
    } finally {
      submit.disabled = false;
      submit.textContent = "Add review";
    }
  };

  return h(
    "section",
    { class: "card", "aria-labelledby": "reviews-title" },
    h("h2", { id: "reviews-title" }, "Reviews"),
    list,
    h(
      "form",
      { class: "stack review-form", onsubmit: onSubmit },
      h("div", { class: "field" }, h("label", { for: "review-body" }, "Add review"), textarea),
      status,
      h("div", null, submit),
    ),
  );
}

/** @param {import("../api.js").Review} r */
function reviewItem(r) {
  return h(
    "li",
    { class: "review", testid: "review" },
    h("p", { class: "review-meta" }, h("strong", null, r.author.name), h("span", { class: "muted small" }, ` · ${formatDateTime(r.created_at)}`)),
    h("p", { class: "prewrap" }, r.body),
  );
}
