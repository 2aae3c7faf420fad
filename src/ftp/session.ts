import { DEFAULTS, type Settings } from '../config.js';
import type { Connection, Stamp } from '../flow/connections.js';
import type { Dir, EndReason, GapReason, StreamSink } from '../flow/stream-sink.js';
import type { AnonymousBy, Exchange, FtpSession, PredictionSource, Reply, TlsInfo } from '../model/ftp-model.js';
import { parseEprtArg, parseEpsvReply, parseLprtArg, parseLpsvReply, parsePasvReply, parsePortArg, type Parsed } from './address.js';
import { commandAtBytes, commandInfo, endsPreliminary, isValidReply, namesCommand, type CommandInfo, type DataUse } from './commands.js';
import { ControlParser, type BadLine, type ControlEvents } from './control-parser.js';
import { TlsDecoder, type TlsHandshake } from '../tls/decoder.js';
import type { KeyLog } from '../tls/keylog.js';
import { TELNET_DM, TELNET_IP, TELNET_OTHER } from './line-reader.js';
import { UNKNOWN_DIR, parse257, resolvePath, splitListArgument } from './paths.js';
import type { FindingFacts, FindingKind } from './findings.js';
import { anonymousEvidence } from './policy.js';
import { COST, type MemoryBudget } from '../memory-budget.js';

/** Bounds on what one control connection may make us hold. Each has a default and is an option. */
export interface FtpLimits {
  /** Longest command or reply line kept (default 4096 bytes); longer ones are cut and reported. */
  maxLineLength: number;
  /** Commands awaiting a reply (default 20); beyond it the oldest is given up and reported. */
  maxPendingCommands: number;
  /** Lines of one multi-line reply (default 1000). */
  maxReplyLines: number;
  /** Predictions waiting for their data connection, per session (default 100) and in all (default 10,000). */
  maxPredictionsPerSession: number;
  maxPredictions: number;
  /** Capture-time seconds a prediction waits for its connection (default 300). */
  predictionTimeoutSec: number;
  /** Exchanges kept per session (default 100,000); beyond it they are counted only. */
  maxExchanges: number;
  /** Failed logins from one client within the window that make a brute-force finding (default 20 in 1,800 s). */
  bruteForceThreshold: number;
  bruteForceWindowSec: number;
  /** Clients whose failed and cleartext logins are counted as one series (default 10,000). */
  maxTrackedClients: number;
  /** Capture-time seconds before its prediction that a data connection may open and still match it (default 10). */
  earlyConnectionSec: number;
  /** Capture-time seconds between a data command and a connection nothing announced that serves it (default 5). */
  unannouncedWindowSec: number;
  /** Connections between FTP hosts that nothing announced, held for a command to claim (default 256). */
  maxUnannounced: number;
  /** Data commands without a prediction held for a connection nothing announced (default 1024). */
  maxAwaitingUnannounced: number;
  /** Extraction: bytes of a data connection held until the command it serves is known (default 256 KiB). */
  maxEarlyDataBytes: number;
  /** Bytes of each direction read to recognise FTP on another port (default 2048). */
  sniffBytes: number;
  /** Digests of released sessions kept (live capture; default 1000). */
  maxSessionDigests: number;
  /** Frames listed per finding (default 20). */
  maxFindingFrames: number;
  /** Sizes from SIZE replies remembered per session, to compare with what a transfer carried (default 64). */
  maxRememberedSizes: number;
}

/** The FTP stage's limits from the options (src/config.ts). */
export function ftpLimits(s: Settings): FtpLimits {
  return {
    maxLineLength: s.maxLineLength,
    maxPendingCommands: s.maxPendingCommands,
    maxReplyLines: s.maxReplyLines,
    maxPredictionsPerSession: s.maxPredictionsPerSession,
    maxPredictions: s.maxPredictions,
    predictionTimeoutSec: s.predictionTimeout,
    maxExchanges: s.maxExchanges,
    bruteForceThreshold: s.bruteForceThreshold,
    bruteForceWindowSec: s.bruteForceWindow,
    maxTrackedClients: s.maxTrackedClients,
    earlyConnectionSec: s.earlyConnectionWindow,
    unannouncedWindowSec: s.unannouncedWindow,
    maxUnannounced: s.maxUnannounced,
    maxAwaitingUnannounced: s.maxAwaitingUnannounced,
    maxEarlyDataBytes: s.maxEarlyData * 1024,
    sniffBytes: s.sniffBytes,
    maxSessionDigests: s.maxSessionDigests,
    maxFindingFrames: s.maxFindingFrames,
    maxRememberedSizes: s.maxRememberedSizes,
  };
}

export const DEFAULT_FTP_LIMITS: FtpLimits = ftpLimits(DEFAULTS);

/** What a control session needs from the analysis around it. */
export interface SessionEngine {
  readonly clock: Readonly<Stamp>;
  readonly limits: FtpLimits;
  /** Keep every exchange in the model (false: only those a transfer or prediction names; see keep()). */
  readonly keepExchanges: boolean;
  /** What the session's exchanges are charged to; past it they are counted, not kept. */
  readonly memory: MemoryBudget;
  /** A data connection was announced (PORT/EPRT/LPRT command, or 227/228/229 reply). */
  predict(s: ControlSession, ex: Exchange, source: PredictionSource, parsed: Parsed | { valid: true; port: number }, setup: Stamp): void;
  /** The reply to a PORT/EPRT/LPRT command. */
  predictionAnswered(ex: Exchange, code: number): void;
  /** A data-bearing command was sent. */
  startTransfer(s: ControlSession, ex: Exchange, use: DataUse): void;
  /** A reply to a data-bearing command. */
  transferReply(s: ControlSession, ex: Exchange, reply: Reply): void;
  /** Something worth saying: its kind and what was seen (the catalogue, ftp/findings.ts, has the words). */
  finding<K extends FindingKind>(kind: K, session: number | null, frames: number[], facts: FindingFacts[K]): void;
  /** Someone listens to events as they come (streaming outputs): every line is then read as text. */
  readonly streaming: boolean;
  /** Whether the data of a data command's transfer was all delivered, and its sender's side closed (FIN), before `at`. */
  dataOverBefore(ex: Exchange, at: Stamp): boolean;
  /** Tells the timeline a command (`reply` null) or a reply, of an exchange the model holds. */
  exchangeEvent(s: ControlSession, ex: Exchange, reply: Reply | null): void;
  /** A login failed (for brute-force detection across sessions). */
  loginFailed(s: ControlSession, frame: number): void;
  /** The session's commands can no longer be read: AUTH was accepted, or RFC 2228 protection began. */
  commandsHidden(s: ControlSession): void;
  /** TLS 1.2: the control connection's server issued a session id or ticket in clear (a data connection may resume it). */
  tlsIssued(s: ControlSession, key: string): void;
  /** The TLS key log (--tls-keylog, SSLKEYLOGFILE), or null. */
  readonly keyLog: KeyLog | null;
  /** Ports where the control connection is TLS from its first byte (implicit FTPS, 990). */
  readonly implicitTls: ReadonlySet<number>;
}

/**
 * What act() is given for a reply read by quietReply, refilled each time: act() reads only the code and
 * the frame of those (their text only for the codes quietReply leaves alone), and keeps neither it nor
 * its stamps.
 */
const QUIET_AT: Stamp = { frame: 0, sec: 0, nsec: 0 };
const QUIET: Reply = { code: 0, lines: [], message: '', start: QUIET_AT, end: QUIET_AT };

const SPACE = 0x20;

/** An exchange's estimated bytes, with its command line (UTF-16 at worst), before its replies. */
function exchangeCost(ex: Exchange): number {
  return COST.exchange + 2 * ex.argument.length;
}

/** A reply's estimated bytes: the object, its lines and its message. */
function replyCost(r: Reply): number {
  let n = 120 + 2 * r.message.length;
  for (const line of r.lines) n += 40 + 2 * line.length;
  // The frames of a reply spread over segments: an array of small integers.
  if (r.lineFrames !== undefined) n += 16 + 8 * r.lineFrames.length;
  return n;
}

/**
 * One FTP control connection: reads the events of a ControlParser per direction (commands, replies, bad
 * lines), pairs replies with pipelined commands (a reply goes to the oldest pending command it is a valid
 * reply for), and tracks login, working directory, TYPE, REST, SIZE, TLS and PROT. Predictions, transfers
 * and findings (as facts) are handed to the engine.
 */
export class ControlSession implements StreamSink, ControlEvents {
  readonly model: FtpSession;
  /** Predictions still held but not in the model (past what it keeps: see FtpAnalyzer.predict), oldest first. */
  readonly loose: number[] = [];
  /** The control connection; null once it is done (see finish). */
  private conn: Connection | null;
  /** The parsers of the two directions, by TCP direction (released by finish; see ControlParser.release). */
  private readonly parsers: [ControlParser, ControlParser];
  private readonly pending: Exchange[] = [];
  /**
   * Pending commands whose reply may be missing or kept apart (a gap in the replies, an orphan reply while
   * they waited, commands of a capture begun mid-session before any reply was paired): a later command's
   * reply may pass them (see pendingFor). Weak: an exchange leaves it when nothing holds it any more.
   */
  private readonly doubtful = new WeakSet<Exchange>();
  /** A reply was paired with its command by the table: from then on a mid-session capture's commands are in step. */
  private replied = false;
  /** An ABOR waiting for its reply, and the data command it aborts (RFC 959 section 4.1.3). */
  private abort: { abor: Exchange; transfer: Exchange } | null = null;
  /** A 226 that came after that ABOR while its data command still waited: whose it is, the next reply tells (settleAbort). */
  private held: Reply | null = null;
  private greetingSeen = false;
  /** The reply about to come closes a multi-line reply at the connection's end: it does not move the session's end. */
  private closedAtEnd = false;
  private encrypted = false;
  /** The control connection's TLS, once AUTH was accepted (or from the start, implicit FTPS). */
  private tls: TlsDecoder | null = null;
  /** A key log was given and the handshake has not yet said whether it opens the control connection. */
  private tlsUndecided = false;
  private pendingUser: string | null = null;
  private pendingPassword: string | null = null;
  /** The 331 that answered the last USER (evidence of an anonymous login, see anonymousEvidence). */
  private prompt: Reply | null = null;
  cwd: string = UNKNOWN_DIR;
  restOffset: number | null = null;
  type: string | null = null;
  /**
   * Sizes from 213 replies to SIZE, by full path: the last maxRememberedSizes, in a ring. Looked up only for a transfer,
   * compared then; hashing every SIZE's path into a map cost more than the rest of its reply.
   */
  private readonly sizePaths: string[] = [];
  private readonly sizeValues: number[] = [];
  private sizeNext = 0;
  private droppedExchanges = 0;
  /** The first exchange not kept was refused by the memory budget (not maxExchanges). */
  private droppedForMemory = false;
  /** Exchanges given an index so far (kept in the model or not). */
  private exchangeCount = 0;
  /** When exchanges are not all kept: those the analysis refers to (transfers, predictions), by index. */
  private readonly kept = new Map<number, Exchange>();
  /** Commands that changed the server's files and were accepted (the first 20), and how many in all. */
  readonly writes: Exchange[] = [];
  writeCount = 0;
  /** Lines read from their bytes alone, no text made (quietCommand, quietReply). */
  quietLines = 0;

  constructor(
    conn: Connection,
    readonly id: number,
    private readonly engine: SessionEngine,
    /** The TCP direction that carries the commands (0 when the FTP client opened the connection). */
    readonly commandDir: Dir,
  ) {
    this.conn = conn;
    const c = commandDir === 0;
    this.model = {
      id,
      connection: conn.id,
      client: { address: c ? conn.clientAddress : conn.serverAddress, port: c ? conn.cPort : conn.sPort },
      server: { address: c ? conn.serverAddress : conn.clientAddress, port: c ? conn.sPort : conn.cPort },
      ipVersion: conn.ipVersion,
      start: conn.first,
      end: conn.first,
      midStream: false, // decided in finish(), once the connection's first packets were seen
      greeting: null,
      user: null,
      password: null,
      anonymous: false,
      anonymousBy: null,
      login: 'none',
      loginAttempts: [],
      cwd: null,
      tls: null,
      protectedFrom: null,
      cwdUncertainFrom: null,
      dataProtected: false,
      exchanges: [],
      commands: 0,
      predictions: [],
      transfers: [],
      dropped: { commands: 0, replies: 0 },
      quit: false,
    };
    // Lines nothing will show are read from their bytes only when exchanges are not all kept and no one
    // streams events (both fixed for the analysis): otherwise every line is read as text.
    const quiet = !engine.keepExchanges && !engine.streaming;
    // The session is the parsers' ControlEvents itself: no closure between a parsed line and what reads it.
    const commands = new ControlParser(true, engine.limits, this, quiet ? (buf, off, n, at) => this.quietCommand(buf, off, n, at) : null);
    const replies = new ControlParser(false, engine.limits, this, quiet ? (buf, off, n, at) => this.quietReply(buf, off, n, at) : null);
    this.parsers = commandDir === 0 ? [commands, replies] : [replies, commands];
    const port = this.model.server.port;
    if (engine.implicitTls.has(port)) this.startTls(`implicit TLS (port ${port})`, conn.first.frame);
  }

  /**
   * The control connection turns to TLS: its bytes go through a decoder, which reads the handshake in
   * clear and, when the key log has its secrets, hands the parsers the plaintext.
   */
  private startTls(command: string, frame: number): void {
    this.encrypted = true;
    this.model.tls = { command, frame };
    const plain: StreamSink = {
      data: (dir, buf, off, len, _at, when) => this.parsers[dir].push(buf, off, len, when),
      gap: (dir) => this.parsers[dir].gap(),
      end: () => {},
    };
    const failed: [number, number] = [0, 0];
    // Without a key log the commands are hidden from here on; with one, the handshake decides.
    this.tlsUndecided = this.engine.keyLog !== null;
    if (!this.tlsUndecided) {
      this.engine.commandsHidden(this);
      this.engine.finding('tls', this.id, [frame], { command, decrypted: null, why: 'no key log', version: null, suite: null });
    }
    this.tls = new TlsDecoder(this.engine.keyLog, plain, {
      handshake: (h) => {
        const info = tlsInfo(h, failed);
        if (this.model.tls !== null) this.model.tls.handshake = info;
        if (!this.tlsUndecided) return;
        this.tlsUndecided = false;
        const decrypting = h.keys === 'decrypting';
        if (!decrypting) this.engine.commandsHidden(this);
        this.engine.finding('tls', this.id, [frame], { command, decrypted: decrypting ? linesText(h.keyLines) : null, why: decrypting ? null : h.keys, version: h.version, suite: h.suiteName });
      },
      issued: (key) => this.engine.tlsIssued(this, key),
      certificate: (c) => {
        const h = this.model.tls?.handshake;
        if (h !== undefined) h.certificate = c;
      },
      message: (dir, at, type) => {
        const tls = this.model.tls;
        if (tls === null) return;
        const list = (tls.messages ??= []);
        const from = dir === this.tlsClientDir() ? 'client' : 'server';
        const last = list.at(-1);
        const name = TLS_MESSAGES[type] ?? `handshake message ${type}`;
        if (last !== undefined && last.frame === at && last.from === from) last.names.push(name);
        else if (list.length < 40) list.push({ frame: at, from, names: [name] });
      },
      problem: (dir, at, why) => {
        const fromClient = dir === this.tlsClientDir();
        if (why.startsWith('a record could not be opened')) failed[fromClient ? 0 : 1]++;
        this.engine.finding('tls-problem', this.id, [at], { connection: 'control', from: fromClient ? 'client' : 'server', why });
      },
    });
  }

  /** The TCP direction of the TLS client (the FTP client, on the control connection). */
  private tlsClientDir(): Dir {
    return this.commandDir;
  }

  /** The control connection's client (the FTP client) and server, as the model has them. */
  get client(): { address: string; port: number } {
    return this.model.client;
  }

  get server(): { address: string; port: number } {
    return this.model.server;
  }

  // ---- StreamSink

  data(dir: Dir, buf: Buffer, off: number, len: number, at: number, when: Readonly<Stamp>): void {
    if (this.conn === null) return;
    // Implicit FTPS on any FTP port (--ports): the client's first bytes are a TLS handshake record, not a command.
    if (this.tls === null && !this.encrypted && at === 0 && dir === this.commandDir && !this.greetingSeen && len >= 3 && buf[off] === 0x16 && buf[off + 1] === 3) {
      this.startTls(`implicit TLS (port ${this.model.server.port})`, when.frame);
    }
    if (this.tls !== null) this.tls.data(dir, buf, off, len, at, when);
    else if (!this.encrypted) this.parsers[dir].push(buf, off, len, when);
  }

  gap(dir: Dir, at: number, len: number, reason: GapReason): void {
    if (this.conn === null) return;
    if (this.tls !== null && reason !== 'start-unseen') {
      this.tls.gap(dir, at, len, reason);
      return;
    }
    if (this.encrypted) return;
    this.parsers[dir].gap();
    if (reason === 'start-unseen') {
      this.model.midStream = true;
      return;
    }
    const side = dir === this.commandDir ? 'commands' : 'replies';
    if (dir === this.commandDir) this.model.cwdUncertainFrom ??= this.engine.clock.frame;
    else {
      if (this.held !== null) this.settleAbort(null);
      for (const p of this.pending) this.doubtful.add(p); // their replies may be in the gap
    }
    this.engine.finding('control-gap', this.id, [this.engine.clock.frame], { bytes: len, commands: side === 'commands', offset: at, reason });
  }

  end(dir: Dir, _reason: EndReason): void {
    // Once encrypted and not decrypted, the rest is not read; a multi-line reply left open is still closed.
    this.parsers[dir].end(this.engine.clock, !this.encrypted || this.tls?.handshake?.keys === 'decrypting');
    if (dir !== this.commandDir && this.held !== null) this.settleAbort(null);
  }

  /**
   * Called when the control connection is done. What only the open connection needed goes: the
   * connection (its reassembly), the parsers' line readers, the commands awaiting replies, the SIZE ring.
   * Kept until the end of the analysis, every ended session held them: about 10 kB a session (and a Buffer
   * pool slab per line reader), which grew the memory of a 10 GB capture's summary by a third.
   */
  finish(): void {
    const last = this.conn;
    if (last === null) return;
    this.model.end = { frame: last.lastFrame, sec: last.lastSec, nsec: last.lastNsec };
    if (last.syn === null || this.model.greeting === null) this.model.midStream ||= last.syn === null;
    this.model.cwd = this.cwd === UNKNOWN_DIR ? null : this.cwd;
    this.model.dropped.commands += this.droppedExchanges;
    if (this.held !== null) this.settleAbort(null);
    if (this.tlsUndecided && this.model.tls !== null) {
      this.tlsUndecided = false;
      this.engine.commandsHidden(this);
      this.engine.finding('tls', this.id, [this.model.tls.frame], { command: this.model.tls.command, decrypted: null, why: 'the handshake is not in the capture', version: null, suite: null });
    }
    for (const ex of this.pending) {
      if (ex.note !== undefined) continue;
      ex.note = 'no reply in the capture';
    }
    this.conn = null;
    this.parsers[0].release();
    this.parsers[1].release();
    this.pending.length = 0;
    this.sizePaths.length = 0;
    this.sizeValues.length = 0;
    this.sizeNext = 0;
  }

  // ---- commands (onCommand, onReply, onBadLine, commandsSent, answersLater: ControlEvents, for the parsers only)

  /** A command line (see ControlEvents.onCommand): the verb is the table's own string when `info` is set. */
  onCommand(verb: string, arg: string, info: CommandInfo | undefined, first: Stamp, last: Stamp, truncated: boolean, length: number, telnet: number, textAt: Stamp): void {
    this.model.end = last;
    if (truncated) this.engine.finding('overlong-command', this.id, [first.frame], { verb, bytes: length, limit: this.engine.limits.maxLineLength });
    // RFC 2228: commands wrapped in integrity or confidentiality protection.
    if ((verb === 'MIC' || verb === 'CONF' || verb === 'ENC') && this.model.protectedFrom === null) {
      this.model.protectedFrom = first.frame;
      this.engine.commandsHidden(this);
      this.engine.finding('protected-commands', this.id, [first.frame], { verb });
    }
    this.model.commands++;
    // Without an argument a path command means the working directory (LIST, NLST, STAT, CWD with nothing).
    const list = verb === 'LIST' || verb === 'NLST' ? splitListArgument(arg) : null;
    const path = info?.pathArg ? resolvePath(this.cwd, list !== null ? list.path : arg) : null;
    const ex: Exchange = {
      index: 0,
      command: verb,
      argument: arg,
      path,
      cwd: this.cwd,
      request: first,
      replies: [],
      responseTime: null,
      prediction: null,
      transfer: null,
    };
    if (list !== null && list.options.length > 0) ex.options = list.options;
    if (telnet !== 0) ex.telnet = telnetNames(telnet);
    if (textAt.frame !== first.frame) ex.textAt = textAt;
    this.addExchange(ex);
    if (verb === 'ABOR') this.aborts(ex);
    this.waitForReply(ex, first);
    switch (verb) {
      case 'USER':
        this.pendingUser = arg;
        this.prompt = null;
        this.model.user = arg;
        this.anonymousBy(anonymousEvidence(arg, null, null));
        break;
      case 'PASS':
        this.pendingPassword = arg;
        this.model.password = arg;
        break;
      case 'PORT':
        this.engine.predict(this, ex, 'PORT', parsePortArg(arg), first);
        break;
      case 'EPRT':
        this.engine.predict(this, ex, 'EPRT', parseEprtArg(arg), first);
        break;
      case 'LPRT':
        this.engine.predict(this, ex, 'LPRT', parseLprtArg(arg), first);
        break;
      case 'SITE':
        if (/^\s*exec\b/i.test(arg)) this.engine.finding('site-exec', this.id, [first.frame], { argument: arg });
        break;
    }
    if (info?.data !== undefined) this.engine.startTransfer(this, ex, info.data);
  }

  /** Puts a command on the list of those awaiting a reply; the oldest goes when the list is full. */
  private waitForReply(ex: Exchange, at: Stamp): void {
    if (this.pending.length >= this.engine.limits.maxPendingCommands) {
      const old = this.pending.shift()!;
      old.note = `given up: more than ${this.engine.limits.maxPendingCommands} commands were waiting for replies`;
      if (this.abort !== null && (this.abort.abor === old || this.abort.transfer === old)) {
        if (this.held !== null) this.settleAbort(null);
        this.abort = null;
      }
      this.engine.finding('too-many-pending-commands', this.id, [at.frame], { limit: this.engine.limits.maxPendingCommands, oldest: old.command });
    }
    // Begun mid-session: replies to commands sent before the capture may still come first.
    if (this.model.midStream && !this.replied) this.doubtful.add(ex);
    this.pending.push(ex);
  }

  /**
   * A command whose argument nothing reads (NOOP, PWD, MDTM and the like: see argumentUnread), from its
   * bytes (see OnAsciiLine; offered only when exchanges are not all kept and no one streams events): it
   * waits for its reply with its verb alone, no text made of the line. Its exchange is never kept (only data commands,
   * PORT, EPRT, LPRT and the commands a passive reply answers are), so its argument is never shown.
   */
  private quietCommand(buf: Buffer, off: number, n: number, at: Readonly<Stamp>): boolean {
    const end = off + n;
    let sp = off;
    while (sp < end && buf[sp] !== SPACE) sp++;
    const info = commandAtBytes(buf, off, sp);
    if (info === undefined || !argumentUnread(info.verb)) return false;
    this.model.commands++;
    const request = { frame: at.frame, sec: at.sec, nsec: at.nsec };
    const ex = this.addExchange({ index: 0, command: info.verb, argument: '', path: null, cwd: this.cwd, request, replies: [], responseTime: null, prediction: null, transfer: null });
    this.waitForReply(ex, request);
    this.quietLines++;
    return true;
  }

  /** The exchange at `index`, when it is kept. */
  exchange(index: number): Exchange | undefined {
    return this.model.exchanges[index] ?? this.kept.get(index);
  }

  /**
   * Keeps an exchange the analysis refers to, when exchanges are not all kept; false when it may not (past
   * maxExchanges of them, or at the memory budget): then what refers to it is counted, not kept.
   */
  keep(ex: Exchange): boolean {
    if (this.engine.keepExchanges) return this.holds(ex);
    if (this.kept.has(ex.index)) return true;
    if (this.kept.size >= this.engine.limits.maxExchanges || !this.charge(exchangeCost(ex))) return false;
    this.kept.set(ex.index, ex);
    return true;
  }

  /** Bytes this session's kept exchanges are charged to the memory budget (released with the session). */
  charged = 0;

  /** Charges `bytes` to the budget for what the session keeps; false (nothing charged) when they do not fit. */
  private charge(bytes: number): boolean {
    const memory = this.engine.memory;
    if (!memory.fits(bytes)) return false;
    memory.charge('exchanges', bytes);
    this.charged += bytes;
    return true;
  }

  private addExchange(ex: Exchange): Exchange {
    if (!this.engine.keepExchanges) {
      ex.index = this.exchangeCount++;
      if (ex.request !== null) this.engine.exchangeEvent(this, ex, null);
      return ex; // paired and acted on; kept only if something refers to it
    }
    // Once one is not kept, none after it is (the kept ones are the session's first): still paired and
    // acted on, given an index past every kept one, so that holds() is false and nothing names another.
    if (this.droppedExchanges > 0 || this.model.exchanges.length >= this.engine.limits.maxExchanges || !this.charge(exchangeCost(ex))) {
      if (this.droppedExchanges === 0) this.droppedForMemory = this.model.exchanges.length < this.engine.limits.maxExchanges;
      if (this.droppedForMemory) this.engine.memory.let('exchanges', this.engine.clock.frame);
      ex.index = this.model.exchanges.length + this.droppedExchanges;
      this.droppedExchanges++;
      return ex;
    }
    ex.index = this.model.exchanges.length;
    this.model.exchanges.push(ex);
    if (ex.request !== null) this.engine.exchangeEvent(this, ex, null);
    return ex;
  }

  /** Whether the model holds an exchange (past maxExchanges or the memory budget it does not), so that the timeline may name it. */
  holds(ex: Exchange): boolean {
    return this.engine.keepExchanges ? this.model.exchanges[ex.index] === ex : this.kept.get(ex.index) === ex;
  }

  // ---- replies

  /** A line the parser could not take as what it should be, or a reply not well formed: a finding with what was seen. */
  onBadLine(bad: BadLine): void {
    const engine = this.engine;
    const at = [bad.first.frame];
    // Every line read moves the session's end; the end of the connection (closing an open reply) does not.
    if (bad.reason !== 'unterminated-reply' || bad.closedBy !== 'end') this.model.end = bad.last;
    switch (bad.reason) {
      case 'not-a-command':
        return engine.finding('not-ftp-command', this.id, at, { line: bad.line });
      case 'overlong-verb':
        return engine.finding('overlong-command', this.id, at, { verb: bad.verb, bytes: null, limit: engine.limits.maxLineLength });
      case 'not-a-reply':
        return engine.finding('invalid-reply', this.id, at, { line: bad.line, code: null });
      case 'code-out-of-range':
        return engine.finding('invalid-reply', this.id, at, { line: bad.line, code: bad.code });
      case 'other-protocol':
        return engine.finding('not-ftp', this.id, at, { port: this.server.port, protocol: bad.protocol, line: bad.line });
      case 'unterminated-reply':
        this.closedAtEnd = bad.closedBy === 'end';
        return engine.finding('unterminated-reply', this.id, at, { code: bad.code, ended: bad.closedBy === 'end' });
      case 'long-reply':
        return engine.finding('long-reply', this.id, at, { code: bad.code, limit: bad.limit });
      case 'overlong-reply':
        return engine.finding('overlong-reply', this.id, at, { code: bad.code, bytes: bad.bytes, limit: bad.limit });
    }
  }

  /** A whole reply (see ControlEvents.onReply). */
  onReply(code: number, lines: string[], message: string, start: Stamp, end: Stamp, lineFrames: number[] | null): void {
    if (this.closedAtEnd) this.closedAtEnd = false;
    else this.model.end = end;
    this.reply(code, lines, message, start, end, lineFrames);
  }

  private reply(code: number, lines: string[], message: string, start: Stamp, end: Stamp, lineFrames: number[] | null): void {
    const reply: Reply = lineFrames === null ? { code, lines, message, start, end } : { code, lines, message, start, end, lineFrames };
    if (this.held !== null) this.settleAbort(reply);
    const abort = this.abort;
    // RFC 959 section 4.1.3: after ABOR, a 226 may be the data command's (it was over) or ABOR's (it was
    // not, and its 426 is missing): held until the next reply says which.
    if (abort !== null && code === 226 && abort.abor.replies.length === 0 && this.pending.includes(abort.transfer) && this.pending.includes(abort.abor)) {
      this.held = reply;
      return;
    }
    const ex = this.pairReply(code, start.frame);
    if (ex === null) {
      this.greetingSeen = true;
      this.model.greeting = reply;
      const greeting = this.addExchange({ index: 0, command: '<init>', argument: '', path: null, cwd: null, request: null, replies: [reply], responseTime: null, prediction: null, transfer: null });
      if (this.holds(greeting)) this.engine.exchangeEvent(this, greeting, reply);
      return;
    }
    this.attach(ex, reply);
  }

  /** Gives a paired reply to its exchange: its replies, the timeline, what it changes in the session. */
  private attach(ex: Exchange, reply: Reply): void {
    if (ex.request !== null && ex.replies.length === 0) {
      // Times that go backwards (a capture fault, said once) give no response time, never a negative one.
      const rt = seconds(reply.start) - seconds(ex.request);
      ex.responseTime = rt >= 0 ? rt : null;
    }
    // An exchange is made with the empty array literal, whose first push would reserve 17 slots.
    if (ex.replies.length === 0) ex.replies = [reply];
    else ex.replies.push(reply);
    if (this.holds(ex)) {
      // Charged whatever the budget says: the exchange is kept already, and a reply is bounded (maxReplyLines).
      this.engine.memory.charge('exchanges', replyCost(reply));
      this.charged += replyCost(reply);
      this.engine.exchangeEvent(this, ex, reply);
    }
    this.act(ex, reply);
  }

  /**
   * An ABOR was sent: the newest data command still waiting for its final reply is the one it aborts (RFC
   * 959 section 4.1.3: "abort the previous FTP service command and any associated transfer of data"). The
   * data command's exchange names the ABOR, so the transfer stage can tell the client aborted it.
   */
  private aborts(abor: Exchange): void {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const p = this.pending[i]!;
      if (commandInfo(p.command)?.data === undefined) continue;
      p.abortedBy = abor.index;
      this.keep(abor); // exchange(abortedBy) finds it (its frame) also when exchanges are not all kept
      this.abort = { abor, transfer: p };
      return;
    }
  }

  /**
   * Whose the 226 held after ABOR is, now that `next` came (null: no more replies; the end or a gap). RFC 959
   * section 4.1.3: ABOR is answered 226 (or 225 with the data connection open and no transfer) whether the
   * transfer was still going, after a 426 to the transfer command, or already over, after that command's
   * own reply. So a 225 or 226 next means the held one was the data command's (it was over when the server
   * read ABOR); anything else means the one 226 after ABOR is ABOR's, and the data command's reply is missing.
   */
  private settleAbort(next: Reply | null): void {
    const held = this.held!;
    const { abor, transfer } = this.abort!;
    this.held = null;
    const k = this.pending.indexOf(transfer);
    if (next !== null && (next.code === 225 || next.code === 226) && k >= 0) {
      transfer.note = `its ${held.code} came after the client's ABOR, followed by ABOR's ${next.code}: the transfer was over when the server read the ABOR (RFC 959 section 4.1.3, first case)`;
      this.paired(k, held.code);
      this.attach(transfer, held);
      return;
    }
    // No second reply, but the data connection had carried everything and closed before the 226: the same first case.
    if (k >= 0 && this.engine.dataOverBefore(transfer, held.start)) {
      transfer.note = `its ${held.code} came after the client's ABOR, but its data connection had already carried everything and closed: the transfer was over when the server read the ABOR (RFC 959 section 4.1.3, first case); ABOR's own reply is not in the capture`;
      this.paired(k, held.code);
      this.attach(transfer, held);
      return;
    }
    abor.note = `the one ${held.code} after ABOR is taken as ABOR's: RFC 959 section 4.1.3 answers ABOR with 226 whether the transfer was still going (after a 426 to it) or already over (after its own reply), and no other reply came`;
    const i = this.pending.indexOf(abor);
    if (i >= 0) this.paired(i, held.code);
    this.attach(abor, held);
  }

  commandsSent(): number {
    return this.model.commands;
  }

  answersLater(code: number, since: number): boolean {
    if (this.model.commands <= since) return false;
    for (const p of this.pending) if (isValidReply(p.command, code)) return true;
    return false;
  }

  /**
   * The exchange a reply belongs to: null for the greeting; an exchange without command when none is
   * pending, or when the reply names a command that is not (see pendingFor and byOrder).
   */
  private pairReply(code: number, frame: number): Exchange | null {
    const pending = this.pending;
    // The first 220 (or 120, "ready in n minutes", or a 421 refusal before any command) is the greeting,
    // even when the client pipelined commands before it.
    if (!this.greetingSeen && (code === 220 || code === 120 || (code === 421 && pending.length === 0))) return null;
    this.greetingSeen = true;
    const i = this.pendingFor(code);
    if (i >= 0) {
      this.replied = true;
      return this.paired(i, code);
    }
    const o = this.byOrder(code);
    if (o >= 0) {
      // A code the table does not list for the command, from a server of its own mind (Pure-FTPd answers
      // OPTS UTF8 ON with 504): the order of replies leaves it no other command, so it takes it.
      const ex = this.paired(o, code);
      const source = commandInfo(ex.command)?.source ?? 'its RFC';
      ex.note = `reply ${code} is not among the replies ${source} lists for ${ex.command}: paired by the order of replies, as the oldest command waiting`;
      this.engine.finding('unusual-reply', this.id, [frame], { command: ex.command, code, source });
      return ex;
    }
    // Its command is not in the capture (lost, or sent before the capture began), or the reply is
    // unsolicited (a 421 on timeout). Pending commands stay pending: replies come in command order; but
    // the next one may have had its reply kept apart here, so later replies may pass it (see pendingFor).
    const head = pending.find((p) => p.replies.length === 0);
    if (head !== undefined) this.doubtful.add(head);
    const note = pending.length === 0
      ? 'reply without a command in the capture'
      : `reply ${code} is not a valid reply to ${pending.length === 1 ? pending[0]!.command : `any of ${pending.map((p) => p.command).join(', ')}`} (the command waiting): kept apart; its own command may be missing from the capture`;
    return this.addExchange({ index: 0, command: '', argument: '', path: null, cwd: this.cwd, request: null, replies: [], responseTime: null, prediction: null, transfer: null, note });
  }

  /**
   * The pending command a reply with this code answers by the table (its index in pending), or -1. Replies
   * come in the order of their commands (RFC 959 section 4.2), but for a transfer in progress, whose final
   * reply may come after replies to commands sent during it (STAT, NOOP, ABOR): so the reply goes to a
   * transfer in progress it is valid for (and that can end it: endsPreliminary), or to the next command in
   * order (the oldest without a reply).
   * It goes to a later command, the ones before it left without a reply, only when its code names its
   * kind of command (a 227 is a PASV's: namesCommand), or when the next command's reply may be lost (a gap
   * in the replies, a reply kept apart while it waited, a capture begun mid-session): otherwise a code
   * the table does not list would move every later pairing by one.
   */
  private pendingFor(code: number): number {
    const pending = this.pending;
    let next = -1;
    for (let i = 0; i < pending.length; i++) {
      const p = pending[i]!;
      const inProgress = p.replies.length > 0;
      if (isValidReply(p.command, code) && (!inProgress || endsPreliminary(code))) return next < 0 || namesCommand(code) || this.doubtful.has(pending[next]!) ? i : -1;
      if (next < 0 && !inProgress) next = i;
    }
    return -1;
  }

  /**
   * A reply valid for no command at its place, by the table: the command the order of replies leaves it, or
   * -1. That is the next command in order when no transfer in progress could take it either, or the one
   * transfer in progress when nothing else waits; never when the code names another kind of command
   * (namesCommand: that command is missing from the capture), nor when the next command's reply may
   * already have been kept apart (a doubtful command).
   */
  private byOrder(code: number): number {
    if (namesCommand(code)) return -1;
    const pending = this.pending;
    let inProgress = 0;
    for (let i = 0; i < pending.length; i++) {
      if (pending[i]!.replies.length > 0) {
        inProgress++;
        continue;
      }
      return inProgress === 0 && !this.doubtful.has(pending[i]!) ? i : -1;
    }
    return inProgress === 1 && endsPreliminary(code) ? 0 : -1;
  }

  /** The pending command at i has a reply: a final one (2xx-6xx) takes it, and the older ones without reply, off the list. */
  private paired(i: number, code: number): Exchange {
    const pending = this.pending;
    const ex = pending[i]!;
    if (code >= 200) {
      removeAt(pending, i); // not splice: it makes an array of what it removes
      // Replies come in the order of the commands: older commands still without any reply will get none.
      // A transfer in progress (it had its 1xx) may be overtaken by ABOR, STAT or NOOP, so it stays.
      for (let k = i - 1; k >= 0; k--) {
        if (pending[k]!.replies.length > 0) continue;
        pending[k]!.note = NO_REPLY;
        if (this.abort?.abor === pending[k]) this.abort = null; // an ABOR without reply aborts nothing we can see
        removeAt(pending, k);
      }
    }
    return ex;
  }

  /**
   * A one-line final reply that nothing will show, read from its bytes (see OnAsciiLine): when exchanges
   * are not all kept (the counting views) and no one streams events, a reply to a command the analysis
   * does not refer to (no transfer, no prediction) is paired and acted on, then dropped. Its text is not
   * needed then, unless the session reads it: 213 to SIZE, 227, 228, 229, 257 and the replies to a login go the
   * usual way, as do preliminary replies, the greeting, multi-line replies and replies without their command.
   * On the capture of small control packets, making the text, the Reply and its arrays of every reply
   * was a tenth of the analysis.
   */
  private quietReply(buf: Buffer, off: number, n: number, at: Readonly<Stamp>): boolean {
    if (!this.greetingSeen || n < 3) return false; // the parser offers no line of an open multi-line reply
    if (this.abort !== null) return false; // the replies after an ABOR are read whole (see reply)
    const a = buf[off]! - 0x30;
    const b = buf[off + 1]! - 0x30;
    const c = buf[off + 2]! - 0x30;
    if (a < 2 || a > 6 || b < 0 || b > 9 || c < 0 || c > 9 || (n > 3 && buf[off + 3] !== SPACE)) return false;
    const code = a * 100 + b * 10 + c;
    if (code === 227 || code === 228 || code === 229 || code === 257) return false;
    const i = this.pendingFor(code);
    if (i < 0) return false;
    const ex = this.pending[i]!;
    // A transfer or a prediction is what makes an exchange kept (see keep).
    if (ex.transfer !== null || ex.prediction !== null || (code === 213 && ex.command === 'SIZE')) return false;
    // A login's replies are read as text: the 331 and the 230 may say the login is anonymous.
    if (ex.command === 'USER' || ex.command === 'PASS' || ex.command === 'ACCT') return false;
    // The session's end is not moved along here: finish() sets it, and only streaming outputs look before.
    this.paired(i, code);
    QUIET.code = code;
    QUIET.start.frame = at.frame;
    QUIET.start.sec = at.sec;
    QUIET.start.nsec = at.nsec;
    this.act(ex, QUIET);
    this.quietLines++;
    return true;
  }

  /** What a reply changes in the session. */
  private act(ex: Exchange, reply: Reply): void {
    const code = reply.code;
    const ok = code >= 200 && code < 300;
    const frame = reply.start.frame;
    if (ok && changesFiles(ex.command) && !this.writes.includes(ex)) {
      if (this.writes.length < 20) this.writes.push(ex);
      this.writeCount++;
    }
    switch (ex.command) {
      case 'USER':
        if (code === 331 && ex.argument === this.pendingUser) {
          this.prompt = reply;
          this.anonymousBy(anonymousEvidence(ex.argument, reply, null));
        }
        if (code === 230) this.login(ex.argument, null, 'success', frame, reply);
        else if (code === 530) this.login(ex.argument, null, 'failure', frame, null);
        break;
      case 'PASS':
      case 'ACCT':
        if (code === 230 || code === 202) this.login(this.pendingUser ?? '', this.pendingPassword, 'success', frame, reply);
        else if (code === 530 || code === 500 || code === 501) this.login(this.pendingUser ?? '', this.pendingPassword, 'failure', frame, null);
        break;
      case 'CWD':
      case 'XCWD':
        if (ok || code === 250) this.cwd = resolvePath(this.cwd, ex.argument);
        break;
      case 'CDUP':
      case 'XCUP':
        if (ok) this.cwd = resolvePath(this.cwd, '..');
        break;
      case 'PWD':
      case 'XPWD':
        if (code === 257) {
          const dir = parse257(reply.message);
          if (dir !== null && dir.startsWith('/')) this.cwd = resolvePath('/', dir);
          else if (dir !== null) this.cwd = dir; // a server with another notation (VMS, Windows drive)
        }
        break;
      case 'SIZE':
        if (code === 213 && ex.path !== null) {
          const n = leadingNumber(reply.message);
          if (Number.isSafeInteger(n) && n >= 0) this.rememberSize(ex.path, n);
        }
        break;
      case 'REST':
        if (code === 350) {
          const n = Number(ex.argument.trim());
          this.restOffset = Number.isSafeInteger(n) && n >= 0 ? n : null;
        }
        break;
      case 'TYPE':
        if (ok) this.type = ex.argument.trim().toUpperCase();
        break;
      case 'AUTH':
        if (code === 234) this.startTls(`AUTH ${ex.argument}`.trim(), frame);
        break;
      case 'PROT':
        if (ok) this.model.dataProtected = ex.argument.trim().toUpperCase() === 'P';
        if (ok && this.model.dataProtected) this.engine.finding('protected-data', this.id, [frame], { keyLog: this.engine.keyLog !== null });
        break;
      case 'QUIT':
        if (code === 221) this.model.quit = true;
        break;
      case 'ABOR':
        if (this.abort?.abor === ex && code >= 200) this.aborted(ex, code);
        break;
      case 'PORT':
      case 'EPRT':
      case 'LPRT':
        this.engine.predictionAnswered(ex, code);
        break;
    }
    // Passive replies are read by their code, whatever the command (some servers answer PASV with 229).
    if (code === 227) this.engine.predict(this, ex, 'PASV', parsePasvReply(reply.message), reply.start);
    else if (code === 229) this.engine.predict(this, ex, 'EPSV', parseEpsvReply(reply.message), reply.start);
    else if (code === 228) this.engine.predict(this, ex, 'LPSV', parseLpsvReply(reply.message), reply.start);
    if (ex.transfer !== null) this.engine.transferReply(this, ex, reply);
  }

  /**
   * ABOR's final reply: accepted (225, 226), the data command it aborted will get no reply after it (RFC 959
   * section 4.1.3 answers the data command first), so it waits no more; refused, the transfer went on.
   */
  private aborted(abor: Exchange, code: number): void {
    const transfer = this.abort!.transfer;
    this.abort = null;
    if (code !== 225 && code !== 226) {
      delete transfer.abortedBy;
      return;
    }
    const k = this.pending.indexOf(transfer);
    if (k < 0) return;
    removeAt(this.pending, k);
    transfer.note ??= `aborted by the client (ABOR, exchange ${abor.index}): no final reply of its own in the capture (RFC 959 section 4.1.3 has the server answer it 426 before ABOR's 226)`;
  }

  /** A login's result; `welcome` is the 230 that accepted it (evidence of an anonymous login, with the user and the 331). */
  private login(user: string, password: string | null, result: 'success' | 'failure', frame: number, welcome: Reply | null): void {
    const by = anonymousEvidence(user, user === this.pendingUser ? this.prompt : null, welcome);
    this.model.loginAttempts.push({ user, password, result, frame, anonymousBy: by });
    if (result === 'failure') this.engine.loginFailed(this, frame);
    if (this.model.login !== 'success') this.model.login = result;
    if (result === 'success') {
      this.model.user = user;
      this.anonymousBy(by);
    }
  }

  private anonymousBy(by: AnonymousBy | null): void {
    this.model.anonymous = by !== null;
    this.model.anonymousBy = by;
  }

  private rememberSize(path: string, n: number): void {
    this.sizePaths[this.sizeNext] = path;
    this.sizeValues[this.sizeNext] = n;
    this.sizeNext = (this.sizeNext + 1) % this.engine.limits.maxRememberedSizes;
  }

  /** The size a SIZE reply gave for the path (the latest), or null. */
  sizeOf(path: string): number | null {
    for (let k = 1; k <= this.sizePaths.length; k++) {
      const ring = this.engine.limits.maxRememberedSizes;
      const i = (this.sizeNext - k + ring) % ring;
      if (this.sizePaths[i] === path) return this.sizeValues[i]!;
    }
    return null;
  }

}

/**
 * Commands whose argument the analysis never reads, and whose exchange it never keeps on its own (no data
 * connection, no address, no login, no directory change, no file changed): quietCommand may take them.
 */
function argumentUnread(verb: string): boolean {
  switch (verb) {
    case 'NOOP':
    case 'PWD':
    case 'XPWD':
    case 'MDTM':
    case 'SYST':
    case 'FEAT':
    case 'HELP':
    case 'QUIT':
    case 'MODE':
    case 'STRU':
    case 'ALLO':
    case 'OPTS':
    case 'CLNT':
      return true;
    default:
      return false;
  }
}

/** Commands that change the server's files (a switch: a verb of the table compares with these by identity). */
function changesFiles(verb: string): boolean {
  switch (verb) {
    case 'STOR':
    case 'STOU':
    case 'APPE':
    case 'DELE':
    case 'MKD':
    case 'XMKD':
    case 'RMD':
    case 'XRMD':
    case 'RNTO':
    case 'SITE':
      return true;
    default:
      return false;
  }
}

/** The telnet commands of a line (TELNET_* bits), by their RFC 854 names, as the model has them. */
function telnetNames(bits: number): Array<'IP' | 'DM' | 'other'> {
  const names: Array<'IP' | 'DM' | 'other'> = [];
  if (bits & TELNET_IP) names.push('IP');
  if (bits & TELNET_DM) names.push('DM');
  if (bits & TELNET_OTHER) names.push('other');
  return names;
}

/** Removes a[i], moving the later elements down. */
function removeAt<T>(a: T[], i: number): void {
  for (let k = i + 1; k < a.length; k++) a[k - 1] = a[k]!;
  a.pop();
}

/** The number a text starts with, before blanks or its end ("213 1024" has 1024); NaN when it does not. */
function leadingNumber(text: string): number {
  let i = 0;
  while (i < text.length && (text.charCodeAt(i) === SPACE || text.charCodeAt(i) === 0x09)) i++;
  let n = 0;
  const from = i;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === SPACE || c === 0x09) break;
    if (c < 0x30 || c > 0x39 || i - from >= 16) return NaN;
    n = n * 10 + (c - 0x30);
  }
  return i > from ? n : NaN;
}

export function seconds(s: { sec: number; nsec: number }): number {
  return s.sec + s.nsec / 1e9;
}

/** Handshake message types by name (RFC 8446 4, RFC 5246 7.4); -1 is a ChangeCipherSpec record. */
const TLS_MESSAGES: Record<number, string> = {
  [-1]: 'ChangeCipherSpec', 1: 'ClientHello', 2: 'ServerHello', 4: 'NewSessionTicket', 8: 'EncryptedExtensions', 11: 'Certificate',
  12: 'ServerKeyExchange', 13: 'CertificateRequest', 14: 'ServerHelloDone', 15: 'CertificateVerify', 16: 'ClientKeyExchange', 20: 'Finished', 24: 'KeyUpdate',
};

/** The note of a command no reply answered: one string, however many commands (the timeline words it per language). */
export const NO_REPLY = 'no reply in the capture';

/** Key log lines as "a.keys lines 1, 2, 4": each file once. */
function linesText(lines: ReadonlyArray<{ file: string; line: number }>): string {
  const byFile = new Map<string, number[]>();
  for (const l of lines) byFile.set(l.file, [...(byFile.get(l.file) ?? []), l.line]);
  return [...byFile].map(([f, n]) => `${f} line${n.length === 1 ? '' : 's'} ${n.sort((a, b) => a - b).join(', ')}`).join('; ');
}

/** The model's account of a handshake; `failed` is filled in as records fail. */
export function tlsInfo(h: TlsHandshake, failed: [number, number]): TlsInfo {
  return {
    version: h.version,
    suite: h.suiteName,
    sni: h.sni,
    resumed: h.resumed,
    extendedMasterSecret: h.extendedMasterSecret,
    encryptThenMac: h.encryptThenMac,
    helloRetry: h.helloRetry,
    keys: h.keys,
    keyLines: h.keyLines.map((l) => `${l.file}:${l.line}`),
    failed,
  };
}
