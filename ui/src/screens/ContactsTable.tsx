// The contacts table: one clickable row per contact with its key fields.
import type { Contact } from "../bindings";
import { displayName } from "../lib/format";
import { DncBadge, StageBadge, TagChips } from "../components/Badges";

type Props = { contacts: Contact[]; onOpen: (id: string) => void };

export function ContactsTable({ contacts, onOpen }: Props) {
  return (
    <table className="table contacts-table">
      <thead>
        <tr>
          <th>Name</th>
          <th>Company</th>
          <th>Title</th>
          <th>Phone</th>
          <th>E-mail</th>
          <th>Tags</th>
          <th>Stage</th>
          <th aria-label="Do not call" />
        </tr>
      </thead>
      <tbody>
        {contacts.map((c) => (
          <tr
            key={c.id}
            data-testid="contact-row"
            className="clickable"
            tabIndex={0}
            onClick={() => onOpen(c.id)}
            onKeyDown={(e) => {
              if (e.key === "Enter") onOpen(c.id);
            }}
          >
            <td className="cell-name">{displayName(c)}</td>
            <td>{c.company ?? ""}</td>
            <td>{c.title ?? ""}</td>
            <td className="mono">{c.phones[0]?.e164 ?? ""}</td>
            <td>{c.emails[0]?.address ?? ""}</td>
            <td>
              <TagChips tags={c.tags} />
            </td>
            <td>
              <StageBadge stage={c.deal_stage} />
            </td>
            <td>{c.do_not_call && <DncBadge />}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
