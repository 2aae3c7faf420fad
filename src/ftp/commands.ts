/**
 * What each FTP command is: the data connection it uses, whether its argument is a path, the reply codes that
 * can answer it, and where it is defined.
 *
 * Reply codes come from the command-reply lists of the RFCs: RFC 959 section 5.4 (with its section 4 and
 * Appendix II where they say more), RFC 2228 section 8.2, and the text of RFC 1639, 2389, 2428, 2640, 3659,
 * 4217 and 7151. Where servers in everyday use answer with a code the lists leave out, the code is added and
 * the reason given beside it.
 *
 * Every command's list also holds the replies that can answer any command:
 *  - 421: "This may be a reply to any command if the service knows it must shut down" (RFC 959 section 4.2.1);
 *  - 500, 501: syntax errors, and 502, the server does not have the command (RFC 959 section 4.2.1), for any command;
 *  - 530 "Not logged in": servers refuse nearly every command before login with it;
 *  - 631, 632, 633: "Any ftp command can return a reply code encapsulated in a 631, 632, or 633 reply once a
 *    security data exchange has completed successfully" (RFC 2228 section 8.2).
 */

export type DataUse = 'download' | 'upload' | 'listing';

export interface CommandInfo {
  verb: string;
  /** The data connection it uses, if any: RETR download; STOR, STOU, APPE upload; LIST, NLST, MLSD listing. */
  data?: DataUse;
  /** Its argument (when it has one) is a path. */
  pathArg: boolean;
  /** Reply codes that can answer it, ascending, including 1xx preliminary replies and the replies to every command. */
  replies: readonly number[];
  /** Where it is defined, e.g. "RFC 959". */
  source: string;
  /** Any reply code from 100 to 599 can answer it (SITE: its subcommands are the server's own). */
  anyReply?: boolean;
}

/** Replies that can answer any command (see the head of this file). */
const EVERY_COMMAND = Object.freeze([421, 500, 501, 502, 530, 631, 632, 633]);

// Reply groups shared by several commands.

/** RFC 2228 section 8.2, "Data channel commands (only new replies listed)": STOR STOU RETR LIST NLST APPE. */
const SECURITY_DATA = Object.freeze([534, 535]);
/**
 * RFC 4217 section 11.3: "521 data connection cannot be opened with this PROT setting", and 522 when the TLS
 * negotiation on the data connection fails; for STOR RETR NLST LIST STOU APPE (and MLSD, a listing like them).
 */
const TLS_DATA = Object.freeze([521, 522]);
/** RFC 2228 section 8.2: "any security command can return 500, 501, 502, 533, or 421." */
const SECURITY_COMMAND = Object.freeze([500, 501, 502, 533, 421]);
/**
 * RFC 1123 section 4.1.3.4: "A 554 reply may result from a FTP service command that follows a REST command",
 * when the file cannot be repositioned.
 */
const AFTER_REST = Object.freeze([554]);

interface Spec {
  data?: DataUse;
  pathArg?: boolean;
  replies: readonly number[];
  source: string;
  anyReply?: boolean;
}

// ---------------------------------------------------------------------------
// RFC 959 (section 5.4 lists, in its order)
// ---------------------------------------------------------------------------

const CWD_REPLIES = [
  250, 500, 501, 502, 421, 530, 550,
  // Appendix II answers CWD with "200 directory changed to /usr/dm", and section 4.1.1 gives CDUP (200 in 5.4)
  // "the reply codes of CWD": 200 and 250 both answer either.
  200,
  553, // Pure-FTPd: "553 Prohibited directory name"
];

const CDUP_REPLIES = [200, 500, 501, 502, 421, 530, 550, 250 /* section 4.1.1: "identical to the reply codes of CWD" */];

const RMD_REPLIES = [
  250, 500, 501, 502, 421, 530, 550, 450, // Appendix II: "identical to the reply codes for ... DELE"
  553, // Pure-FTPd: "553 Prohibited directory name"
];

const MKD_REPLIES = [
  257, 500, 501, 502, 421, 530, 550,
  521, // Appendix II: '521-"/usr/dm/pathname" directory already exists;'
  532, 450, 452, 553, // Appendix II: "The failure replies for MKD are analogous to its file creating cousin, STOR."
  552, // STOR's too (its cousin); Pure-FTPd: "552 Quota exceeded"
];

const PWD_REPLIES = [257, 500, 501, 502, 421, 550];

const STOR_REPLIES = [
  125, 150, 110, 226, 250, 425, 426, 451, 551, 552, 532, 450, 452, 553, 500, 501, 421, 530,
  550, // not in 5.4's STOR list, but in APPE's; servers refuse a store with it ("550 Permission denied")
  503, // Pure-FTPd: "503 No ASCII resume" (a REST before it in ASCII mode: a bad sequence of commands)
  ...SECURITY_DATA, ...TLS_DATA,
];

const LIST_REPLIES = [
  125, 150, 226, 250, 425, 426, 451, 450, 500, 501, 502, 421, 530,
  550, // not in 5.4's list; servers answer a listing of a missing path with it
  ...SECURITY_DATA, ...TLS_DATA,
];

/**
 * 202, the command is superfluous at this site (RFC 959 section 4.2.1): 5.4 lists it for PASS, ACCT,
 * SMNT, ALLO and SITE; servers also send it for options they always have on.
 */
const SUPERFLUOUS = 202;

/**
 * vsftpd answers "550 Permission denied." to the commands its configuration turns off (pasv_enable,
 * port_enable, ssl_enable ... : postlogin.c falls through to that reply for PASV, PORT, EPSV, EPRT, ALLO,
 * REIN, ACCT, SMNT, FEAT, OPTS, STAT, PBSZ, PROT and the write commands, whose lists have 550 already).
 */
const TURNED_OFF = 550;

const TABLE: Record<string, Spec> = {
  // Access control (RFC 959 section 4.1.1), with RFC 2228's new login replies.
  USER: { replies: [230, 530, 500, 501, 421, 331, 332, 232, 336], source: 'RFC 959; 232 and 336 from RFC 2228' },
  PASS: { replies: [230, 202, 530, 500, 501, 503, 421, 332], source: 'RFC 959' },
  ACCT: { replies: [230, 202, 530, 500, 501, 503, 421, TURNED_OFF], source: 'RFC 959; 550 from vsftpd' },
  CWD: { pathArg: true, replies: CWD_REPLIES, source: 'RFC 959' },
  CDUP: { replies: CDUP_REPLIES, source: 'RFC 959' },
  SMNT: { pathArg: true, replies: [202, 250, 500, 501, 502, 421, 530, 550], source: 'RFC 959' },
  REIN: { replies: [120, 220, 421, 500, 502, TURNED_OFF], source: 'RFC 959; 550 from vsftpd' },
  QUIT: { replies: [221, 500], source: 'RFC 959' },

  // Transfer parameters (section 4.1.2).
  PORT: { replies: [200, 500, 501, 421, 530, TURNED_OFF], source: 'RFC 959; 550 from vsftpd' },
  // Pure-FTPd: "425 You cannot use PASV on IPv6 connections. Use EPSV instead." (no passive socket to offer).
  PASV: { replies: [227, 500, 501, 502, 421, 530, 425, TURNED_OFF], source: 'RFC 959; 425 from Pure-FTPd, 550 from vsftpd' },
  MODE: { replies: [200, 500, 501, 504, 421, 530], source: 'RFC 959' },
  TYPE: { replies: [200, 500, 501, 504, 421, 530], source: 'RFC 959' },
  STRU: { replies: [200, 500, 501, 504, 421, 530], source: 'RFC 959' },

  // File actions (section 4.1.3).
  // Pure-FTPd: "552" when the space asked for is not there.
  ALLO: { replies: [200, 202, 500, 501, 504, 421, 530, 552, TURNED_OFF], source: 'RFC 959; 552 from Pure-FTPd, 550 from vsftpd' },
  // Pure-FTPd: "554 REST needs a numeric parameter", "504 Reply marker must be 0 in ASCII mode".
  REST: { replies: [500, 501, 502, 421, 530, 350, 504, 554], source: 'RFC 959; stream mode in RFC 3659; 504 and 554 from Pure-FTPd' },
  STOR: { data: 'upload', pathArg: true, replies: [...STOR_REPLIES, ...AFTER_REST], source: 'RFC 959' },
  // RFC 959 gives STOU no argument; clients that send one send a file name.
  STOU: { data: 'upload', pathArg: true, replies: STOR_REPLIES, source: 'RFC 959' },
  RETR: {
    data: 'download',
    pathArg: true,
    replies: [
      125, 150, 110, 226, 250, 425, 426, 451, 450, 550, 500, 501, 421, 530, ...SECURITY_DATA, ...TLS_DATA, ...AFTER_REST,
      503, 553, // Pure-FTPd: "503 No ASCII resume", "553 Prohibited file name"
    ],
    source: 'RFC 959; 503 and 553 from Pure-FTPd',
  },
  LIST: { data: 'listing', pathArg: true, replies: LIST_REPLIES, source: 'RFC 959' },
  NLST: { data: 'listing', pathArg: true, replies: LIST_REPLIES, source: 'RFC 959' },
  APPE: {
    data: 'upload',
    pathArg: true,
    replies: [
      125, 150, 110, 226, 250, 425, 426, 451, 551, 552, 532, 450, 550, 452, 553, 500, 501, 502, 421, 530, ...SECURITY_DATA, ...TLS_DATA, ...AFTER_REST,
      503, // as STOR (Pure-FTPd: "503 No ASCII resume")
    ],
    source: 'RFC 959',
  },
  RNFR: { pathArg: true, replies: [450, 550, 500, 501, 502, 421, 530, 350, 553 /* Pure-FTPd: "553 Prohibited file name" */], source: 'RFC 959' },
  RNTO: {
    pathArg: true,
    replies: [250, 532, 553, 500, 501, 502, 503, 421, 530, 550 /* servers report a failed rename with it */],
    source: 'RFC 959',
  },
  DELE: { pathArg: true, replies: [250, 450, 550, 500, 501, 502, 421, 530, 553 /* Pure-FTPd: "553 Prohibited file name" */], source: 'RFC 959' },
  RMD: { pathArg: true, replies: RMD_REPLIES, source: 'RFC 959' },
  MKD: { pathArg: true, replies: MKD_REPLIES, source: 'RFC 959' },
  PWD: { replies: PWD_REPLIES, source: 'RFC 959' },
  // The 426 after ABOR answers the aborted transfer command, not ABOR (section 4.1.3).
  ABOR: { replies: [225, 226, 500, 501, 502, 421], source: 'RFC 959' },

  // Informational and miscellaneous.
  SYST: { replies: [215, 500, 501, 502, 421], source: 'RFC 959' },
  // With a path, STAT lists it over the control connection (section 4.1.3).
  STAT: { pathArg: true, replies: [211, 212, 213, 450, 500, 501, 502, 421, 530, TURNED_OFF], source: 'RFC 959; 550 from vsftpd' },
  HELP: { replies: [211, 214, 500, 501, 502, 421], source: 'RFC 959' },
  SITE: { replies: [200, 202, 500, 501, 530], anyReply: true, source: 'RFC 959; its subcommands (CHMOD, UMASK, ...) are each server\'s own' },
  NOOP: { replies: [200, 500, 421], source: 'RFC 959' },

  // RFC 775's experimental directory commands, still sent by some clients (RFC 1123 section 4.1.3.1).
  XCWD: { pathArg: true, replies: CWD_REPLIES, source: 'RFC 775 (RFC 1123 section 4.1.3.1)' },
  XCUP: { replies: CDUP_REPLIES, source: 'RFC 775 (RFC 1123 section 4.1.3.1)' },
  XMKD: { pathArg: true, replies: MKD_REPLIES, source: 'RFC 775 (RFC 1123 section 4.1.3.1)' },
  XRMD: { pathArg: true, replies: RMD_REPLIES, source: 'RFC 775 (RFC 1123 section 4.1.3.1)' },
  XPWD: { replies: PWD_REPLIES, source: 'RFC 775 (RFC 1123 section 4.1.3.1)' },

  // RFC 2228 security extensions (section 8.2), with RFC 4217 (FTP over TLS) for AUTH TLS, PBSZ 0, PROT P, CCC.
  AUTH: { replies: [234, 334, 502, 504, 534, 431, ...SECURITY_COMMAND], source: 'RFC 2228; RFC 4217' },
  ADAT: { replies: [235, 335, 503, 501, 535, ...SECURITY_COMMAND], source: 'RFC 2228' },
  PBSZ: { replies: [200, 503, 530, ...SECURITY_COMMAND, TURNED_OFF], source: 'RFC 2228; RFC 4217; 550 from vsftpd' },
  PROT: { replies: [200, 504, 536, 503, 534, 431, 530, ...SECURITY_COMMAND, TURNED_OFF], source: 'RFC 2228; RFC 4217; 550 from vsftpd' },
  // Section 3: 533 when CCC is not integrity-protected, 534 when the server will not, else 200.
  CCC: { replies: [200, 533, 534, ...SECURITY_COMMAND], source: 'RFC 2228; RFC 4217' },
  // Section 3: 502 when only CCC is accepted, 503 before a security exchange, 537 unsupported, 535 failed check.
  MIC: { replies: [535, 533, 502, 503, 537, ...SECURITY_COMMAND], source: 'RFC 2228' },
  CONF: { replies: [535, 533, 502, 503, 537, ...SECURITY_COMMAND], source: 'RFC 2228' },
  ENC: { replies: [535, 533, 502, 503, 537, ...SECURITY_COMMAND], source: 'RFC 2228' },

  // RFC 2389 feature negotiation: FEAT 211 (or 500/502 when unknown), OPTS 200, 451 or 501.
  FEAT: { replies: [211, 500, 501, 502, TURNED_OFF], source: 'RFC 2389; 550 from vsftpd' },
  OPTS: {
    replies: [
      200, 451, 501, 500, 502,
      SUPERFLUOUS, // "OPTS UTF8 ON" on servers always in UTF-8
      504, // Pure-FTPd answers every option but MLST "504 Unknown command" (RFC 959's 504: a parameter it does not support)
      TURNED_OFF,
    ],
    source: 'RFC 2389; 504 from Pure-FTPd, 550 from vsftpd',
  },

  // RFC 2428 IPv6 and NAT: 522 "Network protocol not supported".
  EPRT: { replies: [200, 500, 501, 522, TURNED_OFF], source: 'RFC 2428; 550 from vsftpd' },
  // "EPSV ALL" is answered 200 by servers (RFC 2428 gives it no code); "EPSV <proto>" may get 522.
  // Pure-FTPd: "425" when no passive port is free.
  EPSV: { replies: [229, 500, 501, 522, 200, 425, TURNED_OFF], source: 'RFC 2428; 425 from Pure-FTPd, 550 from vsftpd' },

  // RFC 2640 internationalization.
  LANG: { replies: [200, 500, 501, 502, 504], source: 'RFC 2640' },

  // RFC 3659: "Various 4xy replies are also possible" for SIZE and MDTM; MLSx errors in section 7.2.1.
  SIZE: { pathArg: true, replies: [213, 550, 500, 501, 450, 451], source: 'RFC 3659' },
  // Pure-FTPd sets the time with "MDTM time file" and refuses a name with "553 Prohibited file name".
  MDTM: { pathArg: true, replies: [213, 550, 500, 501, 450, 451, 553], source: 'RFC 3659; 553 from Pure-FTPd' },
  MLST: { pathArg: true, replies: [250, 500, 501, 550, 530, 553, 503, 504, 450, 451, 452], source: 'RFC 3659' },
  MLSD: {
    data: 'listing',
    pathArg: true,
    replies: [125, 150, 226, 250, 425, 426, 451, 450, 500, 501, 550, 530, 553, 503, 504, ...SECURITY_DATA, ...TLS_DATA],
    source: 'RFC 3659',
  },

  // RFC 1639 (FOOBAR): 521 "Supported address families are (af1, af2, ..., afn)".
  LPRT: { replies: [200, 500, 501, 521], source: 'RFC 1639' },
  LPSV: { replies: [228, 500, 501, 521], source: 'RFC 1639' },

  // RFC 7151 virtual hosts: 220 accepted, 421 temporarily unavailable, 503 after login, 504 unknown host.
  HOST: { replies: [220, 421, 500, 501, 502, 503, 504], source: 'RFC 7151' },

  // Common extensions without an RFC.
  CLNT: { replies: [200, 500, 501, 502], source: 'common extension: the client names itself' },
  AVBL: { pathArg: true, replies: [213, 450, 451, 501, 504, 550], source: 'draft-peterson-streamlined-ftp-command-extensions: space available' },
  // The argument is a time and then the path ("MFMT 20200101120000 file"), so not a path alone.
  MFMT: { replies: [213, 550, 500, 501, 450, 451, 553], source: 'draft-somers-ftp-mfxx: set modification time; 553 as MDTM' },
  MFCT: { replies: [213, 550, 500, 501, 450, 451], source: 'draft-somers-ftp-mfxx: set creation time' },
};

function build(verb: string, spec: Spec): CommandInfo {
  const replies = Object.freeze([...new Set([...spec.replies, ...EVERY_COMMAND])].sort((a, b) => a - b));
  const info: CommandInfo = { verb, pathArg: spec.pathArg ?? false, replies, source: spec.source };
  if (spec.data !== undefined) info.data = spec.data;
  if (spec.anyReply) info.anyReply = true;
  return Object.freeze(info);
}

const COMMANDS: ReadonlyMap<string, CommandInfo> = new Map(Object.entries(TABLE).map(([verb, spec]) => [verb, build(verb, spec)]));

/** Known verbs by their letters as a number (see verbKey): every verb in the table has 3 or 4 letters. */
const BY_KEY: ReadonlyMap<number, CommandInfo> = new Map([...COMMANDS].map(([verb, info]) => [verbKey(verb, 0, verb.length), info]));

/**
 * The letters of s[from, to), upper-cased, as one number (5 bits a letter), or -1 when they are not 3
 * or 4 letters. Looking a verb up by it needs neither a new string nor a string hash.
 */
function verbKey(s: string, from: number, to: number): number {
  const n = to - from;
  if (n < 3 || n > 4) return -1;
  let key = n;
  for (let i = from; i < to && key >= 0; i++) key = withLetter(key, s.charCodeAt(i));
  return key;
}

/** A verb key with one more character: its letter upper-cased, 5 bits; -1 when it is not a letter (or key is -1). */
function withLetter(key: number, code: number): number {
  const c = code & ~0x20;
  return key < 0 || c < 0x41 || c > 0x5a ? -1 : key * 32 + (c - 0x40);
}

/** commandAt for a line's bytes: the verb is b[start, end). */
export function commandAtBytes(b: Buffer, start: number, end: number): CommandInfo | undefined {
  const n = end - start;
  if (n < 3 || n > 4) return undefined;
  let key = n;
  for (let i = start; i < end && key >= 0; i++) key = withLetter(key, b[i]!);
  return key < 0 ? undefined : BY_KEY.get(key);
}

/** What the command at the start of a line is (its verb ends at `end`), case-insensitive; undefined when unknown. */
export function commandAt(line: string, end: number): CommandInfo | undefined {
  const key = verbKey(line, 0, end);
  return key < 0 ? undefined : BY_KEY.get(key);
}

/** The valid replies of each verb, as a table by code (the question is asked for every reply). */
const VALID: ReadonlyMap<string, Uint8Array> = new Map(
  [...COMMANDS].map(([verb, info]) => {
    const valid = new Uint8Array(1000);
    for (const code of info.replies) valid[code] = 1;
    if (info.anyReply) valid.fill(1, 100, 600);
    return [verb, valid];
  }),
);

/**
 * Reply codes that answer only some kinds of command (RFC 959 section 4.2 and the section 5.4 lists, with
 * RFC 2228's and RFC 2428's): preliminary replies (a data transfer, REIN), status, help and system replies
 * (211-215), service ready and closing (220, 221), data connection closing or failing (225, 226, 425, 426),
 * passive addresses (227-229), logged in (230, 232), security exchanges (234, 235, 334-336), a path (257),
 * more information needed (331, 332, 350). A reply with one of them that is not valid for the command waiting
 * names a command missing from the capture (a 227 is a PASV's). The other codes (200, 202, 250, and the
 * 4yz and 5yz errors) say nothing of the command, and a server may send one where its RFC does not list it.
 */
const NAMES_COMMAND: ReadonlySet<number> = new Set([
  110, 120, 125, 150, 211, 212, 213, 214, 215, 220, 221, 225, 226, 227, 228, 229, 230, 232, 234, 235, 257,
  331, 332, 334, 335, 336, 350, 425, 426,
]);

/** True when `code` answers only some kinds of command (see NAMES_COMMAND); every code below 200 does. */
export function namesCommand(code: number): boolean {
  return code < 200 || NAMES_COMMAND.has(code);
}

/**
 * Whether `code` may be the final reply of a command that already had its preliminary reply (1yz). RFC 959
 * section 5.4 gives each command's replies as a sequence: 500, 501, 502 (the command line itself is wrong or
 * unknown), 503 (bad sequence) and 530 (not logged in) answer the command as it arrives, never after a 1yz;
 * a transfer in progress ends with 226, 250, 425, 426, 451, 55x and the like. So a 500 after ABOR is ABOR's,
 * not the transfer's.
 */
export function endsPreliminary(code: number): boolean {
  return code !== 500 && code !== 501 && code !== 502 && code !== 503 && code !== 530;
}

/** Every verb in the table, in the order above. */
export const KNOWN_VERBS: readonly string[] = Object.freeze([...COMMANDS.keys()]);

/** What `verb` is (case-insensitive), or undefined for a verb none of the RFCs or common extensions define. */
export function commandInfo(verb: string): CommandInfo | undefined {
  if (typeof verb !== 'string') return undefined;
  return COMMANDS.get(verb) ?? COMMANDS.get(verb.trim().toUpperCase());
}

/** True when `code` is a valid reply to `verb` (unknown verbs: any code from 100 to 599 is valid). */
export function isValidReply(verb: string, code: number): boolean {
  if (!Number.isInteger(code)) return false;
  const valid = VALID.get(verb);
  if (valid !== undefined) return code >= 0 && code < valid.length && valid[code] === 1;
  const info = commandInfo(verb);
  if (info === undefined || info.anyReply) return (code >= 100 && code <= 599) || (info !== undefined && info.replies.includes(code));
  return info.replies.includes(code);
}

export function isKnownCommand(verb: string): boolean {
  return commandInfo(verb) !== undefined;
}
