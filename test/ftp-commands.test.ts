/**
 * The command table: which commands open data connections, which take paths, and which reply codes may answer
 * each, checked against the command-reply lists of RFC 959 section 5.4 and the later RFCs.
 */

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { KNOWN_VERBS, commandInfo, isKnownCommand, isValidReply, commandAt, namesCommand } from '../src/ftp/commands.js';

function info(verb: string) {
  const i = commandInfo(verb);
  assert.ok(i !== undefined, `${verb} is known`);
  return i;
}

function valid(verb: string, codes: number[]): void {
  for (const c of codes) assert.equal(isValidReply(verb, c), true, `${c} answers ${verb}`);
}

function invalid(verb: string, codes: number[]): void {
  for (const c of codes) assert.equal(isValidReply(verb, c), false, `${c} does not answer ${verb}`);
}

// ---------------------------------------------------------------------------
// Coverage
// ---------------------------------------------------------------------------

describe('which commands are known', () => {
  const byRfc: Record<string, string[]> = {
    'RFC 959': ['USER', 'PASS', 'ACCT', 'CWD', 'CDUP', 'SMNT', 'REIN', 'QUIT', 'PORT', 'PASV', 'TYPE', 'STRU', 'MODE', 'RETR', 'STOR', 'STOU',
      'APPE', 'ALLO', 'REST', 'RNFR', 'RNTO', 'ABOR', 'DELE', 'RMD', 'MKD', 'PWD', 'LIST', 'NLST', 'SITE', 'SYST', 'STAT', 'HELP', 'NOOP'],
    'RFC 2228': ['AUTH', 'ADAT', 'PROT', 'PBSZ', 'CCC', 'MIC', 'CONF', 'ENC'],
    'RFC 2389': ['FEAT', 'OPTS'],
    'RFC 2428': ['EPRT', 'EPSV'],
    'RFC 2640': ['LANG'],
    'RFC 3659': ['SIZE', 'MDTM', 'MLST', 'MLSD'],
    'RFC 1639': ['LPRT', 'LPSV'],
    'RFC 7151': ['HOST'],
    'RFC 775': ['XPWD', 'XCWD', 'XCUP', 'XMKD', 'XRMD'],
  };
  for (const [rfc, verbs] of Object.entries(byRfc)) {
    test(`every command of ${rfc}, with the RFC as its source`, () => {
      for (const v of verbs) {
        assert.ok(isKnownCommand(v), v);
        assert.ok(info(v).source.includes(rfc), `${v}: ${info(v).source}`);
        assert.ok(KNOWN_VERBS.includes(v), v);
      }
    });
  }

  test('common extensions: CLNT AVBL MFMT MFCT', () => {
    for (const v of ['CLNT', 'AVBL', 'MFMT', 'MFCT']) assert.ok(isKnownCommand(v), v);
  });

  test('verbs are case-insensitive; the answer always carries the upper-case verb', () => {
    assert.equal(info('retr').verb, 'RETR');
    assert.equal(info('Retr'), info('RETR'));
    assert.equal(info('mLsD').data, 'listing');
    assert.ok(isValidReply('stor', 150));
  });

  test('unknown verbs, and names that an object would answer to', () => {
    for (const v of ['', 'XYZZY', 'RETRX', 'RET', 'constructor', 'toString', '__proto__', 'hasOwnProperty', 'GET', 'SITE CHMOD']) {
      assert.equal(commandInfo(v), undefined, JSON.stringify(v));
      assert.equal(isKnownCommand(v), false, JSON.stringify(v));
    }
    assert.equal(commandInfo(undefined as unknown as string), undefined);
  });

  test('the table cannot be changed', () => {
    const i = info('RETR');
    assert.ok(Object.isFrozen(i));
    assert.ok(Object.isFrozen(i.replies));
    assert.ok(Object.isFrozen(KNOWN_VERBS));
    assert.throws(() => (i.replies as number[]).push(999));
    assert.throws(() => ((i as { data?: string }).data = 'upload'));
  });

  test('reply lists are sorted, unique, and three-digit codes', () => {
    for (const v of KNOWN_VERBS) {
      const r = info(v).replies;
      assert.ok(r.length > 0, v);
      for (let k = 0; k < r.length; k++) {
        assert.ok(Number.isInteger(r[k]) && r[k]! >= 100 && r[k]! <= 699, `${v}: ${r[k]}`);
        if (k > 0) assert.ok(r[k - 1]! < r[k]!, `${v}: sorted and unique`);
      }
    }
  });
});

// ---------------------------------------------------------------------------
// Data connections and paths
// ---------------------------------------------------------------------------

describe('data connections and path arguments', () => {
  test('RETR downloads; STOR, STOU and APPE upload; LIST, NLST and MLSD list', () => {
    const want: Record<string, string> = { RETR: 'download', STOR: 'upload', STOU: 'upload', APPE: 'upload', LIST: 'listing', NLST: 'listing', MLSD: 'listing' };
    for (const [v, use] of Object.entries(want)) assert.equal(info(v).data, use, v);
    for (const v of KNOWN_VERBS) if (!(v in want)) assert.equal(info(v).data, undefined, `${v} uses no data connection`);
  });

  test('"MLST ... without opening a data connection" (RFC 3659 section 7.1): MLST has none, MLSD has one', () => {
    assert.equal(info('MLST').data, undefined);
    assert.equal(info('MLSD').data, 'listing');
  });

  test('commands whose argument is a path', () => {
    for (const v of ['RETR', 'STOR', 'STOU', 'APPE', 'DELE', 'MKD', 'RMD', 'CWD', 'SIZE', 'MDTM', 'RNFR', 'RNTO', 'LIST', 'NLST', 'MLSD', 'MLST',
      'SMNT', 'XMKD', 'XRMD', 'XCWD', 'STAT']) {
      assert.equal(info(v).pathArg, true, v);
    }
  });

  test('commands whose argument is not a path', () => {
    for (const v of ['USER', 'PASS', 'ACCT', 'PORT', 'EPRT', 'LPRT', 'PASV', 'EPSV', 'TYPE', 'MODE', 'STRU', 'REST', 'ALLO', 'SITE', 'HELP', 'OPTS',
      'FEAT', 'AUTH', 'PROT', 'PBSZ', 'LANG', 'HOST', 'CDUP', 'XCUP', 'PWD', 'XPWD', 'QUIT', 'NOOP', 'ABOR', 'SYST', 'MFMT', 'MFCT', 'CLNT']) {
      assert.equal(info(v).pathArg, false, v);
    }
  });
});

// ---------------------------------------------------------------------------
// Replies: RFC 959 section 5.4
// ---------------------------------------------------------------------------

describe('RFC 959 section 5.4 command-reply sequences', () => {
  test('"421 ... This may be a reply to any command if the service knows it must shut down" (4.2.1)', () => {
    for (const v of KNOWN_VERBS) assert.ok(isValidReply(v, 421), v);
  });

  test('500 and 501 (syntax errors) and 502 (not implemented) can answer every command', () => {
    for (const v of KNOWN_VERBS) valid(v, [500, 501, 502]);
  });

  test('USER: 230 / 530 / 500, 501, 421 / 331, 332; and RFC 2228 adds 232 and 336', () => {
    valid('USER', [230, 530, 500, 501, 421, 331, 332, 232, 336]);
    invalid('USER', [150, 200, 226, 250, 257, 350, 550]);
  });

  test('PASS: 230 / 202 / 530 / 500, 501, 503, 421 / 332', () => {
    valid('PASS', [230, 202, 530, 500, 501, 503, 421, 332]);
    invalid('PASS', [331, 200, 226, 550]);
  });

  test('CWD: 250 / 500, 501, 502, 421, 530, 550; Appendix II answers it "200 directory changed to /usr/dm"', () => {
    valid('CWD', [250, 200, 550, 530]);
    valid('XCWD', [250, 200, 550]);
    invalid('CWD', [150, 226, 257, 350, 450]);
  });

  test('CDUP: 200 in 5.4, and "The reply codes shall be identical to the reply codes of CWD" (4.1.1), so 250 too', () => {
    valid('CDUP', [200, 250, 550]);
    valid('XCUP', [200, 250, 550]);
    invalid('CDUP', [257, 226]);
  });

  test('REIN: 120 (then 220) / 220 / 421 / 500, 502', () => {
    valid('REIN', [120, 220, 421, 500, 502]);
    invalid('REIN', [200, 230]);
  });

  test('QUIT: 221 / 500', () => {
    valid('QUIT', [221, 500]);
    invalid('QUIT', [200, 226, 250]);
  });

  test('PORT: 200 / 500, 501, 421, 530 — and never 227', () => {
    valid('PORT', [200, 500, 501, 421, 530]);
    invalid('PORT', [227, 229, 150, 425]);
  });

  test('PASV: 227 / 500, 501, 502, 421, 530 — and never 200 or 229', () => {
    valid('PASV', [227, 500, 501, 502, 421, 530]);
    invalid('PASV', [200, 228, 229, 150]);
  });

  test('TYPE, MODE, STRU: 200 / 500, 501, 504, 421, 530', () => {
    for (const v of ['TYPE', 'MODE', 'STRU']) {
      valid(v, [200, 504]);
      invalid(v, [227, 250, 550]);
    }
  });

  test('REST: 500, 501, 502, 421, 530 / 350 — never 200 or 150', () => {
    valid('REST', [350, 500, 501, 502, 421, 530]);
    invalid('REST', [200, 150, 226, 550]);
  });

  test('RETR: 125, 150 then (110) 226, 250, 425, 426, 451 / 450, 550 / 500, 501, 421, 530', () => {
    valid('RETR', [125, 150, 110, 226, 250, 425, 426, 451, 450, 550, 500, 501, 421, 530]);
    invalid('RETR', [200, 227, 257, 331, 350, 552]);
  });

  test('codes real servers send beyond the RFC lists, each with its reason in the table', () => {
    // Pure-FTPd (src/ftpd.c): OPTS but MLST 504; PASV, EPSV 425; REST 504, 554; RETR 503, 553; STOR, APPE 503;
    // CWD, DELE, RMD, RNFR, MDTM 553; MKD, ALLO 552.
    valid('OPTS', [504]);
    valid('PASV', [425]);
    valid('EPSV', [425]);
    valid('REST', [504, 554]);
    valid('RETR', [503, 553]);
    for (const v of ['STOR', 'STOU', 'APPE']) valid(v, [503]);
    for (const v of ['CWD', 'XCWD', 'DELE', 'RMD', 'XRMD', 'RNFR', 'MDTM', 'MFMT']) valid(v, [553]);
    valid('MKD', [552]);
    valid('ALLO', [552]);
    assert.match(info('OPTS').source, /Pure-FTPd/);
    // vsftpd (postlogin.c): "550 Permission denied." to the commands its configuration turns off.
    for (const v of ['PASV', 'PORT', 'EPSV', 'EPRT', 'ALLO', 'REIN', 'ACCT', 'SMNT', 'FEAT', 'OPTS', 'STAT', 'PBSZ', 'PROT']) valid(v, [550]);
  });

  test('namesCommand: the codes that answer only some kinds of command, and those that say nothing of it', () => {
    for (const c of [110, 125, 150, 199, 211, 213, 215, 221, 225, 226, 227, 228, 229, 230, 234, 257, 331, 350, 425, 426]) assert.equal(namesCommand(c), true, String(c));
    for (const c of [200, 202, 250, 421, 450, 451, 452, 500, 501, 502, 503, 504, 530, 550, 552, 553, 631]) assert.equal(namesCommand(c), false, String(c));
  });

  test('RETR after REST: "A 554 reply may result from a FTP service command that follows a REST command" (RFC 1123 4.1.3.4)', () => {
    valid('RETR', [554]);
    valid('STOR', [554]);
    valid('APPE', [554]);
  });

  test('STOR and STOU: 125, 150 then (110) 226, 250, 425, 426, 451, 551, 552 / 532, 450, 452, 553 / 500, 501, 421, 530', () => {
    for (const v of ['STOR', 'STOU']) {
      valid(v, [125, 150, 110, 226, 250, 425, 426, 451, 551, 552, 532, 450, 452, 553, 500, 501, 421, 530]);
      // 550 is not in 5.4's STOR list but servers refuse stores with it ("550 Permission denied").
      valid(v, [550]);
      invalid(v, [200, 213, 227, 257, 350]);
    }
  });

  test('APPE: as STOR, and 550 and 502 are in its own list', () => {
    valid('APPE', [125, 150, 110, 226, 250, 425, 426, 451, 551, 552, 532, 450, 550, 452, 553, 500, 501, 502, 421, 530]);
    invalid('APPE', [200, 257]);
  });

  test('LIST and NLST: 125, 150 then 226, 250, 425, 426, 451 / 450 / 500, 501, 502, 421, 530 — no 110 restart marker', () => {
    for (const v of ['LIST', 'NLST']) {
      valid(v, [125, 150, 226, 250, 425, 426, 451, 450, 500, 501, 502, 421, 530]);
      invalid(v, [110, 200, 213, 227, 257, 552]);
    }
  });

  test('RNFR: 450, 550 / 500, 501, 502, 421, 530 / 350; RNTO: 250 / 532, 553 / 500, 501, 502, 503, 421, 530', () => {
    valid('RNFR', [350, 450, 550]);
    invalid('RNFR', [250, 200]);
    valid('RNTO', [250, 532, 553, 503]);
    invalid('RNTO', [350, 200, 226]);
  });

  test('DELE: 250 / 450, 550; RMD "identical to the reply codes for its file analogue, DELE" (Appendix II)', () => {
    valid('DELE', [250, 450, 550]);
    invalid('DELE', [257, 200, 226]);
    valid('RMD', [250, 450, 550]);
    valid('XRMD', [250, 450, 550]);
    invalid('RMD', [257]);
  });

  test('MKD: 257 / 500, 501, 502, 421, 530, 550; Appendix II: \'521-"/usr/dm/pathname" directory already exists;\'', () => {
    valid('MKD', [257, 550, 521]);
    valid('XMKD', [257, 550, 521]);
    invalid('MKD', [250, 200, 226]);
  });

  test('PWD: 257 / 500, 501, 502, 421, 550', () => {
    valid('PWD', [257, 550]);
    valid('XPWD', [257, 550]);
    invalid('PWD', [250, 200]);
  });

  test('ABOR: 225, 226 / 500, 501, 502, 421 (the 426 answers the aborted command)', () => {
    valid('ABOR', [225, 226]);
    invalid('ABOR', [426, 150, 250]);
  });

  test('SYST 215; STAT 211, 212, 213 / 450; HELP 211, 214; NOOP 200', () => {
    valid('SYST', [215]);
    invalid('SYST', [200, 211]);
    valid('STAT', [211, 212, 213, 450]);
    invalid('STAT', [150, 226]);
    valid('HELP', [211, 214]);
    invalid('HELP', [200, 215]);
    valid('NOOP', [200]);
    invalid('NOOP', [250, 226]);
  });

  test('ALLO: 200 / 202 / 500, 501, 504, 421, 530 — "202 Command not implemented, superfluous at this site"', () => {
    valid('ALLO', [200, 202, 504]);
    valid('SMNT', [202, 250]);
    valid('ACCT', [202, 230]);
    invalid('ALLO', [150, 226]);
    invalid('RETR', [202]);
  });

  test('SITE: its subcommands are the server\'s own, so any reply answers it', () => {
    for (const c of [100, 150, 200, 202, 214, 250, 257, 350, 421, 500, 550, 599]) assert.ok(isValidReply('SITE', c), String(c));
    invalid('SITE', [99, 600, 1000, 200.5]);
    assert.equal(info('SITE').anyReply, true);
    assert.equal(info('RETR').anyReply, undefined);
  });
});

// ---------------------------------------------------------------------------
// Replies: the later RFCs
// ---------------------------------------------------------------------------

describe('reply codes from the later RFCs', () => {
  test('RFC 2228 8.2: AUTH 234 / 334 / 502, 504, 534, 431; ADAT 235 / 335 / 503, 501, 535', () => {
    valid('AUTH', [234, 334, 502, 504, 534, 431, 533]);
    invalid('AUTH', [200, 230, 235]);
    valid('ADAT', [235, 335, 503, 535]);
    invalid('ADAT', [234]);
  });

  test('RFC 2228 8.2: PBSZ 200 / 503; PROT 200 / 504, 536, 503, 534, 431; CCC 200, 533, 534', () => {
    valid('PBSZ', [200, 503]);
    valid('PROT', [200, 504, 536, 503, 534, 431]);
    valid('CCC', [200, 533, 534]);
    invalid('PBSZ', [234, 226]);
    invalid('PROT', [226]);
  });

  test('RFC 2228 8.2: MIC, CONF, ENC 535, 533; and "Any ftp command can return a reply code encapsulated in a 631, 632, or 633 reply"', () => {
    for (const v of ['MIC', 'CONF', 'ENC']) valid(v, [535, 533, 631, 632, 633]);
    for (const v of KNOWN_VERBS) valid(v, [631, 632, 633]);
  });

  test('RFC 2228 8.2: data channel commands add 534, 535; RFC 4217 adds 521 and 522 for a refused PROT level or TLS', () => {
    for (const v of ['STOR', 'STOU', 'RETR', 'LIST', 'NLST', 'APPE']) valid(v, [534, 535, 521, 522]);
  });

  test('RFC 2389: FEAT 211 (500 or 502 when unknown); OPTS "opts-good" 200, "opts-bad" 451 or 501', () => {
    valid('FEAT', [211, 500, 502]);
    invalid('FEAT', [200, 214]);
    valid('OPTS', [200, 451, 501]);
    invalid('OPTS', [211, 250]);
  });

  test('RFC 2428: EPRT 200 / 522 "Network protocol not supported"; EPSV 229 / 522', () => {
    valid('EPRT', [200, 500, 501, 522]);
    invalid('EPRT', [227, 229]);
    valid('EPSV', [229, 522]);
    valid('EPSV', [200]); // "EPSV ALL"
    invalid('EPSV', [227, 228]);
  });

  test('RFC 2640: LANG "lang-ok" 200, or 500, 501, 502, 504', () => {
    valid('LANG', [200, 500, 501, 502, 504]);
    invalid('LANG', [211]);
  });

  test('RFC 3659: SIZE and MDTM "213" SP ... or 550; MLST 250; MLSD 150 then 226', () => {
    valid('SIZE', [213, 550, 500, 501]);
    valid('MDTM', [213, 550]);
    invalid('SIZE', [200, 211, 250]);
    valid('MLST', [250, 501, 550]);
    invalid('MLST', [150, 226]);
    valid('MLSD', [150, 125, 226, 250, 425, 426, 501, 550]);
    invalid('MLSD', [200, 213]);
  });

  test('RFC 1639: LPRT 200 / 521; LPSV 228 / 521', () => {
    valid('LPRT', [200, 521]);
    invalid('LPRT', [228, 227]);
    valid('LPSV', [228, 521]);
    invalid('LPSV', [227, 229, 200]);
  });

  test('RFC 7151: HOST "host-ok" 220, 421 when unavailable, 503 after login, 504 unknown, 501 invalid', () => {
    valid('HOST', [220, 421, 501, 503, 504, 500, 502]);
    invalid('HOST', [200, 230]);
  });

  test('extensions: MFMT and MFCT 213 or 550; AVBL 213; CLNT 200', () => {
    valid('MFMT', [213, 550]);
    valid('MFCT', [213, 550]);
    valid('AVBL', [213, 550]);
    valid('CLNT', [200]);
    invalid('MFMT', [200, 250]);
  });
});

// ---------------------------------------------------------------------------
// isValidReply's edges
// ---------------------------------------------------------------------------

describe('isValidReply edges', () => {
  test('unknown verbs: any code from 100 to 599', () => {
    for (const c of [100, 150, 200, 226, 331, 421, 500, 599]) assert.ok(isValidReply('XYZZY', c), String(c));
    for (const c of [0, 99, 600, 631, 999, -200, 150.5, NaN, Infinity]) assert.equal(isValidReply('XYZZY', c), false, String(c));
    assert.ok(isValidReply('', 200));
  });

  test('known verbs refuse codes that are not whole numbers', () => {
    for (const c of [NaN, Infinity, 226.1, -226]) assert.equal(isValidReply('RETR', c), false, String(c));
    assert.equal(isValidReply('RETR', '226' as unknown as number), false);
  });

  test('530 "Not logged in" can answer anything, since servers ask for login first', () => {
    for (const v of KNOWN_VERBS) assert.ok(isValidReply(v, 530), v);
  });
});

test('commandAt finds a line\'s verb by its letters, in any case, as commandInfo does', () => {
  for (const verb of KNOWN_VERBS) {
    for (const v of [verb, verb.toLowerCase(), verb[0]!.toLowerCase() + verb.slice(1)]) {
      assert.equal(commandAt(`${v} some argument`, v.length), commandInfo(verb), v);
      assert.equal(commandAt(v, v.length), commandInfo(verb), v);
    }
  }
  for (const line of ['', 'RE', 'RETRX', 'R3TR', 'RET@', 'RE[R', 'ÀPPE', 'RETR']) {
    const end = line === 'RETR' ? 3 : line.length; // "RET" is no verb
    assert.equal(commandAt(line, end), undefined, JSON.stringify(line));
  }
});
