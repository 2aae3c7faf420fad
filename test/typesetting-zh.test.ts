/**
 * Chinese typesetting (issue 16, item 4) in every text view (the walkthrough, the ladder, the timeline,
 * the summary, the packet list and the connection list): at 60, 80 and 120 columns, on every fixture, no line starts with
 * closing punctuation or ends with opening punctuation, no word is split across lines (words as ICU's
 * dictionary segments them, the segmenter Node ships with its full ICU, and the terms of the trade it
 * splits), ASCII punctuation does not touch Chinese text, frames are written one way ("第 9 帧"), and
 * the terms are the standard ones (四次挥手, naming the textbook's 四次断开 once; FTP 反弹攻击).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main.js';
import { collect } from './cli-io.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const CLOSING = /^[，。、；：？！）」』》】]/;
const OPENING = /[（「『《【]$/;
const HAN = /[\u4e00-\u9fff]/;
const WORDS = new Intl.Segmenter('zh', { granularity: 'word' });
/** Words ICU's dictionary splits ("客户|端") that a Chinese reader never sees broken. */
const TERMS = ['字节', '客户端', '服务器', '第三方', '三次握手', '四次挥手', '数据连接', '控制连接', '主动模式', '被动模式'];
/** ASCII punctuation against a Chinese character, where Chinese text wants the full-width form. */
const HALF_WIDTH = /[\u4e00-\u9fff][,;!?()]|[,;!?(][\u4e00-\u9fff]|[\u4e00-\u9fff]: /;

/** The breaks the text puts between two Chinese characters that ICU's dictionary keeps in one word. */
function splitWords(lines: string[]): string[] {
  const bad: string[] = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    const a = lines[i]!.trimEnd();
    const b = lines[i + 1]!.trimStart();
    if (!HAN.test(a.at(-1) ?? '') || !HAN.test(b[0] ?? '')) continue;
    // The word around the junction, in the text the two lines make.
    const tail = a.slice(-8);
    let at = 0;
    for (const w of WORDS.segment(tail + b.slice(0, 8))) {
      if (at < tail.length && at + w.segment.length > tail.length) bad.push(`${a.slice(-12)}⏎${b.slice(0, 12)}`);
      at += w.segment.length;
    }
    for (const term of TERMS) {
      for (let k = 1; k < term.length; k++) if (a.endsWith(term.slice(0, k)) && b.startsWith(term.slice(k))) bad.push(`${a.slice(-12)}⏎${b.slice(0, 12)}`);
    }
  }
  return bad;
}

test('every Chinese text view (walkthrough, ladder, timeline, summary, packets, connections) at 60, 80 and 120 columns: punctuation and words where Chinese readers expect them', async () => {
  let lines = 0;
  for (const name of readdirSync(FIXTURES).filter((n) => n.endsWith('.pcap')).sort()) {
    for (const width of [60, 80, 120]) {
      for (const view of ['walkthrough', 'ladder', 'timeline', 'summary', 'packets', 'connections']) {
        const c = collect();
        assert.equal(await main(['-v', view, '--lang', 'zh', '--width', String(width), join(FIXTURES, name)], c.io), 0, c.stderr());
        const out = c.stdout().split('\n');
        lines += out.length;
        const what = `${name} ${view} at ${width}`;
        assert.deepEqual(out.filter((l) => CLOSING.test(l.trimStart())), [], `${what}: a line starts with closing punctuation`);
        assert.deepEqual(out.filter((l) => OPENING.test(l.trimEnd())), [], `${what}: a line ends with opening punctuation`);
        assert.deepEqual(splitWords(out), [], `${what}: a word split across lines`);
        assert.deepEqual(out.filter((l) => HALF_WIDTH.test(l)), [], `${what}: ASCII punctuation in Chinese text`);
        // One way to write a frame label, and the standard terms.
        assert.deepEqual(out.filter((l) => /帧 \d+(?:-\d+)?(?![\d.])/.test(l)), [], `${what}: a frame written "帧 N", not "第 N 帧"`);
        // A number is never left without its unit: "38" at a line's end and "字节" at the next one's start.
        assert.deepEqual(out.filter((l, i) => /\d$/.test(l.trimEnd()) && /^(字节|字|节|毫秒|秒|个|次|帧)/.test(out[i + 1]?.trimStart() ?? '')), [], `${what}: a number split from its unit`);
        assert.deepEqual(out.filter((l) => /跳板|四次断开(?!”)/.test(l)), [], `${what}: 跳板 or 四次断开 where the standard terms are FTP 反弹攻击 and 四次挥手`);
      }
    }
  }
  assert.ok(lines > 10_000, `${lines} lines read`);
});

test('the Chinese timeline tells the same events at the same frames as the English one, on every fixture', async () => {
  const frames = (text: string) => [...text.matchAll(/^ {0,12}\S* +#(\d+) /gm)].map((m) => Number(m[1]));
  let events = 0;
  for (const name of readdirSync(FIXTURES).filter((n) => n.endsWith('.pcap')).sort()) {
    const said: Record<string, number[]> = {};
    for (const lang of ['en', 'zh']) {
      const c = collect();
      assert.equal(await main(['-v', 'timeline', '--lang', lang, '--width', '200', join(FIXTURES, name)], c.io), 0, c.stderr());
      said[lang] = frames(c.stdout());
    }
    assert.ok(said.en!.length > 0, `${name}: no event read`);
    assert.deepEqual(said.zh, said.en, `${name}: the Chinese timeline's events differ from the English one's`);
    events += said.en!.length;
  }
  assert.ok(events > 500, `${events} events compared`);
});
