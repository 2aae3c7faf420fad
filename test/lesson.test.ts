/**
 * The lesson page (issue 16, item 5): `ftpscope report` and `--format html`. The page is checked as a file
 * (self-contained, escaped, the same steps as the walkthrough) on every fixture, then in a real browser:
 * headless Chromium (installed by .ci/run) opens it, steps through it with the keyboard, switches to
 * Chinese, and saves screenshots of both under dist/test-artifacts/. Without Chromium the browser tests
 * skip, saying so.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { main } from '../src/cli/main.js';
import { collect } from './cli-io.js';
import { TcpConversation, framesToPcap } from './support/capture-writer.js';
import { Browser, findChromium } from './support/chromium.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'fixtures');
const ARTIFACTS = join(ROOT, 'dist/test-artifacts');
const CHROMIUM = findChromium();
const NO_BROWSER = CHROMIUM === null ? 'chromium not installed (.ci/run installs it): the page is not opened in a browser' : false;

/** Folders the tests make, removed when they are done. */
const made: string[] = [];
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ftpscope-lesson-'));
  made.push(dir);
  return dir;
}
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = collect();
  const code = await main(args, c.io);
  return { code, out: c.stdout(), err: c.stderr() };
}

/** The numbered steps of the English walkthrough of a capture, as the text view numbers them. */
async function walkthroughSteps(path: string): Promise<number> {
  const text = (await run(['-v', 'walkthrough', '--width', '200', path])).out;
  return [...text.matchAll(/^ *\d+\. (frame|frames) /gm)].length;
}

test('every fixture: one self-contained page, every session with its ladder and the walkthrough\'s steps in both languages', async () => {
  for (const name of readdirSync(FIXTURES).filter((n) => n.endsWith('.pcap')).sort()) {
    const path = join(FIXTURES, name);
    const r = await run(['--format', 'html', path]);
    assert.equal(r.code, 0, r.err);
    const html = r.out;
    assert.match(html, /^<!doctype html>\n<html lang="en" data-lang="en">/);
    assert.ok(html.endsWith('</html>\n'));
    // Nothing fetched: no external script, style, font, image or link target.
    assert.doesNotMatch(html, /<(link|iframe|img|object|embed)\b|\bsrc=|@import|url\((?!#)|https?:\/\/(?!www\.w3\.org\/2000\/svg)/i, `${name}: refers to something outside the page`);
    const json = JSON.parse((await run(['--format', 'json', path])).out) as { sessions: unknown[] };
    assert.equal([...html.matchAll(/<section class="session" /g)].length, json.sessions.length, name);
    assert.equal([...html.matchAll(/<div class="ladder">/g)].length, 2 * json.sessions.length, `${name}: a ladder per session and language`);
    assert.ok([...html.matchAll(/<svg /g)].length >= 2 * json.sessions.length, `${name}: drawn`);
    const steps = await walkthroughSteps(path);
    assert.equal([...html.matchAll(/<li id="s\d+-en-\d+"/g)].length, steps, `${name}: English steps`);
    assert.equal([...html.matchAll(/<li id="s\d+-zh-\d+"/g)].length, steps, `${name}: Chinese steps`);
    // Every step's frames have an arrow or a packet to show.
    for (const m of html.matchAll(/data-first="(\d+)" data-last="(\d+)"/g)) assert.ok(Number(m[1]) <= Number(m[2]));
  }
});

test('wire text is escaped in the page: a command cannot open markup or leave its script', async () => {
  const c = new TcpConversation({ client: { ip: '10.0.0.1', port: 40000 }, server: { ip: '10.0.0.2', port: 21 } });
  c.handshake().send(false, '220 <script>alert(1)</script>\r\n').send(true, 'USER </script><b>x&y\r\n').send(false, '331 "ok" \'q\'\r\n').close();
  const dir = folder();
  const file = join(dir, 'hostile.pcap');
  writeFileSync(file, framesToPcap(c.frames, 'ethernet'));
  const html = (await run(['--format', 'html', file])).out;
  assert.ok(!html.includes('<script>alert'), 'raw markup from the wire');
  assert.ok(!html.includes('</script><b>'), 'the wire closed a script element');
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  // Exactly the page's own two scripts.
  assert.equal([...html.matchAll(/<script\b/g)].length, 2);
  assert.equal([...html.matchAll(/<\/script>/g)].length, 2);
});

test('ftpscope report -o writes the page to a file; report refuses another format', async () => {
  const dir = folder();
  const out = join(dir, 'lesson.html');
  const r = await run(['report', join(FIXTURES, 'active-ls-pwd.pcap'), '-o', out]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, '');
  assert.match(readFileSync(out, 'utf8'), /<title>ftpscope: .*active-ls-pwd\.pcap<\/title>/);
  const bad = await run(['report', '--format', 'json', join(FIXTURES, 'active-ls-pwd.pcap')]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /ftpscope report writes the lesson page \(html\), not json/);
  const nowhere = await run(['report', join(FIXTURES, 'active-ls-pwd.pcap'), '-o', join(dir, 'no/such/dir/x.html')]);
  assert.equal(nowhere.code, 1);
  assert.match(nowhere.err, /--output: could not write .*x\.html: ENOENT/);
});

test('in Chromium: the keyboard steps through the session, its arrows light up, the packet shows; Chinese with the switch', { skip: NO_BROWSER, timeout: 120_000 }, async () => {
  const dir = folder();
  const page = join(dir, 'lesson.html');
  assert.equal((await run(['report', join(FIXTURES, 'active-ls-pwd.pcap'), '-o', page])).code, 0);
  const b = new Browser(CHROMIUM!);
  try {
    await b.open(pathToFileURL(page).href);
    assert.equal(await b.evaluate<string>('document.documentElement.dataset.lang'), 'en');
    const steps = await b.evaluate<number>("document.querySelectorAll('.lang-en ol.steps li').length");
    assert.equal(steps, await walkthroughSteps(join(FIXTURES, 'active-ls-pwd.pcap')));
    // Next, next, next: step 3, the handshake's ACK, its arrow lit and its packet shown.
    for (let i = 0; i < 3; i++) await b.key('ArrowRight', 'ArrowRight', 39);
    const state = () => b.evaluate<{ step: string | null; frames: number[]; detail: string; visible: boolean }>(`(() => {
      const li = document.querySelector('ol.steps li.current');
      return { step: li && li.getAttribute('value'), frames: [...document.querySelectorAll('svg .arrow.current')].map((a) => +a.dataset.frame),
        detail: document.querySelector('#detail .fields').textContent, visible: li !== null && li.getBoundingClientRect().height > 0 };
    })()`);
    let s = await state();
    assert.equal(s.step, '3');
    assert.ok(s.visible);
    assert.deepEqual(s.frames, [3]);
    assert.match(s.detail, /frame3/);
    assert.match(s.detail, /flags\[ACK\]/);
    // j and k as well; End goes to the last step, Home to the first.
    await b.key('j');
    await b.key('k');
    assert.equal((await state()).step, '3');
    await b.key('End', 'End', 35);
    s = await state();
    assert.equal(s.step, String(steps));
    await b.key('Home', 'Home', 36);
    await b.key('ArrowRight', 'ArrowRight', 39);
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'lesson-en.png'), await b.screenshot());
    // The switch: the same step, in Chinese.
    await b.evaluate("document.querySelector('[data-set-lang=zh]').click()");
    assert.equal(await b.evaluate<string>('document.documentElement.dataset.lang'), 'zh');
    s = await state();
    assert.equal(s.step, '2');
    assert.ok(s.visible, 'the Chinese step is shown');
    assert.match(await b.evaluate<string>("document.querySelector('ol.steps li.current').textContent"), /握手/);
    writeFileSync(join(ARTIFACTS, 'lesson-zh.png'), await b.screenshot());
    // Clicking an arrow selects its step.
    await b.evaluate("document.querySelector('.lang-zh svg .arrow[data-frame=\"29\"]').dispatchEvent(new MouseEvent('click', {bubbles: true}))");
    assert.match((await state()).detail, /frame29/);
  } finally {
    await b.close();
  }
});

test('in Chromium: a session of 10,000 packets loads and steps', { skip: NO_BROWSER, timeout: 300_000 }, async () => {
  // One session of 2,500 NOOPs: 10,000 packets of the control connection.
  const c = new TcpConversation({ client: { ip: '10.0.0.1', port: 40000 }, server: { ip: '10.0.0.2', port: 21 } });
  c.handshake().send(false, '220 ready\r\n');
  for (let i = 0; i < 2500; i++) c.send(true, 'NOOP\r\n').send(false, '200 NOOP ok.\r\n');
  c.close();
  const dir = folder();
  const capture = join(dir, 'big.pcap');
  writeFileSync(capture, framesToPcap(c.frames, 'ethernet'));
  const page = join(dir, 'big.html');
  assert.equal((await run(['report', capture, '-o', page])).code, 0);
  const b = new Browser(CHROMIUM!);
  try {
    const started = Date.now();
    await b.open(pathToFileURL(page).href);
    const loaded = Date.now() - started;
    const steps = await b.evaluate<number>("document.querySelectorAll('.lang-en ol.steps li').length");
    assert.ok(steps >= 10_000, `${steps} steps`);
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) await b.key('ArrowRight', 'ArrowRight', 39);
    const stepping = (Date.now() - t0) / 20;
    assert.equal(await b.evaluate<string>("document.querySelector('ol.steps li.current').getAttribute('value')"), '20');
    // Bounds against a page that grows quadratically (minutes), not timings: the machine may be loaded.
    assert.ok(loaded < 120_000, `loaded in ${loaded} ms`);
    assert.ok(stepping < 2_000, `${stepping} ms a step`);
  } finally {
    await b.close();
  }
});
