/**
 * Wrapping text to a width (src/render/text.ts: wrap), which every view and every table cell goes through:
 * breaks only at spaces or between Chinese characters, never between a number and its unit, paths after
 * a slash, and a word longer than a whole line is the only thing cut, marked so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CUT_MARK, displayWidth, minWidth, wrap } from '../src/render/text.js';
import { prng, randomInt } from './support/random.js';

test('a number keeps its unit, a duration its parts, a frame its number', () => {
  assert.deepEqual(wrap('USER ftpscope -> 331 Please specify the password. (0.058 ms)', 55), ['USER ftpscope -> 331 Please specify the password.', '(0.058 ms)']);
  assert.deepEqual(wrap('sent 1.2 MB then 12 bytes', 9), ['sent', '1.2 MB', 'then', '12 bytes']);
  assert.deepEqual(wrap('took 2 min 05 s at 3.40 MB/s', 12), ['took', '2 min 05 s', 'at 3.40 MB/s']);
  assert.deepEqual(wrap('announced by PORT in frame 29: handshake', 25), ['announced by PORT in', 'frame 29: handshake']);
  // Words that are not units go their own way.
  assert.deepEqual(wrap('after 327680 of 524288', 13), ['after 327680', 'of 524288']);
});

test('Chinese breaks between characters, but not inside a number and its unit, nor before closing punctuation', () => {
  const lines = wrap('客户端发送了 12 字节（在第 5 帧），服务器回答。', 14);
  for (const l of lines) assert.ok(displayWidth(l) <= 14, l);
  assert.ok(lines.some((l) => l.includes('12 字节')), lines.join('|'));
  assert.ok(lines.some((l) => l.includes('5 帧')), lines.join('|'));
  for (const l of lines) assert.ok(!/^[，。）]/.test(l), `a line starts with closing punctuation: ${lines.join('|')}`);
  assert.equal(lines.join('').replaceAll(' ', ''), '客户端发送了12字节（在第5帧），服务器回答。');
});

test('a path breaks after a slash, a digest every 4 digits, anything else too long is cut with a mark', () => {
  assert.deepEqual(wrap('session-2/hello.txt', 12), ['session-2/', 'hello.txt']);
  assert.deepEqual(wrap('RETR /pub/robots.txt', 12), ['RETR /pub/', 'robots.txt']);
  assert.equal(minWidth('./data-512k.bin'), './data-512k.bin'.length);
  assert.equal(minWidth('RETR /pub/data/file-of-data.bin'), 'file-of-data.bin'.length);
  const digest = '9f97dcfa2e088fdc630456acfd551bf647d7fe5962b12cc61508c87f725b1e95';
  assert.deepEqual(wrap(digest, 30), ['9f97dcfa2e088fdc630456acfd55', '1bf647d7fe5962b12cc61508c87f', '725b1e95']);
  assert.equal(minWidth(digest), 16);
  assert.deepEqual(wrap('abcdefghijklmnopqrstuvwxyz', 10), [`abcdefghi${CUT_MARK}`, `jklmnopqr${CUT_MARK}`, 'stuvwxyz']);
  // After the last punctuation that keeps the line half full: an IPv6 endpoint parts at its port.
  assert.deepEqual(wrap('[2001:470:1f11:81f:c999:d94:aa7c:2e3e]:49185', 42), [`[2001:470:1f11:81f:c999:d94:aa7c:2e3e]:${CUT_MARK}`, '49185']);
  // Base64 has slashes too, far apart: it is cut as a word.
  const b64 = 'FgMBAGsBAABnAwFQW20QgljInC83uQvyugxecsF3kUpSQF6m6R/GggW8mwAAOgA5ADgAiACHADUAhAAWABMACgAzADIAmgCZ';
  assert.ok(wrap(b64, 40).slice(0, -1).every((l) => l.endsWith(CUT_MARK) && displayWidth(l) === 40));
});

test('random text at random widths: every line fits, nothing is lost, only marked cuts break a word', () => {
  const rnd = prng(7);
  const words = ['a', 'FTP', 'transfer', '0.058 ms', '12 bytes', '300,000 B', '/pub/a/b.txt', 'frame 12', '中文', '字', 'verylongwordwithoutanyspaces', '(--show-passwords', '10.0.0.1:21', '3 (warning)'];
  for (let k = 0; k < 2000; k++) {
    const text = Array.from({ length: randomInt(rnd, 0, 12) }, () => words[randomInt(rnd, 0, words.length - 1)]!).join(' ');
    const width = randomInt(rnd, 4, 40);
    const lines = wrap(text, width);
    for (const l of lines) assert.ok(displayWidth(l) <= width, `${JSON.stringify(text)} at ${width}: ${JSON.stringify(l)}`);
    const squeeze = (s: string) => s.replaceAll(CUT_MARK, '').replace(/\s+/g, '');
    assert.equal(squeeze(lines.join('')), squeeze(text), `${JSON.stringify(text)} at ${width}`);
    // A number and its unit apart only when together they are wider than the line.
    for (let i = 0; i + 1 < lines.length; i++) {
      if (/\d$/.test(lines[i]!) && /^(ms|bytes|B)\b/.test(lines[i + 1]!)) assert.fail(`${JSON.stringify(text)} at ${width}: ${lines[i]} / ${lines[i + 1]}`);
    }
  }
});
