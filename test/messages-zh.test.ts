/**
 * The Chinese walkthrough words (src/render/messages-zh.ts): the same methods as `en`, each in Chinese,
 * each keeping the numbers and tokens it is given, every specially explained command and reply code
 * explained in its own words, and a real capture's walkthrough that reads as Chinese.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { analyseCapture } from './analysis.js';
import { DEFAULT_VIEW_OPTIONS, ViewContext } from '../src/render/context.js';
import { en, type CommandDetail, type Messages, type ReplyDetail } from '../src/render/messages.js';
import { zh } from '../src/render/messages-zh.js';
import { renderWalkthrough } from '../src/render/walkthrough.js';
import { maskPasswords } from '../src/ftp/policy.js';

const CJK = /[\u4e00-\u9fff]/;
/** ASCII punctuation touching a Chinese character: Chinese sentences use full-width punctuation. */
const HALF_WIDTH_IN_CHINESE = /[\u4e00-\u9fff][,.;:!?()]|[,.;:!?()][\u4e00-\u9fff]/;

/** The catalogue's methods (its header words are checked on their own). */
type Method = Exclude<keyof Messages, 'words' | 'textbook'>;
type Call<K extends Method> = { args: Parameters<Messages[K]>; keep: string[] };
type Calls = { [K in Method]: Array<Call<K>> };

const dataConn = zh.connection('data', 'RETR');
const PORT_DETAIL: CommandDetail = { path: null, listen: { address: '10.21.0.1', port: 33373, arithmetic: '130*256+93 = 33373' } };
const PASV_REPLY: ReplyDetail = {
  text: 'Entering Passive Mode (10,21,0,2,130,93).',
  preliminary: false,
  connectTo: { address: '10.21.0.2', port: 33373, arithmetic: '130*256+93 = 33373', differs: true, controlAddress: '192.0.2.7' },
};

/** Every method of Messages, called with distinctive values, and what its output must keep. */
const calls: Calls = {
  title: [{ args: [7, '10.21.0.1', '10.21.0.2'], keep: ['7', '10.21.0.1', '10.21.0.2'] }],
  side: [{ args: ['client'], keep: [] }, { args: ['server'], keep: [] }],
  connection: [
    { args: ['control'], keep: [] },
    { args: ['data', 'LIST'], keep: ['LIST'] },
    { args: ['data'], keep: [] },
  ],
  handshake1Control: [
    { args: [33198, 21], keep: ['33198', '21'] },
    { args: [40001, 2121], keep: ['40001', '2121'] },
  ],
  handshake1DataPassive: [
    { args: [40002, 33373, { source: 'PASV', frame: 14, reply: true }], keep: ['40002', '33373', 'PASV', '14'] },
    { args: [40003, 33374, null], keep: ['40003', '33374'] },
    { args: [40004, 33375, { source: 'EPSV', frame: 4242, reply: true }], keep: ['40004', '33375', 'EPSV', '4242'] },
    { args: [40005, 50008, { source: 'PASV', frame: 16, reply: true }, { address: '10.21.0.99', server: '10.21.0.2' }], keep: ['40005', '50008', '10.21.0.99', '10.21.0.2', 'NAT'] },
  ],
  handshake1DataActive: [
    { args: [20, 33373, { source: 'PORT', frame: 29, reply: false }, true, null], keep: ['20', '33373', 'PORT', '29'] },
    { args: [2020, 33376, { source: 'EPRT', frame: 31, reply: false }, false, null], keep: ['2020', '33376', 'EPRT', '31'] },
    { args: [20, 1025, { source: 'PORT', frame: 14, reply: false }, true, '10.9.9.9'], keep: ['20', '1025', 'PORT', '14', '10.9.9.9'] },
  ],
  handshake2: [{ args: [dataConn, 'client'], keep: ['RETR', 'SYN,ACK'] }],
  handshake3: [{ args: [dataConn, 'server'], keep: ['RETR'] }],
  teardown1: [{ args: [dataConn, 'server'], keep: ['RETR', 'FIN'] }],
  teardown2: [{ args: [dataConn, 'client'], keep: ['RETR', 'FIN'] }],
  teardown3: [{ args: [dataConn, 'client'], keep: ['RETR', 'FIN'] }],
  teardown2and3: [{ args: [dataConn, 'client'], keep: ['RETR', 'FIN,ACK'] }],
  teardown4: [{ args: [dataConn, 'server'], keep: ['RETR', 'FIN'] }],
  reset: [{ args: [dataConn, 'client'], keep: ['RETR', 'RST'] }],
  bareAck: [{ args: ['client', 33373], keep: ['33373', 'ACK'] }],
  retransmission: [{ args: [1448], keep: ['1448'] }],
  missingBefore: [{ args: [2896], keep: ['2896'] }],
  continuation: [{ args: ['server', 17], keep: ['17'] }],
  moreReplyLines: [{ args: [211, 77], keep: ['211', '77', '211 '] }, { args: [211, 9, true], keep: ['211', '9', '211 '] }],
  command: [
    { args: ['PORT', '10,21,0,1,130,93', PORT_DETAIL], keep: ['PORT', '10,21,0,1,130,93', '10.21.0.1', '130*256+93 = 33373'] },
    { args: ['EPRT', '|1|10.21.0.1|33373|', { path: null, listen: { address: '10.21.0.1', port: 33373, arithmetic: null } }], keep: ['EPRT', '|1|10.21.0.1|33373|', '33373'] },
    { args: ['USER', 'ftpscope', { path: null }], keep: ['ftpscope'] },
    { args: ['RETR', 'a.txt', { path: '/pub/a.txt' }], keep: ['/pub/a.txt'] },
    { args: ['REST', '1048576', { path: null }], keep: ['1048576'] },
    { args: ['XYZZ', 'arg1', { path: null }], keep: ['XYZZ', 'arg1'] },
  ],
  reply: [
    { args: [227, 'PASV', PASV_REPLY], keep: ['227', '10.21.0.2', '130*256+93 = 33373', '192.0.2.7', 'NAT'] },
    { args: [229, 'EPSV', { text: '(|||33373|)', preliminary: false, connectTo: { ...PASV_REPLY.connectTo!, arithmetic: null, differs: false } }], keep: ['229', '33373'] },
    { args: [257, 'PWD', { text: '"/home/ftp"', preliminary: false, directory: '/home/ftp' }], keep: ['257', '/home/ftp'] },
    { args: [215, 'SYST', { text: 'UNIX Type: L8', preliminary: false }], keep: ['215', 'UNIX Type: L8'] },
    { args: [213, 'SIZE', { text: '271', preliminary: false }], keep: ['213', '271'] },
    { args: [150, 'LIST', { text: 'Here comes the directory listing.', preliminary: true }], keep: ['150', 'LIST'] },
    { args: [599, 'SITE', { text: 'odd 4711', preliminary: false }], keep: ['599', 'SITE', 'odd 4711'] },
    {
      args: [425, 'LIST', { text: 'Failed to establish connection.', preliminary: false, transfer: { complete: false, cause: null, causeZh: null, mode: 'active', tries: { syns: 7, first: 32, last: 39, outcome: 'unanswered' } } }],
      keep: ['425', 'LIST', '7', '32-39'],
    },
    {
      args: [425, 'RETR', { text: 'Failed.', preliminary: false, transfer: { complete: false, cause: null, causeZh: null, mode: 'passive', tries: { syns: 1, first: 17, last: 18, outcome: 'refused' } } }],
      keep: ['425', 'RETR', 'RST', '18'],
    },
    { args: [426, 'RETR', { text: 'Failure writing network stream.', preliminary: false }], keep: ['426', 'RETR'] },
  ],
  dataSummary: [
    { args: ['server', { listing: true, command: 'LIST', path: '/' }, 271, 1, 1, 36, 37], keep: ['LIST', '271', '36-37', '--detail packets'] },
    { args: ['client', { listing: false, command: 'STOR', path: '/up/b.bin' }, 65536, 46, 23, 100, 168], keep: ['/up/b.bin', 'STOR', '65536', '46', '23', '100-168'] },
    { args: ['client', { listing: false, command: 'APPE', path: '/x 8080' }, 5, 1, 0, 9, 9], keep: ['/x 8080', '5', '9'] },
  ],
  dataSegment: [{ args: ['server', 1448], keep: ['1448'] }],
  lossLesson: [{ args: [10, 1], keep: [] }, { args: [0, 2], keep: [] }],
  telnetAhead: [
    { args: ['ABOR', true, false], keep: ['ABOR', 'IAC IP', '959'] },
    { args: ['ABOR', false, true], keep: ['ABOR', 'IAC DM', 'URG'] },
    { args: ['ABOR', false, false], keep: ['ABOR', 'Telnet'] },
  ],
  conclusionsTitle: [{ args: [], keep: [] }],
  connectionsCount: [{ args: [1, 3], keep: ['1', '3'] }],
  controlPorts: [{ args: [33198, 21], keep: ['33198', '21'] }],
  dataPortLine: [
    { args: ['LIST', 'active', 'server', 20, 33373, 'PORT: 130*256+93 = 33373'], keep: ['LIST', '20', '33373', 'PORT: 130*256+93 = 33373'] },
    { args: ['RETR', 'passive', 'client', 40002, 33374, ''], keep: ['RETR', '40002', '33374'] },
    { args: ['NLST', 'unknown', 'client', 40005, 33375, 'EPSV'], keep: ['NLST', '40005', '33375', 'EPSV'] },
  ],
  usedData: [{ args: [['LIST', 'RETR']], keep: ['LIST', 'RETR'] }],
  controlOnly: [{ args: [['USER', 'PASS', 'PWD']], keep: ['USER', 'PASS', 'PWD'] }],
  portsMoved: [
    { args: [[33373, 33374, 33375]], keep: ['33373', '33374', '33375'] },
    { args: [[33373, 40000]], keep: ['33373', '40000'] },
  ],
  noData: [{ args: [], keep: [] }],
  everyConnection: [{ args: [], keep: [] }],
  synRetries: [
    { args: ['server', zh.connection('data', 'LIST'), 6, [1, 1.02, 2.04], 'unanswered'], keep: ['6', '1.0', '2.0'] },
    { args: ['client', zh.connection('data', 'RETR'), 2, [3, 6], 'answered'], keep: ['2', '3.0', '6.0'] },
    { args: ['client', zh.connection('control'), 1, [1], 'refused'], keep: ['1.0', 'RST'] },
  ],
  refused: [{ args: [dataConn, 'client', 49315], keep: ['49315', 'RST'] }],
  afterReset: [
    { args: [dataConn, 'client', 'server', 5, 6744, 0, 6], keep: ['RETR', '5', '6744', '6', 'RST', '9293', '3.10.7.1'] },
    { args: [zh.connection('control'), 'client', 'server', 0, 0, 2, 2], keep: ['2', 'RST'] },
    { args: [dataConn, 'server', 'client', 0, 0, 0, 1], keep: ['RST'] },
  ],
  finding: [{ args: ['warning', 'data-connection-unanswered', '服务器试图建立数据连接', 2], keep: ['data-connection-unanswered', '服务器试图建立数据连接', '2'] }],
  dataAttempt: [
    { args: ['LIST', 'active', 'server', 20, 49315, 7, false], keep: ['LIST', '20', '49315', '7'] },
    { args: ['RETR', 'passive', 'client', 54928, 50008, 3, true], keep: ['RETR', '54928', '50008', '3', 'RST'] },
  ],
  laterFindings: [{ args: [], keep: [] }],
  tlsHandshake: [{ args: ['client', 517], keep: ['517', 'TLS', 'ClientHello'] }, { args: ['server', 1400], keep: ['1400', 'ServerHello'] }],
  tlsMessages: [{ args: ['server', ['ServerHello', 'Certificate', 'Finished'], 'TLS 1.3'], keep: ['ServerHello', 'Certificate', 'Finished', 'TLS 1.3'] }],
  tlsRecords: [{ args: ['server', 90], keep: ['90', 'TLS'] }, { args: ['server', 255, true], keep: ['255', 'TLS'] }],
};

/** The textbook comparisons, called alike. */
const textbookCalls: Record<keyof Messages['textbook'], Array<{ args: unknown[]; keep: string[] }>> = {
  alsoAcks: [{ args: ['client', 34, '331'], keep: ['34', '331'] }, { args: ['server', 15, 'PORT'], keep: ['15', 'PORT'] }, { args: ['client', 7, null], keep: ['7'] }],
  dataPort: [{ args: [33373, 33198], keep: ['33373', '33198', '33199'] }, { args: [33199, 33198], keep: ['33198'] }],
  clientOwn: [{ args: ['SYST'], keep: ['SYST'] }],
  userCommand: [{ args: ['LIST'], keep: ['LIST', 'ls', 'dir'] }, { args: ['RETR'], keep: ['RETR', 'get'] }],
  finalReply: [
    { args: [{ order: 'after', closedFirst: 'server', firstFin: 38, secondFin: 39 }], keep: ['226', '38', '39'] },
    { args: [{ order: 'during', closedFirst: 'server', firstFin: 38, secondFin: 41 }], keep: ['226', '38'] },
    { args: [{ order: 'before', closedFirst: 'client', firstFin: 50, secondFin: null }], keep: ['226', '50'] },
  ],
  title: [{ args: [], keep: [] }],
  acksRode: [{ args: [[9, 12, 27]], keep: ['9', '12', '27'] }],
  clientPorts: [{ args: [[33373, 40001], 33198], keep: ['33373', '40001', '33198'] }, { args: [[33199], 33198], keep: ['33199'] }],
  passivePorts: [{ args: [[50007, 50008]], keep: ['50007', '50008'] }],
  serverPorts: [{ args: [[20, 20]], keep: ['20'] }, { args: [[42001]], keep: ['42001', '20'] }],
  finalOrder: [{ args: [['LIST', 'RETR'], ['STOR']], keep: ['LIST', 'RETR', 'STOR', '226'] }],
  extras: [{ args: [['SYST', 'FEAT']], keep: ['SYST', 'FEAT'] }],
  asSent: [{ args: [['LIST', 'RETR']], keep: ['LIST', 'RETR', 'ls', 'get'] }],
};

test('every textbook comparison of zh answers in Chinese and keeps the values it is given', () => {
  for (const [name, list] of Object.entries(textbookCalls)) {
    for (const c of list) {
      const f = (m: Messages) => (m.textbook[name as keyof Messages['textbook']] as (...a: unknown[]) => string | null)(...c.args);
      const out = f(zh)!;
      const what = `textbook.${name}(${JSON.stringify(c.args)}) = ${out}`;
      assert.match(out, CJK, what);
      assert.doesNotMatch(out, HALF_WIDTH_IN_CHINESE, what);
      assert.notEqual(out, f(en), what);
      for (const k of c.keep) assert.ok(out.includes(k) && f(en)!.includes(k), `${what}: keeps ${JSON.stringify(k)} (in both languages)`);
    }
  }
  assert.equal(zh.textbook.userCommand('PWD'), null);
  assert.equal(en.textbook.userCommand('PWD'), null);
});

function call(m: Messages, name: Method, args: readonly unknown[]): string {
  return (m[name] as (...a: readonly unknown[]) => string)(...args);
}

test('zh has exactly the keys of en, and every one is exercised here', () => {
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
  assert.deepEqual(Object.keys(calls).sort(), Object.keys(en).filter((k) => k !== 'words' && k !== 'textbook').sort());
  assert.deepEqual(Object.keys(zh.textbook).sort(), Object.keys(en.textbook).sort());
  assert.deepEqual(Object.keys(textbookCalls).sort(), Object.keys(en.textbook).sort());
  assert.deepEqual(Object.keys(zh.words).sort(), Object.keys(en.words).sort());
});

test('the header words are Chinese', () => {
  assert.equal(zh.words.lang, 'zh');
  assert.equal(en.words.lang, 'en');
  for (const [k, v] of Object.entries(zh.words)) {
    if (k === 'lang') continue;
    const text = typeof v === 'function' ? (v as (n: number) => string)(42) : v;
    assert.match(text, CJK, `words.${k} = ${text}`);
  }
});

test('every method of zh answers in Chinese and keeps the values it is given', () => {
  for (const name of Object.keys(calls) as Method[]) {
    for (const c of calls[name] as Array<Call<Method>>) {
      const out = call(zh, name, c.args);
      const what = `${name}(${JSON.stringify(c.args)}) = ${out}`;
      assert.ok(out.length > 0, what);
      assert.match(out, CJK, what);
      assert.doesNotMatch(out, HALF_WIDTH_IN_CHINESE, what);
      assert.notEqual(out, call(en, name, c.args), what);
      for (const k of c.keep) assert.ok(out.includes(k), `${what}: keeps ${JSON.stringify(k)}`);
    }
  }
});

test('portsMoved: empty under two ports; consecutive ports noted exactly when en notes them', () => {
  assert.equal(zh.portsMoved([]), '');
  assert.equal(zh.portsMoved([33373]), '');
  const note = '按顺序分配';
  for (const ports of [[33373, 33374], [33373, 33374, 33375], [33373, 33373], [33374, 33373], [33373, 33375], [1, 2, 4], [65534, 65535]]) {
    const out = zh.portsMoved(ports);
    assert.match(out, CJK);
    assert.ok(out.includes(ports.join(' → ')), out);
    assert.equal(out.includes(note), en.portsMoved(ports).includes('each one higher'), `${ports}: ${out}`);
  }
});

// The verbs and codes that messages.ts's commandEn and replyEn explain specially (their case labels).
const VERBS = [
  'USER', 'PASS', 'ACCT', 'SYST', 'FEAT', 'PWD', 'XPWD', 'CWD', 'XCWD', 'CDUP', 'XCUP', 'TYPE', 'PORT', 'EPRT', 'LPRT', 'PASV', 'EPSV',
  'LIST', 'NLST', 'MLSD', 'RETR', 'STOR', 'STOU', 'APPE', 'SIZE', 'MDTM', 'REST', 'DELE', 'MKD', 'XMKD', 'RMD', 'XRMD', 'RNFR', 'RNTO',
  'AUTH', 'PBSZ', 'PROT', 'OPTS', 'NOOP', 'ABOR', 'QUIT',
];
const CODES = [220, 331, 230, 530, 215, 211, 257, 250, 200, 213, 227, 229, 228, 150, 125, 226, 221, 350, 425, 426, 450, 550, 500, 501, 502, 504, 234, 421];

test('the lists of verbs and codes are the case labels of en.command and en.reply', () => {
  const source = readFileSync(fileURLToPath(new URL('../../src/render/messages.ts', import.meta.url)), 'utf8');
  const commandEn = source.slice(source.indexOf('function commandEn'), source.indexOf('function replyEn'));
  const replyEn = source.slice(source.indexOf('function replyEn'));
  assert.ok(commandEn.length > 0 && replyEn.length > 0);
  assert.deepEqual([...commandEn.matchAll(/case '([A-Z]+)':/g)].map((m) => m[1]).sort(), [...VERBS].sort());
  assert.deepEqual([...replyEn.matchAll(/case (\d+):/g)].map((m) => Number(m[1])).sort(), [...CODES].sort());
});

test('every command en explains specially has its own Chinese text, not the generic one', () => {
  const UNKNOWN = 'ZZZZ';
  for (const verb of VERBS) {
    const arg = verb === 'TYPE' ? 'I' : verb === 'PROT' ? 'P' : 'x4711';
    const details: CommandDetail[] = [{ path: '/pub/file-4711' }];
    if (verb === 'PORT' || verb === 'EPRT' || verb === 'LPRT') details.push({ ...PORT_DETAIL, thirdParty: true });
    if (verb === 'PASS') details.push({ path: null, passwordHidden: true });
    for (const d of details) {
      const out = zh.command(verb, arg, d);
      const generic = zh.command(UNKNOWN, arg, d).replace(UNKNOWN, verb);
      assert.match(out, CJK, verb);
      assert.notEqual(out, generic, `${verb}: ${out}`);
      assert.doesNotMatch(out, HALF_WIDTH_IN_CHINESE, out);
    }
  }
  // The generic text itself names the command and its argument.
  assert.match(zh.command('SITE', 'CHMOD 644 a', { path: null }), /SITE.*CHMOD 644 a/);
});

test('the notes: hidden passwords, third-party PORT, NAT, port 20, TLS', () => {
  assert.ok(zh.command('PASS', '<hidden>', { path: null, passwordHidden: true }).includes('--show-passwords'));
  assert.ok(!zh.command('PASS', 'secret', { path: null, passwordHidden: false }).includes('--show-passwords'));
  const bounce = zh.command('PORT', '192,0,2,9,130,93', { path: null, listen: { address: '192.0.2.9', port: 33373, arithmetic: '130*256+93 = 33373' }, thirdParty: true });
  assert.ok(bounce.includes('第三方') && bounce.includes('bounce'), bounce);
  assert.ok(!zh.command('PORT', '10,21,0,1,130,93', PORT_DETAIL).includes('第三方'));
  const nat = zh.reply(227, 'PASV', PASV_REPLY);
  assert.ok(nat.includes('NAT') && nat.includes('192.0.2.7'), nat);
  assert.ok(!zh.reply(227, 'PASV', { ...PASV_REPLY, connectTo: { ...PASV_REPLY.connectTo!, differs: false } }).includes('NAT'));
  assert.ok(zh.handshake1DataActive(2020, 33373, { source: 'PORT', frame: 29, reply: false }, false, null).includes('端口 20'));
  assert.ok(!zh.handshake1DataActive(20, 33373, { source: 'PORT', frame: 29, reply: false }, true, null).includes('任意端口'));
  assert.ok(zh.handshake1DataActive(20, 1025, { source: 'PORT', frame: 14, reply: false }, true, '10.9.9.9').includes('第三方主机'));
  assert.ok(zh.reply(234, 'AUTH', { text: 'Proceed with negotiation.', preliminary: false }).includes('TLS'));
  assert.ok(zh.command('EPSV', '', { path: null }).includes('RFC 2428'));
});

test('every reply code en explains specially has its own Chinese text, not the generic one', () => {
  const commandsFor: Record<number, string[]> = { 220: ['<init>', 'REIN'], 530: ['PASS', 'LIST'], 257: ['PWD', 'MKD'], 213: ['SIZE', 'MDTM'], 227: ['PASV'], 228: ['LPSV'], 229: ['EPSV'], 150: ['RETR', ''], 125: ['LIST'] };
  for (const code of CODES) {
    for (const command of commandsFor[code] ?? ['NOOP', '']) {
      const passive = code === 227 || code === 228 || code === 229;
      const ds: ReplyDetail[] = [{ text: 'TXT 4711', preliminary: code < 200, directory: code === 257 && command === 'PWD' ? '/srv/ftp' : null }];
      if (passive) ds.push(PASV_REPLY);
      for (const d of ds) {
        const out = zh.reply(code, command, d);
        const unknown = code < 200 ? 199 : code < 400 ? 399 : 599;
        const generic = zh.reply(unknown, command, { ...d, connectTo: undefined }).replaceAll(String(unknown), String(code));
        const what = `${code} to ${JSON.stringify(command)}: ${out}`;
        assert.match(out, CJK, what);
        assert.ok(out.includes(String(code)), what);
        assert.notEqual(out, generic, what);
        assert.doesNotMatch(out, HALF_WIDTH_IN_CHINESE, what);
      }
    }
  }
});

test('the Chinese walkthrough of fixtures/active-ls-pwd.pcap', async () => {
  const path = fileURLToPath(new URL('../../fixtures/active-ls-pwd.pcap', import.meta.url));
  const { ftp, packets: log, capture } = await analyseCapture(path, createReadStream(path), {}, { packets: true });
  const model = maskPasswords(ftp.result());
  const ctx = new ViewContext(model, capture, log, { ...DEFAULT_VIEW_OPTIONS });
  const out = renderWalkthrough(ctx, zh);

  const s = model.sessions[0]!;
  const p = model.predictions.find((x) => x.source === 'PORT')!;
  assert.ok(p !== undefined, 'the capture announces a PORT');
  for (const k of [
    '三次握手', '四次断开', '控制连接', '数据连接', '主动模式', 'PORT', 'LIST', 'PWD', '--show-passwords',
    `FTP 会话 ${s.id}：客户端 ${s.client.address}，服务器 ${s.server.address}`,
    `临时端口（${s.client.port}）`, `端口 ${s.server.port}`,
    String(p.to.port), p.arithmetic!, p.to.address, `第 ${p.setup.frame} 帧的 PORT 命令中通告`,
  ]) assert.ok(out.includes(k), `the walkthrough has ${JSON.stringify(k)}`);
  // The explanations are Chinese: none of en's sentences, nor the English the walkthrough passes in, shows.
  for (const english of [/\bthe (client|server)\b/i, /handshake/i, /teardown/i, /acknowledges/, /in frame/, /its reply/, /the listing for/, /What this session shows/]) {
    assert.doesNotMatch(out, english);
  }
  // Every step explains itself in Chinese.
  const steps = out.split(/\n\s*\d+\. /).slice(1);
  assert.ok(steps.length > 12);
  for (const step of steps) assert.match(step, CJK, step);
});
