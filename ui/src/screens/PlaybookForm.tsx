// Settings → Playbook → Form: the team's playbook edited field by field — cue cards
// (objections, battlecards, prompts) and talk-track rules — for managers who would rather
// not write TOML. Saving validates in Rust (a problem names the card or rule and the
// field), moves the playbook's version on and writes the same file the TOML editor shows.
import { useEffect, useState } from "react";
import { commands } from "../bindings";
import type { Card, CardKind, CoachDocument, ObjectionType, Playbook, Rule, Severity, Speaker } from "../bindings";
import { errorMessage } from "../lib/api";

type Selection = { list: "cards" | "rules"; index: number } | null;

const KINDS: CardKind[] = ["objection", "competitor", "discovery", "next_step", "tip"];
const OBJECTIONS: ObjectionType[] = ["price", "timing", "authority", "need", "competitor", "status_quo", "trust"];
const SPEAKERS: Speaker[] = ["prospect", "rep", "any"];
const SEVERITIES: Severity[] = ["info", "warning", "critical"];

/** Lines as typed (blank lines kept while editing; dropped on save). */
const lines = (xs: string[] | undefined) => (xs ?? []).join("\n");
const split = (text: string) => text.split("\n");
const clean = (xs: string[] | undefined) => (xs ?? []).map((x) => x.trim()).filter((x) => x.length > 0);

/** Blank means "not set". */
function optionalNumber(text: string): number | null {
  const t = text.trim();
  if (t === "") return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

function cleaned(p: Playbook): Playbook {
  return {
    ...p,
    cards: (p.cards ?? []).map((c) => ({
      ...c,
      triggers: clean(c.triggers),
      negatives: clean(c.negatives),
      points: clean(c.points),
    })),
    rules: (p.rules ?? []).map((r) => ({ ...r, phrases: clean(r.phrases) })),
  };
}

function freshId(prefix: string, taken: string[]): string {
  let n = 1;
  while (taken.includes(`${prefix}-${n}`)) n += 1;
  return `${prefix}-${n}`;
}

function CardFields({ card, onChange }: { card: Card; onChange: (c: Card) => void }) {
  const set = (patch: Partial<Card>) => onChange({ ...card, ...patch });
  const kind = card.kind ?? "tip";
  return (
    <div className="form-grid" data-testid="card-editor">
      <label className="field">
        <span>Title</span>
        <input className="input" data-testid="card-title" value={card.title} onChange={(e) => set({ title: e.target.value })} />
      </label>
      <label className="field">
        <span>Kind</span>
        <select value={kind} onChange={(e) => set({ kind: e.target.value as CardKind })}>
          {KINDS.map((k) => (
            <option key={k} value={k}>{k.replace("_", " ")}</option>
          ))}
        </select>
      </label>
      {kind === "objection" && (
        <label className="field">
          <span>Objection family</span>
          <select value={card.objection ?? ""} onChange={(e) => set({ objection: (e.target.value || null) as ObjectionType | null })}>
            <option value="">—</option>
            {OBJECTIONS.map((o) => (
              <option key={o} value={o}>{o.replace("_", " ")}</option>
            ))}
          </select>
        </label>
      )}
      {kind === "competitor" && (
        <label className="field">
          <span>Competitor</span>
          <input className="input" value={card.competitor ?? ""} onChange={(e) => set({ competitor: e.target.value || null })} />
        </label>
      )}
      <label className="field">
        <span>Said by</span>
        <select value={card.speaker ?? "prospect"} onChange={(e) => set({ speaker: e.target.value as Speaker })}>
          {SPEAKERS.map((s) => (
            <option key={s} value={s}>{s}</option>
          ))}
        </select>
      </label>
      <label className="field field-wide">
        <span>Trigger phrases, one per line</span>
        <textarea className="input" rows={4} data-testid="card-triggers" value={lines(card.triggers)} onChange={(e) => set({ triggers: split(e.target.value) })} />
      </label>
      <label className="field field-wide">
        <span>Not when the same sentence says, one per line</span>
        <textarea className="input" rows={2} value={lines(card.negatives)} onChange={(e) => set({ negatives: split(e.target.value) })} />
      </label>
      <label className="field field-wide">
        <span>What to say</span>
        <textarea className="input" rows={3} data-testid="card-body" value={card.body} onChange={(e) => set({ body: e.target.value })} />
      </label>
      <label className="field field-wide">
        <span>Talking points, one per line</span>
        <textarea className="input" rows={3} value={lines(card.points)} onChange={(e) => set({ points: split(e.target.value) })} />
      </label>
      <label className="field">
        <span>Priority (0–100)</span>
        <input className="input" type="number" min={0} max={100} value={card.priority ?? 50} onChange={(e) => set({ priority: optionalNumber(e.target.value) ?? 0 })} />
      </label>
      <label className="field">
        <span>Cooldown, seconds (blank: the playbook's)</span>
        <input className="input" type="number" min={0} value={card.cooldown_s ?? ""} onChange={(e) => set({ cooldown_s: optionalNumber(e.target.value) })} />
      </label>
      <label className="field">
        <span>At most per call (blank: no limit)</span>
        <input className="input" type="number" min={1} value={card.max_per_call ?? ""} onChange={(e) => set({ max_per_call: optionalNumber(e.target.value) })} />
      </label>
      <label className="checkbox">
        <input type="checkbox" checked={card.once_per_call ?? false} onChange={(e) => set({ once_per_call: e.target.checked })} />
        Once per call
      </label>
    </div>
  );
}

function RuleFields({ rule, onChange }: { rule: Rule; onChange: (r: Rule) => void }) {
  const set = (patch: Partial<Rule>) => onChange({ ...rule, ...patch });
  return (
    <div className="form-grid" data-testid="rule-editor">
      <label className="field">
        <span>Title</span>
        <input className="input" data-testid="rule-title" value={rule.title} onChange={(e) => set({ title: e.target.value })} />
      </label>
      <label className="field">
        <span>Kind</span>
        <select data-testid="rule-kind" value={rule.kind} onChange={(e) => set({ kind: e.target.value as Rule["kind"] })}>
          <option value="forbidden">forbidden — never say</option>
          <option value="required">required — must say in time</option>
        </select>
      </label>
      <label className="field">
        <span>Severity</span>
        <select value={rule.severity ?? "warning"} onChange={(e) => set({ severity: e.target.value as Severity })}>
          {SEVERITIES.map((s) => (
            <option key={s} value={s}>{s}</option>
          ))}
        </select>
      </label>
      {rule.kind === "required" && (
        <label className="field">
          <span>Within, seconds from the start</span>
          <input className="input" type="number" min={1} value={rule.within_s ?? ""} onChange={(e) => set({ within_s: optionalNumber(e.target.value) })} />
        </label>
      )}
      <label className="field field-wide">
        <span>Phrases, one per line</span>
        <textarea className="input" rows={4} data-testid="rule-phrases" value={lines(rule.phrases)} onChange={(e) => set({ phrases: split(e.target.value) })} />
      </label>
      <label className="field field-wide">
        <span>What the warning tells the rep</span>
        <textarea className="input" rows={2} value={rule.message} onChange={(e) => set({ message: e.target.value })} />
      </label>
    </div>
  );
}

export function PlaybookForm({ onSaved }: { onSaved: (doc: CoachDocument) => void }) {
  const [saved, setSaved] = useState<Playbook | null>(null);
  const [draft, setDraft] = useState<Playbook | null>(null);
  const [selected, setSelected] = useState<Selection>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  useEffect(() => {
    commands
      .coachPlaybook()
      .then((p) => {
        setSaved(p);
        setDraft(p);
        setSelected((p.cards ?? []).length > 0 ? { list: "cards", index: 0 } : null);
      })
      .catch((e: unknown) => setMessage({ ok: false, text: errorMessage(e) }));
  }, []);

  if (!draft) {
    return <p className="muted">{message?.text ?? "Loading…"}</p>;
  }
  const cards = draft.cards ?? [];
  const rules = draft.rules ?? [];
  const dirty = JSON.stringify(saved) !== JSON.stringify(draft);

  function updateCard(index: number, card: Card) {
    setDraft({ ...draft!, cards: cards.map((c, i) => (i === index ? card : c)) });
  }
  function updateRule(index: number, rule: Rule) {
    setDraft({ ...draft!, rules: rules.map((r, i) => (i === index ? rule : r)) });
  }
  function addCard() {
    const id = freshId("card", cards.map((c) => c.id));
    const card: Card = { id, kind: "objection", objection: "price", title: "New card", triggers: [""], speaker: "prospect", priority: 50, body: "" };
    setDraft({ ...draft!, cards: [...cards, card] });
    setSelected({ list: "cards", index: cards.length });
  }
  function addRule() {
    const id = freshId("rule", rules.map((r) => r.id));
    const rule: Rule = { id, kind: "forbidden", title: "New rule", phrases: [""], speaker: "rep", severity: "warning", within_s: null, message: "" };
    setDraft({ ...draft!, rules: [...rules, rule] });
    setSelected({ list: "rules", index: rules.length });
  }
  function remove() {
    if (!selected) return;
    if (selected.list === "cards") setDraft({ ...draft!, cards: cards.filter((_, i) => i !== selected.index) });
    else setDraft({ ...draft!, rules: rules.filter((_, i) => i !== selected.index) });
    setSelected(null);
  }

  async function save() {
    setBusy(true);
    setMessage(null);
    try {
      const doc = await commands.coachPlaybookSave(cleaned(draft!));
      const back = await commands.coachPlaybook();
      setSaved(back);
      setDraft(back);
      setMessage({ ok: true, text: `Saved as version ${back.playbook.version}. New calls use it.` });
      onSaved(doc);
    } catch (e) {
      setMessage({ ok: false, text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  }

  const item =
    selected?.list === "cards" ? cards[selected.index] : selected?.list === "rules" ? rules[selected.index] : undefined;

  return (
    <div className="playbook-form" data-testid="playbook-form">
      <div className="playbook-form-list">
        <h2>Cards</h2>
        <ul className="plain-list">
          {cards.map((c, i) => (
            <li key={`${c.id}-${i}`}>
              <button
                type="button"
                className={`list-button${selected?.list === "cards" && selected.index === i ? " active" : ""}`}
                data-testid="form-card"
                onClick={() => setSelected({ list: "cards", index: i })}
              >
                {c.title || c.id} <span className="muted">· {(c.kind ?? "tip").replace("_", " ")}</span>
              </button>
            </li>
          ))}
        </ul>
        <button type="button" className="btn" data-testid="form-add-card" onClick={addCard}>
          Add card
        </button>
        <h2>Talk-track rules</h2>
        <ul className="plain-list">
          {rules.map((r, i) => (
            <li key={`${r.id}-${i}`}>
              <button
                type="button"
                className={`list-button${selected?.list === "rules" && selected.index === i ? " active" : ""}`}
                data-testid="form-rule"
                onClick={() => setSelected({ list: "rules", index: i })}
              >
                {r.title || r.id} <span className="muted">· {r.kind}</span>
              </button>
            </li>
          ))}
        </ul>
        <button type="button" className="btn" data-testid="form-add-rule" onClick={addRule}>
          Add rule
        </button>
      </div>
      <div className="playbook-form-item">
        {item && selected?.list === "cards" && <CardFields card={item as Card} onChange={(c) => updateCard(selected.index, c)} />}
        {item && selected?.list === "rules" && <RuleFields rule={item as Rule} onChange={(r) => updateRule(selected.index, r)} />}
        {!item && <p className="muted">Choose a card or a rule.</p>}
        {message && (
          <p className={message.ok ? "ok-message" : "problem-message"} role={message.ok ? "status" : "alert"} data-testid="form-message">
            {message.text}
          </p>
        )}
        <div className="button-row">
          <button type="button" className="btn btn-primary" data-testid="form-save" disabled={busy || !dirty} onClick={() => void save()}>
            Save
          </button>
          <button type="button" className="btn" disabled={busy || !dirty} onClick={() => setDraft(saved)}>
            Revert
          </button>
          {item && (
            <button type="button" className="btn btn-danger-outline" data-testid="form-remove" onClick={remove}>
              Remove {selected?.list === "cards" ? "card" : "rule"}
            </button>
          )}
        </div>
        <p className="muted">Saving from the form rewrites the playbook file without hand-written comments.</p>
      </div>
    </div>
  );
}
