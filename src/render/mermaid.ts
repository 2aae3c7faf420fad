// --format mermaid: each session's ladder as a Mermaid sequence diagram, for Markdown that renders Mermaid.
import type { FtpSession } from '../model/ftp-model.js';
import type { ViewContext } from './context.js';
import { type Arrow, type Drawer, type LadderWords, type LadderRow, arrowPort, plainLabel, sessionsText } from './ladder.js';
import { hostPort } from './context.js';
import { sanitize } from './text.js';

/** Arrows drawn at a time: a long session is written in pieces. */
const ARROWS_AT_ONCE = 4096;

/**
 * Every session as a fenced ```mermaid block holding a `sequenceDiagram`: GitHub, GitLab and most Markdown
 * tools render it, and mermaid-cli renders a Markdown file's blocks. The steps are the ladder's (the same
 * rows, labels and data connection captions); control connection arrows are solid, data connection arrows
 * dotted, a RST ends in a cross; each message names its frame and the ports at its ends.
 */
export function* mermaidText(ctx: ViewContext): Generator<string> {
  yield* sessionsText(ctx, drawMermaid);
}

const drawMermaid: Drawer = function* (_ctx: ViewContext, words: LadderWords, s: FtpSession, rows: LadderRow[], notes: string[]) {
  const client = sanitize(hostPort(s.client.address, s.client.port));
  const server = sanitize(hostPort(s.server.address, s.server.port));
  const title = words.session(s.id) + words.colon + words.ends(client, server) + (s.user === null ? '' : words.comma + words.user(sanitize(s.user)));
  let out = [
    '```mermaid',
    'sequenceDiagram',
    `    title ${escapeMermaid(title)}`,
    `    participant C as ${escapeMermaid(`${words.client} ${sanitize(s.client.address)}`)}`,
    `    participant S as ${escapeMermaid(`${words.server} ${sanitize(s.server.address)}`)}`,
  ];
  for (const n of notes) out.push(`    Note over C,S: ${escapeMermaid(n)}`);
  let arrows = 0;
  for (const r of rows) {
    if (r.type === 'caption') {
      // The ladder's caption without its ┄┄ mark: the dotted arrows say which are data connections.
      const text = r.text.replace(/^[┄─]+\s*/, '');
      out.push(`    Note over C,S: ${escapeMermaid(r.route === null ? text : text + words.colon + r.route)}`);
      continue;
    }
    if (++arrows % ARROWS_AT_ONCE === 0) {
      yield out;
      out = [];
    }
    out.push(`    ${message(words, r)}`);
  }
  out.push('```');
  yield out;
};

/** One arrow as a Mermaid message: who to whom, the line's kind, then the label, its frame and ports. */
function message(words: LadderWords, r: Arrow): string {
  const [from, to] = r.toServer ? ['C', 'S'] : ['S', 'C'];
  const rst = r.tone === 'rst';
  const line = r.conn.data ? (rst ? '--x' : '-->>') : rst ? '-x' : '->>';
  const ports = r.toServer ? `${arrowPort(r, true)} → ${arrowPort(r, false)}` : `${arrowPort(r, false)} → ${arrowPort(r, true)}`;
  const label = plainLabel(r.labels()[0] ?? '');
  return `${from}${line}${to}: ${escapeMermaid(`${label} (${words.frameAt(r.frame)}, ${ports})`)}`;
}

const CODES: Record<string, string> = { '#': '#35;', ';': '#59;', '&': '#amp;', '<': '#lt;', '>': '#gt;', '%': '#37;', '"': '#quot;' };

/**
 * Text as Mermaid reads it in a message, a note, a title or a participant's name: the characters its
 * grammar or its HTML labels would take for syntax (`;` ends a statement, `#` starts a code, `%%` a comment,
 * `<`, `>` and `&` markup) as Mermaid's entity codes (`#59;`). The text is already free of control and
 * bidi characters (sanitize).
 */
export function escapeMermaid(text: string): string {
  return text.replace(/[#;&<>%"]/g, (c) => CODES[c]!);
}
