/**
 * --format mermaid (issue 16, item 6): each session as a Mermaid sequence diagram in a Markdown block.
 * Checked by a grammar of our own, written from Mermaid's documentation of sequence diagrams for the
 * statements ftpscope writes (the mermaid package needs a browser's DOM to parse), and against the ladder:
 * the diagram has the ladder's steps, frame for frame, with the same labels.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main.js';
import { escapeMermaid } from '../src/render/mermaid.js';
import { collect } from './cli-io.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

async function run(args: string[]): Promise<string> {
  const c = collect();
  assert.equal(await main(args, c.io), 0, c.stderr());
  return c.stdout();
}

/** The statements ftpscope writes, as Mermaid's sequence diagram grammar reads them. */
const STATEMENT = /^ {4}(?:title (?<title>.+)|participant (?<id>[CS]) as (?<name>.+)|Note over C,S: (?<note>.+)|(?<from>[CS])(?<line>->>|-->>|-x|--x)(?<to>[CS]): (?<text>.+))$/;
/** Text Mermaid reads as text: no statement end, comment or markup, every # an entity code, nothing raw. */
const PLAIN = /^(?:[^;#%&<>"\u0000-\u001f\u007f]|#(?:\d+|[a-z]+);)+$/;

/** Mermaid's entity codes back to characters. */
function decode(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"' };
  return text.replace(/#(\d+|[a-z]+);/g, (_, c: string) => (/^\d+$/.test(c) ? String.fromCodePoint(Number(c)) : named[c]!));
}

interface Diagram {
  title: string;
  messages: Array<{ frame: number; text: string; data: boolean; toServer: boolean }>;
}

/** The diagrams of the output, each checked statement by statement. */
function parse(out: string): Diagram[] {
  const diagrams: Diagram[] = [];
  const lines = out.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === '') continue;
    assert.equal(lines[i], '```mermaid', `line ${i + 1}: a diagram starts with a mermaid fence`);
    assert.equal(lines[++i], 'sequenceDiagram');
    const d: Diagram = { title: '', messages: [] };
    for (i++; lines[i] !== '```'; i++) {
      assert.ok(i < lines.length, 'an unclosed block');
      const m = STATEMENT.exec(lines[i]!);
      assert.ok(m !== null, `line ${i + 1} is not a statement: ${lines[i]}`);
      const g = m.groups!;
      const text = g.title ?? g.name ?? g.note ?? g.text!;
      assert.match(text, PLAIN, `line ${i + 1}: ${text}`);
      if (g.title !== undefined) d.title = decode(g.title);
      if (g.from !== undefined) {
        assert.notEqual(g.from, g.to, `line ${i + 1}: an arrow to itself`);
        const f = /\((?:frame (\d+)|第 (\d+) 帧), \d+ → \d+\)$/.exec(decode(text));
        assert.ok(f !== null, `line ${i + 1}: no frame and ports: ${text}`);
        d.messages.push({ frame: Number(f[1] ?? f[2]), text: decode(text).slice(0, f.index).trimEnd(), data: g.line!.startsWith('--'), toServer: g.from === 'C' });
      }
    }
    diagrams.push(d);
  }
  return diagrams;
}

const captures = readdirSync(FIXTURES).filter((n) => n.endsWith('.pcap')).sort();

test('every fixture: one diagram per session, every statement in the grammar, the ladder\'s steps frame for frame', async () => {
  assert.ok(captures.length > 20);
  for (const name of captures) {
    const path = join(FIXTURES, name);
    const diagrams = parse(await run(['--format', 'mermaid', path]));
    const json = JSON.parse(await run(['--format', 'json', path])) as { sessions: unknown[] };
    assert.equal(diagrams.length, json.sessions.length, name);
    // The ladder, wide enough that no label is cut: its arrows' frames and labels, in order.
    const ladder = (await run(['-v', 'ladder', '--width', '400', '--color', 'never', path])).split('\n');
    const arrows = ladder.flatMap((l) => {
      const m = /^\s*(\d+) +[+-]?\d+\.\d+ +\d+ (◀)?[─┄]+ (.+?) [─┄]+(▶)? \d+$/u.exec(l);
      return m === null ? [] : [{ frame: Number(m[1]), text: m[3]!.trimEnd(), toServer: m[4] !== undefined }];
    });
    const messages = diagrams.flatMap((d) => d.messages);
    // The ladder's arrows have a greatest length: a label it cut (…) begins the diagram's whole one, and a
    // data arrow may take its shorter form (the same bytes, fewer details); the diagram has the longest.
    const same = messages.map((m, i) => {
      const a = arrows[i]?.text ?? '';
      if (a.endsWith('…') && m.text.startsWith(a.slice(0, -1))) return a;
      if (m.text.startsWith('FTP-DATA') && a.split(' (')[0] === m.text.split(' (')[0]) return a;
      return m.text;
    });
    assert.deepEqual(messages.map((m, i) => [m.frame, same[i], m.toServer]), arrows.map((a) => [a.frame, a.text, a.toServer]), name);
  }
});

test('data connections are dotted, the control connection solid, a RST ends in a cross', async () => {
  const [d] = parse(await run(['--format', 'mermaid', join(FIXTURES, 'active-ls-pwd.pcap')]));
  assert.match(d!.title, /^Session 1: FTP client 10\.21\.0\.1:\d+ → FTP server 10\.21\.0\.2:21, user ftpscope$/);
  const port = d!.messages.find((m) => m.text.startsWith('PORT '))!;
  assert.match(port.text, /^PORT 10,21,0,1,(\d+),(\d+) \(\1\*256\+\2 = \d+\)$/);
  assert.ok(d!.messages.filter((m) => m.data).some((m) => m.text === 'SYN' && !m.toServer), 'the server opens the data connection, dotted');
  assert.ok(d!.messages.filter((m) => !m.data).every((m) => !/FTP-DATA/.test(m.text)));
  const out = await run(['--format', 'mermaid', join(FIXTURES, 'curl-max-time-rst.pcap')]);
  assert.match(out, /^ {4}[CS]--?x[CS]: .*RST/m, 'a RST ends in a cross');
});

test('wire text cannot break out of a message: ; # %% < > & " become entity codes', () => {
  const hostile = 'RETR a;b #1 %% <img src=x> & "q"';
  const escaped = escapeMermaid(hostile);
  assert.match(escaped, PLAIN);
  assert.equal(decode(escaped), hostile);
  assert.equal(escapeMermaid('PASS <hidden>'), 'PASS #lt;hidden#gt;');
});

test('--format mermaid speaks Chinese with --lang zh, and is refused by live capture with what to do', async () => {
  const [d] = parse(await run(['--format', 'mermaid', '--lang', 'zh', join(FIXTURES, 'active-ls-pwd.pcap')]));
  assert.match(d!.title, /会话 1/);
  const c = collect();
  assert.equal(await main(['live', '-i', 'lo', '--format', 'mermaid'], c.io), 2);
  assert.match(c.stderr(), /--format mermaid draws the sessions of a capture file: save one with --write/);
});
