// The lesson page (ftpscope report, --format html): one self-contained HTML file a teacher can project.
import type { PacketRecord } from '../model/capture.js';
import type { FtpSession } from '../model/ftp-model.js';
import { analysisTags } from '../model/segment.js';
import { type ViewContext, hostPort } from './context.js';
import { type Arrow, type Drawer, type LadderRow, type LadderWords, arrowPort, ladderMaker, plainLabel } from './ladder.js';
import { en, type Messages } from './messages.js';
import { zh } from './messages-zh.js';
import { tcpFlags } from './packets.js';
import { sanitize } from './text.js';
import { type Step, sessionSteps } from './walkthrough.js';

/** The page's two languages: every text is written in both, and a switch shows one. */
const LANGS: ReadonlyArray<{ lang: 'en' | 'zh'; messages: Messages; label: string }> = [
  { lang: 'en', messages: en, label: 'English' },
  { lang: 'zh', messages: zh, label: '中文' },
];

/** The page's own words, in both languages. */
const WORDS = {
  en: {
    title: 'FTP lesson', keys: '← → or j k: previous and next step · Home End: first and last', transfers: 'Transfers', findings: 'Findings',
    noSessions: 'No FTP session in this capture.', command: 'command', path: 'path', result: 'result', bytes: 'bytes', mode: 'mode',
    severity: 'severity', kind: 'kind', what: 'what', frames: 'frames', packet: 'Packet', pick: 'Pick a step to see its packet.',
    phases: { setup: 'control connection set-up', login: 'login', port: 'data port set-up', transfer: 'transfer', commands: 'commands', teardown: 'teardown' },
  },
  zh: {
    title: 'FTP 课件', keys: '← → 或 j k：上一步、下一步 · Home End：第一步、最后一步', transfers: '传输', findings: '发现',
    noSessions: '抓包中没有 FTP 会话。', command: '命令', path: '路径', result: '结果', bytes: '字节', mode: '模式',
    severity: '级别', kind: '类型', what: '内容', frames: '帧', packet: '数据包', pick: '选择一个步骤，查看它的数据包。',
    phases: { setup: '建立控制连接', login: '登录', port: '设置数据端口', transfer: '传输数据', commands: '命令', teardown: '断开连接' },
  },
} as const;

type Phase = keyof (typeof WORDS)['en']['phases'];

/** HTML text: the five characters markup would read, as entities (wire text is already free of control characters). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

/**
 * The lesson page, in pieces: per session an SVG ladder (client and server as columns, control arrows
 * solid, data arrows dashed, phases labelled, the port arithmetic on PORT and 227) beside the numbered
 * walkthrough; selecting a step (click, or the keyboard) lights its arrows and shows its packets' fields;
 * findings inline; the transfers and findings tables; English and Chinese, switched on the page; a print
 * stylesheet. No script, style or font is fetched: the file works from a USB stick. `contexts`: the same
 * model in each language (the ladder's words follow the context's language).
 */
export function* lessonPage(contexts: { en: ViewContext; zh: ViewContext }, title: string): Generator<string> {
  const ctx = contexts.en;
  yield `<!doctype html>\n<html lang="en" data-lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n`;
  yield `<title>${escapeHtml(`ftpscope: ${title}`)}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n`;
  yield `<header><h1>${both((w) => w.title)} · <span class="file">${escapeHtml(title)}</span></h1>`;
  yield `<nav aria-label="language">${LANGS.map((l) => `<button type="button" data-set-lang="${l.lang}">${l.label}</button>`).join('')}</nav>`;
  yield `<p class="keys">${both((w) => w.keys)}</p></header>\n<main>\n`;
  if (ctx.sessions.length === 0) yield `<p>${both((w) => w.noSessions)}</p>\n`;
  const ladders = { en: ladderMaker(contexts.en), zh: ladderMaker(contexts.zh) };
  const packets = new Map<number, PacketRecord>();
  for (const s of ctx.sessions) {
    yield `<section class="session" id="s${s.id}" data-session="${s.id}">\n`;
    for (const { lang, messages } of LANGS) {
      const c = contexts[lang];
      yield `<div class="lang-${lang}">\n<h2>${escapeHtml(messages.title(s.id, sanitize(s.client.address), sanitize(s.server.address)))}</h2>\n<div class="pair">\n<div class="ladder">`;
      for (const part of ladders[lang](s, svgDrawer(lang, s.id))) yield part.join('\n');
      yield `</div>\n<ol class="steps">\n`;
      const sections: Array<{ title: string; items: string[] }> = [];
      for (const piece of sessionSteps(c, s, messages)) {
        if ('sections' in piece) sections.push(...piece.sections);
        else yield piece.steps.map((step) => stepItem(s, step, c, packets)).join('');
      }
      yield `</ol>\n</div>\n`;
      for (const section of sections) yield `<h3>${escapeHtml(section.title)}</h3>\n<ul>${section.items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>\n`;
      yield `</div>\n`;
    }
    yield `</section>\n`;
  }
  yield tables(ctx);
  yield `<aside id="detail" aria-live="polite"><h3>${both((w) => w.packet)}</h3><div class="fields">${both((w) => w.pick)}</div></aside>\n`;
  yield `</main>\n<script type="application/json" id="packets">${jsonForScript(packetFields(ctx, packets))}</script>\n<script>${SCRIPT}</script>\n</body>\n</html>\n`;
}

/** A text of the page's own words in both languages, the switch showing one. */
function both(pick: (w: (typeof WORDS)['en'] | (typeof WORDS)['zh']) => string): string {
  return `<span class="lang-en">${escapeHtml(pick(WORDS.en))}</span><span class="lang-zh">${escapeHtml(pick(WORDS.zh))}</span>`;
}

/** One numbered step: its header, the lines its segment carried, the explanation; the frames it covers. */
function stepItem(s: FtpSession, step: Step, ctx: ViewContext, packets: Map<number, PacketRecord>): string {
  for (let f = step.first; f <= step.last && f - step.first < 64; f++) {
    const p = ctx.packetAt(f);
    if (p !== null) packets.set(f, p);
  }
  const finding = (t: string) => /^(Finding|发现)（?\(?/.test(t);
  return (
    `<li id="s${s.id}-${ctx.options.lang}-${step.number}" value="${step.number}" tabindex="-1" data-first="${step.first}" data-last="${step.last}">` +
    `<div class="head">${escapeHtml(step.header)}</div>` +
    step.quoted.map((q) => `<div class="wire">&gt; ${escapeHtml(q)}</div>`).join('') +
    step.text.map((t) => `<p${finding(t) ? ' class="finding"' : ''}>${escapeHtml(t)}</p>`).join('') +
    `</li>\n`
  );
}

/** Row heights and the ladder's columns, in SVG units. */
const ROW = 34;
const LEFT = 150;
const RIGHT = 630;
const WIDTH = 700;

/** Arrows per SVG: a long session is drawn in pieces, each laid out by the browser only when it is near the screen. */
const ROWS_AT_ONCE = 200;

/** The ladder's steps as an SVG diagram: the same rows as the terminal's ladder, drawn as a figure. */
function svgDrawer(lang: 'en' | 'zh', session: number): Drawer {
  return function* (_ctx: ViewContext, words: LadderWords, s: FtpSession, rows: LadderRow[], notes: string[]) {
    let phase: Phase | null = null;
    let body: string[] = [];
    let y = 24;
    let piece = 0;
    const client = sanitize(hostPort(s.client.address, s.client.port));
    const server = sanitize(hostPort(s.server.address, s.server.port));
    // One piece of the diagram: its own columns and arrow head; the first has the two ends' names.
    const svg = (last: boolean): string[] => {
      const height = y + (last ? 10 : 0);
      const id = `head-${lang}-${session}-${piece}`;
      const top = piece === 0 ? 40 : 0;
      const out = [
        `<div class="piece"><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}"${piece === 0 ? ` role="img" aria-label="${escapeHtml(`${words.session(s.id)}${words.colon}${words.ends(client, server)}`)}"` : ' aria-hidden="true"'}>`,
        `<defs><marker id="${id}" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>`,
      ];
      if (piece === 0) {
        out.push(
          `<text class="end" x="${LEFT}" y="18">${escapeHtml(words.client)}</text><text class="end" x="${RIGHT}" y="18">${escapeHtml(words.server)}</text>`,
          `<text class="addr" x="${LEFT}" y="34">${escapeHtml(sanitize(s.client.address))}</text><text class="addr" x="${RIGHT}" y="34">${escapeHtml(sanitize(s.server.address))}</text>`,
        );
      }
      out.push(`<line class="life" x1="${LEFT}" y1="${top}" x2="${LEFT}" y2="${height}"/><line class="life" x1="${RIGHT}" y1="${top}" x2="${RIGHT}" y2="${height}"/>`);
      out.push(...body.map((b) => b.replace(/url\(#head\)/g, `url(#${id})`)), `</svg></div>`);
      return out;
    };
    y = 56;
    for (const n of notes) {
      body.push(`<text class="note" x="${WIDTH / 2}" y="${y}">${escapeHtml(n)}</text>`);
      y += ROW;
    }
    let count = 0;
    for (const r of rows) {
      if (count > 0 && count % ROWS_AT_ONCE === 0) {
        yield svg(false);
        piece++;
        body = [];
        y = 24;
      }
      count++;
      if (r.type === 'caption') {
        const text = r.text.replace(/^[┄─]+\s*/, '');
        body.push(`<text class="caption" x="${WIDTH / 2}" y="${y}">${escapeHtml(r.route === null ? text : `${text}${words.colon}${r.route}`)}</text>`);
        y += ROW;
        continue;
      }
      const now = phaseOf(r, phase);
      if (now !== phase) {
        body.push(`<text class="phase" x="4" y="${y - 12}">${escapeHtml(WORDS[lang].phases[now])}</text>`);
        phase = now;
      }
      body.push(arrowSvg(r, y, session));
      y += ROW;
    }
    yield svg(true);
  };
}

/** Which phase of the classic story an arrow belongs to (the reference ladder's labels), given the one before. */
function phaseOf(r: Arrow, before: Phase | null): Phase {
  if (r.conn.data) return 'transfer';
  const label = plainLabel(r.labels()[0] ?? '');
  if (/^\[?(FIN|RST)/.test(label) || before === 'teardown') return 'teardown';
  if ((before === null || before === 'setup') && /^(SYN|SYN,ACK|ACK|220)\b/.test(label)) return 'setup';
  if (/^(USER|PASS|ACCT|331|332|230|530)\b/.test(label)) return 'login';
  if (/^(PORT|EPRT|LPRT|PASV|EPSV|227|228|229)\b/.test(label) || (before === 'port' && /^200\b/.test(label))) return 'port';
  if (label === 'ACK' || (before === 'transfer' && /^[12]\d\d\b/.test(label))) return before ?? 'setup';
  return 'commands';
}

/** One arrow: a line between the columns with its head, its label above, the frame and the ports. */
function arrowSvg(r: Arrow, y: number, session: number): string {
  const [x1, x2] = r.toServer ? [LEFT, RIGHT] : [RIGHT, LEFT];
  const label = plainLabel(r.labels()[0] ?? '');
  const lines = splitLabel(label, 64);
  const cls = `arrow ${r.conn.data ? 'data' : 'control'} tone-${r.tone}`;
  const text = lines.map((l, i) => `<tspan x="${WIDTH / 2 + 35}" dy="${i === 0 ? 0 : 13}">${escapeHtml(l)}</tspan>`).join('');
  const top = y - 6 - 13 * (lines.length - 1);
  return (
    `<g class="${cls}" data-session="${session}" data-frame="${r.frame}"><title>${escapeHtml(label)}</title>` +
    `<text class="frame" x="4" y="${y + 4}">${r.frame}</text>` +
    `<text class="port" x="${LEFT - 6}" y="${y + 4}" text-anchor="end">${arrowPort(r, true)}</text>` +
    `<text class="port" x="${RIGHT + 6}" y="${y + 4}">${arrowPort(r, false)}</text>` +
    `<line x1="${x1}" y1="${y}" x2="${x2}" y2="${y}" marker-end="url(#head)"/>` +
    `<text class="label" x="${WIDTH / 2 + 35}" y="${top}">${text}</text></g>`
  );
}

/** A label in lines of at most `room` characters, broken at spaces (SVG text does not wrap). */
function splitLabel(label: string, room: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of label.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > room) {
      out.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  out.push(line);
  return out.slice(0, 4);
}

/** The fields of each packet a step covers, for the detail panel: TCP as the packet list shows it. */
function packetFields(ctx: ViewContext, packets: Map<number, PacketRecord>): Record<number, Record<string, string | number>> {
  const out: Record<number, Record<string, string | number>> = {};
  const clock = ctx.timer();
  const conns = new Map(ctx.analysis.connections.map((c) => [c.id, c]));
  for (const [frame, p] of [...packets].sort((a, b) => a[0] - b[0])) {
    const c = conns.get(p.connection);
    const src = c === undefined ? '?' : p.dir === 0 ? hostPort(c.client.address, c.client.port) : hostPort(c.server.address, c.server.port);
    const dst = c === undefined ? '?' : p.dir === 0 ? hostPort(c.server.address, c.server.port) : hostPort(c.client.address, c.client.port);
    const lines = ctx.linesAt(frame).map((l) => l.text);
    out[frame] = {
      frame, time: clock(p, null), from: sanitize(src), to: sanitize(dst), flags: tcpFlags(p.flags), seq: p.seq, ack: p.ack, window: p.scaledWindow, length: p.payload,
      analysis: analysisTags(p.analysis, p.dupAckCount, p.dupAckOf).join(', '), ftp: lines.join(' | '),
    };
  }
  return out;
}

/** JSON inside a script element: nothing in it may close the element or open a comment. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** The transfers and findings tables, in both languages. */
function tables(ctx: ViewContext): string {
  const out: string[] = [];
  for (const { lang } of LANGS) {
    const w = WORDS[lang];
    out.push(`<section class="tables lang-${lang}"><h2>${escapeHtml(w.transfers)}</h2><table><thead><tr><th>#</th><th>${w.command}</th><th>${w.path}</th><th>${w.mode}</th><th>${w.bytes}</th><th>${w.result}</th></tr></thead><tbody>`);
    for (const t of ctx.analysis.transfers) {
      const cause = lang === 'zh' ? t.causeZh : t.cause;
      out.push(`<tr><td>${t.id}</td><td>${escapeHtml(sanitize(t.command))}</td><td>${escapeHtml(sanitize(t.path))}</td><td>${t.mode}</td><td>${t.bytes}</td><td>${escapeHtml(`${t.status}${t.final !== null ? ` ${t.final}` : ''}${cause !== null ? `: ${sanitize(cause)}` : ''}`)}</td></tr>`);
    }
    out.push(`</tbody></table><h2>${escapeHtml(w.findings)}</h2><table><thead><tr><th>${w.severity}</th><th>${w.kind}</th><th>${w.frames}</th><th>${w.what}</th></tr></thead><tbody>`);
    for (const f of ctx.analysis.findings) {
      out.push(`<tr class="sev-${f.severity}"><td>${f.severity}</td><td>${escapeHtml(f.kind)}</td><td>${f.frames.slice(0, 5).join(', ')}</td><td>${escapeHtml(sanitize(lang === 'zh' ? f.messageZh : f.message))}</td></tr>`);
    }
    out.push(`</tbody></table></section>\n`);
  }
  return out.join('');
}

const STYLE = `
:root{--ink:#1d2430;--dim:#6b7280;--ctl:#1f4e8c;--data:#a23b72;--hi:#fff3bf;--bad:#b42318;--ok:#1a7f37}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,"Noto Sans","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;color:var(--ink)}
header{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid #ddd;padding:.4rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
h1{font-size:1.15rem;margin:0}.file{font-family:ui-monospace,monospace;font-weight:400}.keys{margin:0;color:var(--dim);font-size:.85rem}
nav button{font:inherit;border:1px solid #bbb;background:#f6f6f6;padding:.15rem .6rem;cursor:pointer}nav button[aria-pressed=true]{background:var(--ctl);color:#fff}
main{padding:0 1rem 12rem}html[data-lang=en] .lang-zh,html[data-lang=zh] .lang-en{display:none}
.pair{display:grid;grid-template-columns:minmax(0,${WIDTH}px) minmax(0,1fr);gap:1rem;align-items:start}
.ladder{position:sticky;top:3.5rem;max-height:calc(100vh - 4rem);overflow:auto}.ladder .piece{content-visibility:auto;contain-intrinsic-size:auto ${WIDTH}px auto ${ROW * ROWS_AT_ONCE}px}.ladder svg{display:block}
svg{max-width:100%;height:auto;font:12px ui-monospace,monospace}svg .life{stroke:#999;stroke-width:1}
svg .end{font:bold 13px system-ui,sans-serif;text-anchor:middle}svg .addr,svg .caption,svg .note{text-anchor:middle;fill:var(--dim)}
svg .caption{fill:var(--data);font-style:italic}svg .phase{fill:var(--dim);font:italic 11px system-ui,sans-serif}
svg .arrow line{stroke:var(--ctl);stroke-width:1.6;fill:none}svg .arrow.data line{stroke:var(--data);stroke-dasharray:6 4}
svg marker path{fill:context-stroke}svg .arrow .label{text-anchor:middle}svg .arrow .frame,svg .arrow .port{fill:var(--dim)}
svg .tone-rst line{stroke:var(--bad)}svg .arrow.current line{stroke-width:4}svg .arrow.current .label{font-weight:bold}
svg .arrow.current{outline:none}svg .arrow{cursor:pointer}
ol.steps{margin:0;padding-left:3rem}ol.steps li{padding:.3rem .5rem;border-left:3px solid transparent;cursor:pointer;content-visibility:auto;contain-intrinsic-size:auto 5rem}
ol.steps li.current{background:var(--hi);border-left-color:var(--ctl)}.head{font-family:ui-monospace,monospace;font-size:.85rem;color:var(--dim)}
.wire{font-family:ui-monospace,monospace;color:var(--ctl);white-space:pre-wrap;word-break:break-all}.steps p{margin:.15rem 0}.finding{color:var(--bad)}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;width:100%}th,td{border:1px solid #ddd;padding:.2rem .4rem;text-align:left;vertical-align:top}
tr.sev-alert td,tr.sev-warning td{color:var(--bad)}
#detail{position:fixed;right:1rem;bottom:1rem;width:min(32rem,90vw);max-height:40vh;overflow:auto;background:#fff;border:1px solid #bbb;box-shadow:0 2px 10px #0002;padding:.5rem .8rem;font-size:.85rem}
#detail h3{margin:0 0 .3rem;font-size:.95rem}#detail dl{display:grid;grid-template-columns:auto 1fr;gap:.1rem .6rem;margin:.2rem 0 .6rem}#detail dt{color:var(--dim)}#detail dd{margin:0;font-family:ui-monospace,monospace;word-break:break-all}
:lang(zh) body,html[data-lang=zh] body{line-break:strict;word-break:normal}
@media (max-width:900px){.pair{grid-template-columns:1fr}.ladder{position:static;max-height:none}}
@media print{header nav,.keys,#detail{display:none}header{position:static}.ladder{position:static;max-height:none;overflow:visible}.pair{grid-template-columns:1fr}ol.steps li{break-inside:avoid}.session{break-before:page}html[data-lang] .lang-en,html[data-lang] .lang-zh{display:none}html[data-lang=en] .lang-en,html[data-lang=zh] .lang-zh{display:revert}}
`;

const SCRIPT = `
(function(){
  var packets = JSON.parse(document.getElementById('packets').textContent);
  var root = document.documentElement, current = null;
  function visible(){ return Array.prototype.slice.call(document.querySelectorAll('.lang-' + root.dataset.lang + ' ol.steps li')); }
  function field(k, v){ return '<dt>' + k + '</dt><dd>' + String(v).replace(/[&<>"]/g, function(c){ return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]; }) + '</dd>'; }
  function show(li){
    var first = +li.dataset.first, last = +li.dataset.last, html = '';
    for (var f = first; f <= last && f < first + 8; f++) {
      var p = packets[f]; if (!p) continue;
      html += '<dl>' + field('frame', p.frame) + field('time', p.time) + field('from', p.from) + field('to', p.to) + field('flags', p.flags)
        + field('seq', p.seq) + field('ack', p.ack) + field('window', p.window) + field('length', p.length)
        + (p.analysis ? field('analysis', p.analysis) : '') + (p.ftp ? field('FTP', p.ftp) : '') + '</dl>';
    }
    if (last - first >= 8) html += '<p>… ' + (last - first + 1) + ' frames</p>';
    document.querySelector('#detail .fields').innerHTML = html || li.querySelector('.head').textContent;
  }
  function select(li){
    if (!li) return;
    if (current) current.classList.remove('current');
    document.querySelectorAll('svg .arrow.current').forEach(function(a){ a.classList.remove('current'); });
    current = li; li.classList.add('current');
    var section = li.closest('.session'), first = +li.dataset.first, last = +li.dataset.last;
    section.querySelectorAll('.lang-' + root.dataset.lang + ' svg .arrow').forEach(function(a){
      var f = +a.dataset.frame; if (f >= first && f <= last) a.classList.add('current');
    });
    li.scrollIntoView({block: 'nearest'});
    var arrow = section.querySelector('.lang-' + root.dataset.lang + ' svg .arrow.current');
    if (arrow && arrow.scrollIntoView) arrow.scrollIntoView({block: 'nearest'});
    show(li);
  }
  function move(by){
    var list = visible(); if (list.length === 0) return;
    var i = current ? list.indexOf(current) : -1;
    select(list[Math.max(0, Math.min(list.length - 1, i < 0 ? (by > 0 ? 0 : list.length - 1) : i + by))]);
  }
  function setLang(lang){
    var n = current ? current.getAttribute('value') : null, s = current ? current.closest('.session') : null;
    root.dataset.lang = lang; root.lang = lang === 'zh' ? 'zh-Hans' : 'en';
    document.querySelectorAll('[data-set-lang]').forEach(function(b){ b.setAttribute('aria-pressed', String(b.dataset.setLang === lang)); });
    if (s && n) select(s.querySelector('.lang-' + lang + ' ol.steps li[value="' + n + '"]'));
  }
  document.addEventListener('keydown', function(e){
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    var k = e.key;
    if (k === 'ArrowRight' || k === 'ArrowDown' || k === 'j' || k === 'n' || k === ' ') { move(1); e.preventDefault(); }
    else if (k === 'ArrowLeft' || k === 'ArrowUp' || k === 'k' || k === 'p') { move(-1); e.preventDefault(); }
    else if (k === 'Home' || k === 'End') { var list = visible(); select(list[k === 'Home' ? 0 : list.length - 1]); e.preventDefault(); }
  });
  document.addEventListener('click', function(e){
    var t = e.target, b = t.closest && t.closest('[data-set-lang]');
    if (b) { setLang(b.dataset.setLang); return; }
    var li = t.closest && t.closest('ol.steps li'); if (li) { select(li); return; }
    var a = t.closest && t.closest('svg .arrow');
    if (a) {
      var f = +a.dataset.frame;
      select(visible().filter(function(x){ return +x.dataset.first <= f && f <= +x.dataset.last && x.closest('.session') === a.closest('.session'); })[0]);
    }
  });
  setLang(root.dataset.lang);
})();
`;
