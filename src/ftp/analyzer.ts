import { ConnectionLog, connectionSteps, type ConnectionSummary } from '../flow/connection-log.js';
import type { Connection, Stamp, TcpListener } from '../flow/connections.js';
import { teeSinks, type Dir, type EndReason, type GapReason, type StreamSink } from '../flow/stream-sink.js';
import { lazyTimeline, type CaptureLoss, type Exchange, type Finding, type FtpAnalysis, type FtpSession, type LiveEvent, type ManifestEntry, type Prediction, type PredictionSource, type Reply, type SessionDigest, type TimelineEvent, type Totals, type Transfer } from '../model/ftp-model.js';
import { portArithmetic, type Parsed } from './address.js';
import type { TransferFiles } from './extraction.js';
import { FindingBook } from './finding-book.js';
import { describeCause, type FindingFacts, type FindingKind, type TransferCause } from './findings.js';
import { byImportance } from '../model/severity.js';
import type { DataUse } from './commands.js';
import { isPrivate, isPublic } from './address-scope.js';
import { DataObserver } from './data-channel.js';
import { Expectations, ruleFor, withinReach, type MatchRule } from './expectations.js';
import { Sniffer } from './sniffer.js';
import { resolvePath } from './paths.js';
import type { KeyLog } from '../tls/keylog.js';
import { TlsDecoder } from '../tls/decoder.js';
import { ClientHelloSniffer } from '../tls/hello.js';
import { TimelineRecorder, timelineOrder, type TimelineSink } from './timeline.js';
import { ControlSession, DEFAULT_FTP_LIMITS, seconds, tlsInfo, type FtpLimits, type SessionEngine } from './session.js';
import { COST, type MemoryBudget, unlimitedBudget } from '../memory-budget.js';

/** Options of the FTP analysis. */
export interface FtpOptions {
  /** Ports where FTP servers listen (21, 990 and those named with --ports). */
  ports: ReadonlySet<number>;
  /** Ports whose control connections are TLS from the first byte (implicit FTPS, 990); none by default. */
  implicitTls?: ReadonlySet<number>;
  /** The TLS key log that opens FTPS (--tls-keylog); none by default. */
  keyLog?: KeyLog | null;
  /** Told each event as soon as it is known (streaming outputs); optional. */
  onEvent?: (event: LiveEvent) => void;
  /**
   * Let sessions go once they and their transfers have been told, so that memory stays bounded however
   * long the capture: 'live' keeps only a digest of each (the last 1,000) and the totals; 'report' (a
   * file's summary, see onSessionDone and onFindingDone) also holds to the end what later traffic can
   * still change, so that what is told is what a whole analysis would say: the first session between two
   * hosts whose commands are hidden (reportUnclaimed names it), and findings a series still counts on.
   */
  release?: false | 'live' | 'report';
  /** Where every transferred file goes (--extract); plugged in by the caller. */
  extract?: TransferFiles;
  /**
   * With release: told each session, as a whole analysis, when it and its transfers are over (before it is
   * released). Its findings are all those of the session, final or not (see onFindingDone).
   */
  onSessionDone?: (analysis: FtpAnalysis) => void;
  /**
   * With release: told each finding of a released session once nothing can change it any more, with its
   * place in the order findings were made (FtpAnalyzer.findingOrder). Those still held at the end are in
   * result().
   */
  onFindingDone?: (finding: Finding, order: number) => void;
  /** Recognise FTP on other ports by its first lines (default on). */
  sniff: boolean;
  /**
   * Keep every command and reply in the model (default). False for outputs that read none (the summary
   * and connection tables): then memory does not grow with the commands, only with sessions and transfers.
   */
  keepExchanges?: boolean;
  /**
   * Keep a summary of every TCP connection, FTP or not (default), for the connection list. False: only
   * FTP's, so that memory does not grow with the capture's other traffic.
   */
  logEveryConnection?: boolean;
  /** Keep the timeline in the model (JSON, the timeline view, the ladder); default on. */
  keepTimeline?: boolean;
  /** The budget the model's tables draw from (--max-memory); default unlimited. */
  memory?: MemoryBudget;
  limits: FtpLimits;
}

export const DEFAULT_FTP_OPTIONS: FtpOptions = { ports: new Set([21]), sniff: true, limits: DEFAULT_FTP_LIMITS };


/**
 * A session's place in its life, for retention: 'open' while its control connection is; 'closing' while its
 * end is being told (its transfers, its findings, the session-end event); 'over' once told, when a release
 * may let it go (with its transfers told, its awaited predictions expired, its data connections closed).
 * `reported`: its findings about transfers and predictions have been made (at its end, or at the end of
 * the capture for one still open).
 */
interface SessionLife {
  stage: 'open' | 'closing' | 'over';
  reported: boolean;
}

/** A transfer's way to being told: half done (its final reply, or its data connection's close), or told. */
type TransferStage = 'reply' | 'connection' | 'told';

/**
 * Follows every FTP control connection and attaches data connections to the commands they serve.
 *
 * A data connection is matched to a prediction (PORT, EPRT, LPRT, 227, 228, 229) first on the advertised
 * address and port, then on the control connection's peer and that port (NAT). It is attributed to the
 * data-bearing command that used the prediction — the first RETR, STOR, STOU, APPE, LIST, NLST or MLSD
 * sent after it — not to whatever came first (clients send SIZE or CWD in between). A connection that
 * opens before its prediction is seen (reordered packets) waits among the unclaimed and is bound late.
 */
export class FtpAnalyzer implements TcpListener, SessionEngine {
  clock: Readonly<Stamp> = { frame: 0, sec: 0, nsec: 0 };
  readonly limits: FtpLimits;
  readonly keepExchanges: boolean;
  readonly streaming: boolean;
  readonly memory: MemoryBudget;
  readonly keyLog: KeyLog | null;
  readonly implicitTls: ReadonlySet<number>;
  readonly log = new ConnectionLog();
  private readonly sessions = new Map<number, ControlSession>();
  private readonly predictions = new Map<number, Prediction>();
  private readonly transfers = new Map<number, Transfer>();
  private sessionIds = 0;
  private predictionIds = 0;
  private transferIds = 0;
  private readonly byConn = new Map<number, ControlSession>();
  /** Every finding, folded and counted in series (ftp/finding-book.ts). */
  private readonly book: FindingBook;
  /** The data connections announced and still awaited. */
  private readonly expected: Expectations;
  /** TLS 1.2 session ids and tickets control connections issued in clear, with their session (the latest kept). */
  private readonly issuedBy = new Map<string, ControlSession>();

  tlsIssued(s: ControlSession, key: string): void {
    if (this.issuedBy.size >= this.limits.maxTrackedClients) this.issuedBy.delete(this.issuedBy.keys().next().value!);
    this.issuedBy.set(key, s);
  }

  /** A session whose commands TLS hides (no keys), by its client's address (see reportHiddenUnreachable). */
  private readonly hiddenByClient = new Map<string, ControlSession>();
  /** The first session between two hosts whose commands are hidden (see commandsHidden), by pairKey. */
  private readonly hiddenByPair = new Map<string, ControlSession>();
  /** Transfers made without a prediction that may still take a connection nothing announced (claimUnpredicted). */
  private readonly awaitingUnpredicted = new Set<Transfer>();
  private readonly observers = new Map<number, DataObserver>();
  /** Connections involving an FTP host that no prediction claimed (yet). */
  private readonly unclaimed: DataObserver[] = [];
  /** The two hosts of each session held, as pairKey, with how many sessions they have. */
  private readonly sessionPairs = new Map<string, number>();
  /** Addresses of FTP hosts, with how many sessions or predictions name them. */
  private readonly hosts = new Map<string, number>();
  private readonly ftpConnections = new Set<number>();
  /** Running totals, and digests of released sessions (live capture). */
  readonly totals: Totals = { sessions: 0, transfers: 0, bytes: 0, findings: {} };
  readonly digests: SessionDigest[] = [];
  /** Where each held session is in its life (see SessionLife), by id: the one record of retention. */
  private readonly lives = new Map<number, SessionLife>();
  /** Where each transfer is on its way to being told (see TransferStage), by id. */
  private readonly transferStages = new Map<number, TransferStage>();
  /** Matched connections waiting for the command that will use their prediction, by prediction id. */
  private readonly waiting = new Map<number, DataObserver>();

  private readonly extractor: TransferFiles | null;
  /** Makes the timeline's events, when they are kept or streamed. */
  private readonly recorder: TimelineRecorder | null;
  /** Each held session's timeline events, in the order they were told (when the model keeps the timeline). */
  private readonly timelines: Map<number, TimelineEvent[]> | null;

  constructor(private readonly options: FtpOptions = DEFAULT_FTP_OPTIONS) {
    this.limits = options.limits;
    this.keepExchanges = options.keepExchanges ?? true;
    this.keyLog = options.keyLog ?? null;
    this.implicitTls = options.implicitTls ?? new Set();
    this.memory = options.memory ?? unlimitedBudget();
    this.streaming = options.onEvent !== undefined;
    this.extractor = options.extract ?? null;
    this.timelines = options.keepTimeline === false ? null : new Map();
    this.recorder = this.timelines === null && !this.streaming ? null : new TimelineRecorder(this.timelineEvent);
    this.book = new FindingBook(this.limits, options.release !== undefined && options.release !== false, {
      counted: (f, isNew) => {
        this.totals.findings[f.kind] = (this.totals.findings[f.kind] ?? 0) + 1;
        if (isNew) this.emit({ type: 'finding', at: this.now(), finding: f });
      },
      done: options.onFindingDone,
      holds: (session) => this.sessions.has(session),
    });
    this.expected = new Expectations(this.limits, {
      capped: (p, scope, limit) => void this.finding('prediction-cap', scope === 'session' ? p.session : null, [p.setup.frame], { scope, limit }),
      host: (address, n) => this.addHost(address, n),
      left: (p) => {
        if (this.looseIds.has(p.id) && p.connection === null && p.transfers.length === 0) this.letGo(p);
      },
    });
  }

  bind(clock: Readonly<Stamp>): void {
    this.clock = clock;
  }

  emit(event: LiveEvent): void {
    this.options.onEvent?.(event);
  }

  /** An event of the timeline: kept with its session, and streamed with what it names. */
  private readonly timelineEvent: TimelineSink = (e, conn, named) => {
    // A prediction the model does not keep has no event in it; past the memory budget, events are counted only.
    if (this.timelines !== null && !(e.prediction !== null && this.looseIds.has(e.prediction))) {
      if (this.memory.fits(COST.event)) {
        this.memory.charge('timeline', COST.event);
        const list = this.timelines.get(e.session!);
        if (list === undefined) this.timelines.set(e.session!, [e]);
        else list.push(e);
      } else this.memory.let('events', this.clock.frame);
    }
    if (!this.streaming) return;
    const k = e.kind;
    this.emit({
      type: 'timeline',
      event: e,
      connection: conn === null ? null : connectionSteps(conn),
      exchange: k === 'command' || k === 'reply' ? (named as Exchange) : null,
      prediction: k === 'prediction' ? (named as Prediction) : null,
      transfer: e.transfer === null ? null : (named as Transfer | null),
    });
  };

  /** Tells the timeline a command (`reply` null) or a reply of a session, when its exchange is in the model. */
  exchangeEvent(s: ControlSession, ex: Exchange, reply: Reply | null): void {
    if (this.recorder === null) return;
    if (reply === null) this.recorder.command(s.id, s.model.connection, ex);
    else this.recorder.reply(s.id, s.model.connection, ex, reply.start);
  }

  /** A copy of the clock, for events. */
  private now(): Stamp {
    return { frame: this.clock.frame, sec: this.clock.sec, nsec: this.clock.nsec };
  }

  // ---- TcpListener

  tick(nowSec: number): void {
    if (this.heldHead < this.heldUntil.length) this.releaseExpired(nowSec);
    if (this.unclaimedClosed.size > 0) {
      this.onRelease?.(this.unclaimedClosed);
      this.unclaimedClosed.clear();
    }
  }

  /** Connections that closed without becoming FTP's (unclaimed, or silent on an FTP port): a live capture drops their packets. */
  private readonly unclaimedClosed = new Set<number>();

  opened(conn: Connection): StreamSink | null {
    const logSink = this.log.opened(conn);
    const ports = this.options.ports;
    if (ports.has(conn.sPort) || (ports.has(conn.cPort) && conn.origin !== 'syn')) {
      // A session begins when a side speaks (or the capture began mid-stream): a SYN alone, a scan or a
      // flood, is no FTP session and keeps nothing but its connection.
      this.pendingControl.add(conn.id);
      return teeSinks(logSink, new PendingControl(conn, ports.has(conn.sPort) ? 0 : 1, this));
    }
    const observer = new DataObserver(conn, (o) => this.dataDone(o), this.extractor !== null, this.limits.maxEarlyDataBytes);
    const match = this.expected.match(conn, seconds(this.clock));
    if (match !== null) {
      if (this.extractor !== null) observer.early = [];
      this.observers.set(conn.id, observer);
      this.ftpConnections.add(conn.id);
      this.attach(match.p, observer, match.rule);
      return teeSinks(logSink, this.protectedData(match.p, conn, observer));
    }
    if (this.hosts.has(conn.clientAddress) || this.hosts.has(conn.serverAddress)) {
      this.observers.set(conn.id, observer);
      this.unclaimed.push(observer);
      if (this.unclaimed.length > this.limits.maxUnannounced) this.unclaimed.shift();
      if (this.claimUnpredicted(observer)) this.ftpConnections.add(conn.id);
      // Between the hosts of an encrypted session: its ClientHello may show it resumes that session's TLS (passive mode: the TCP client is the TLS client).
      if (this.hiddenByPair.has(pairKey(conn.clientAddress, conn.serverAddress))) {
        observer.hello = new ClientHelloSniffer(0);
        return teeSinks(teeSinks(logSink, observer), observer.hello);
      }
      return teeSinks(logSink, observer);
    }
    return this.options.sniff ? teeSinks(logSink, new Sniffer(conn, this)) : logSink;
  }

  /**
   * A data connection of a session that agreed PROT P, with a key log given: its TLS is opened and the
   * observer sees the files' bytes (or, when the key log cannot open it, the ciphertext as before).
   */
  private protectedData(p: Prediction, conn: Connection, observer: DataObserver): StreamSink {
    const s = this.sessions.get(p.session);
    if (this.keyLog === null || s === undefined || !s.model.dataProtected) return observer;
    const failed: [number, number] = [0, 0];
    let clientDir: Dir = 0;
    observer.tlsUndecided = true;
    return new TlsDecoder(this.keyLog, observer, {
      handshake: (h) => {
        clientDir = h.clientDir;
        observer.tls = tlsInfo(h, failed);
        observer.tlsUndecided = false;
        if (observer.transfer !== null) {
          observer.transfer.tls = observer.tls;
          this.beginFile(observer.transfer, observer);
        }
      },
      problem: (dir, frame, why) => {
        if (why.startsWith('a record could not be opened')) failed[dir === clientDir ? 0 : 1]++;
        const ftpClientSends = (dir === 0) === (conn.clientAddress === s.client.address);
        this.finding('tls-problem', s.id, [frame], { connection: 'data', from: ftpClientSends ? 'client' : 'server', why });
      },
    }, true);
  }

  closed(conn: Connection): void {
    this.recorder?.closed(conn);
    // A connection to an FTP port on which nobody spoke: no session, only counted; a live capture drops its packets.
    if (this.pendingControl.delete(conn.id)) {
      this.countSilent(conn);
      if (this.options.release === 'live' && this.onRelease !== null) this.unclaimedClosed.add(conn.id);
    }
    // A live capture logs only FTP's connections (and forgets them with their session). A file's analysis
    // logs them all for the connection list; without it, those of FTP and of FTP's hosts (a transfer may
    // still claim one of these once it is closed).
    const ftpish = this.ftpConnections.has(conn.id) || (this.options.release !== 'live' && this.observers.has(conn.id));
    if (ftpish) this.log.closed(conn);
    else if (!this.options.release && this.options.logEveryConnection !== false) this.log.aside(conn);
    else this.log.discard(conn);
    const session = this.byConn.get(conn.id);
    if (session !== undefined) {
      session.finish();
      this.quietLines += session.quietLines;
      this.retireSession(session);
      const life = this.lives.get(session.id)!;
      life.stage = 'closing';
      // Transfers whose data is over (or never came) will get no more: they are told now.
      for (const id of session.model.transfers) {
        const t = this.transfers.get(id);
        const stage = this.transferStages.get(id);
        if (t !== undefined && stage !== 'told' && (t.connection === null || stage === 'connection')) this.tell(t);
      }
      this.reportSession(session.id);
      this.emit({ type: 'session-end', at: this.now(), session: session.model });
      life.stage = 'over';
      this.maybeRelease(session.id);
    }
    const observer = this.observers.get(conn.id);
    if (observer !== undefined) {
      this.observers.delete(conn.id);
      const i = this.unclaimed.indexOf(observer);
      if (i >= 0) {
        this.unclaimed.splice(i, 1);
        this.reportUnclaimed(observer);
      }
      if (!observer.done) {
        observer.done = true;
        this.dataDone(observer);
      }
      // Logged in case it turned out to be FTP's (reportUnclaimed); a report that lets sessions go lets it go too.
      if (this.options.release === 'report' && !this.ftpConnections.has(conn.id)) this.log.forget([conn.id]);
      // Nothing claims a closed connection any more: a live capture drops its packets (at the next tick, in one pass).
      if (this.options.release === 'live' && !this.ftpConnections.has(conn.id) && this.onRelease !== null) this.unclaimedClosed.add(conn.id);
    }
    const waiting = this.releaseWaits.get(conn.id);
    if (waiting !== undefined) {
      this.releaseWaits.delete(conn.id);
      this.maybeRelease(waiting);
    }
  }

  /** Sessions whose release waits for a data connection to close (and be logged), by that connection. */
  private readonly releaseWaits = new Map<number, number>();
  /** A report's sessions waiting for their predictions to expire (capture seconds), about in that order. */
  private heldUntil: Array<{ id: number; until: number }> = [];
  private heldHead = 0;

  /** Lets go the sessions whose predictions have expired. */
  private releaseExpired(now: number): void {
    while (this.heldHead < this.heldUntil.length && this.heldUntil[this.heldHead]!.until < now) this.maybeRelease(this.heldUntil[this.heldHead++]!.id);
    if (this.heldHead > 1024 && this.heldHead * 2 > this.heldUntil.length) {
      this.heldUntil = this.heldUntil.slice(this.heldHead);
      this.heldHead = 0;
    }
  }

  /**
   * With --extract, once result() ran: the manifest's entries (read back from where they were kept, in
   * the order they were made, until closeManifest) and where it was written.
   */
  get manifest(): { count: number; entries: () => Iterable<ManifestEntry> } | null {
    const x = this.extractor;
    return x === null || this.manifestPath === null ? null : { count: x.count, entries: () => x.entries() };
  }
  manifestPath: string | null = null;
  /** Why manifest.json could not be written, when the file system refused it. */
  manifestFailure: string | null = null;

  /** Lets the manifest's entries go. */
  closeManifest(): void {
    this.extractor?.close();
  }

  /** Lines of ended sessions read from their bytes alone (ControlSession.quietCommand and quietReply). */
  quietLines = 0;

  /** FTP sessions found so far. */
  get sessionCount(): number {
    return this.sessionIds;
  }

  /**
   * A connection from the client of a session whose commands are hidden (TLS without keys) to another host
   * than its server, never answered: probably the data connection its encrypted 227 announced, at an address
   * the NAT could not rewrite because it cannot read the reply (the classic FTPS-behind-NAT failure).
   */
  private reportHiddenUnreachable(c: Connection): void {
    const s = this.hiddenByClient.get(c.clientAddress);
    if (s === undefined || c.serverAddress === s.server.address || s.model.tls === null) return;
    const at = seconds(c.syn!);
    if (at < seconds(s.model.start) || (s.model.end.frame > s.model.start.frame && at > seconds(s.model.end) + 60)) return;
    this.finding('ftps-nat', s.id, [c.first.frame], { client: c.clientAddress, address: c.serverAddress, port: c.sPort, server: s.server.address, syns: c.packets[0]!, tls: s.model.tls.command });
    this.ftpConnections.add(c.id);
  }

  commandsHidden(s: ControlSession): void {
    if (s.model.tls !== null && !this.hiddenByClient.has(s.client.address)) {
      if (this.hiddenByClient.size >= this.limits.maxTrackedClients) this.hiddenByClient.clear();
      this.hiddenByClient.set(s.client.address, s);
    }
    // The first such session between the two hosts, by id (as reportUnclaimed names it); maybeRelease
    // replaces one it lets go.
    const key = pairKey(s.client.address, s.server.address);
    const first = this.hiddenByPair.get(key);
    if (first === undefined || first.id > s.id) {
      this.hiddenByPair.set(key, s);
      // A report held the one it replaces for this alone.
      if (first !== undefined) this.maybeRelease(first.id);
    }
  }

  loginFailed(s: ControlSession, frame: number): void {
    this.book.loginFailed(s.id, s.client.address, s.server.address, frame, seconds(this.clock));
  }

  /** Whether a connection belongs to FTP as far as known now: a control connection, or a (possible) data connection. */
  follows(conn: Connection): boolean {
    return this.byConn.has(conn.id) || this.observers.has(conn.id) || this.ftpConnections.has(conn.id) || this.pendingControl.has(conn.id);
  }

  /** A connection to an FTP port on which nobody has spoken (yet): closed so, it is no session (see PendingControl). */
  isSilent(conn: Connection): boolean {
    return this.pendingControl.has(conn.id);
  }

  private silentReported = false;
  private budgetReported = false;
  /** Connections to an FTP port closed before a word: how they ended, and the first servers they went to. */
  private readonly silent = { connections: 0, unanswered: 0, refused: 0, silent: 0, servers: new Set<string>(), moreServers: new Set<string>(), frames: [] as number[] };

  private countSilent(conn: Connection): void {
    const s = this.silent;
    s.connections++;
    if (conn.synAck === null && conn.rst === null) s.unanswered++;
    else if (conn.synAck === null || conn.handshakeAck === null) s.refused++;
    else s.silent++;
    if (s.frames.length < this.limits.maxFindingFrames) s.frames.push(conn.first.frame);
    if (s.servers.has(conn.serverAddress)) return;
    // The first five servers are named; the others counted (up to the tracked clients' bound).
    if (s.servers.size < 5) s.servers.add(conn.serverAddress);
    else if (s.moreServers.size < this.limits.maxTrackedClients) s.moreServers.add(conn.serverAddress);
  }

  /** Connections to an FTP port on which nobody has spoken yet (see PendingControl), by id. */
  private readonly pendingControl = new Set<number>();

  /** A side spoke on a connection to an FTP port: its session begins (PendingControl). */
  openSession(conn: Connection, commandDir: Dir): ControlSession {
    this.pendingControl.delete(conn.id);
    return this.startSession(conn, commandDir);
  }

  /** A connection on another port turned out to be FTP (see Sniffer). */
  promote(conn: Connection, commandDir: Dir): ControlSession {
    const s = this.startSession(conn, commandDir);
    this.finding('ftp-on-other-port', s.id, [this.clock.frame], { port: commandDir === 0 ? conn.sPort : conn.cPort });
    return s;
  }

  /** The loss before the batch being analysed (see captureLoss), or null. */
  private batchLoss: { lost: number; shed: number; first: Stamp } | null = null;

  /**
   * A live capture lost packets before the batch about to be analysed (or, with null, that batch is done):
   * every session still open, and each of its transfers not yet told, may be missing some, and so may
   * those that begin in the batch. Each says so (CaptureLoss); a session's finding comes at its end.
   */
  captureLoss(loss: { lost: number; shed: number; frame: number; sec: number; nsec: number } | null): void {
    if (loss === null) {
      this.batchLoss = null;
      return;
    }
    this.batchLoss = { lost: loss.lost, shed: loss.shed, first: { frame: loss.frame, sec: loss.sec, nsec: loss.nsec } };
    for (const s of this.sessions.values()) {
      if (this.lives.get(s.id)?.stage !== 'open') continue;
      this.markLoss(s.model);
      for (const id of s.model.transfers) {
        const t = this.transfers.get(id);
        if (t !== undefined && this.transferStages.get(id) !== 'told') this.markLoss(t);
      }
    }
  }

  private markLoss(x: { captureLoss?: CaptureLoss }): void {
    const l = this.batchLoss!;
    if (x.captureLoss === undefined) x.captureLoss = { lost: l.lost, shed: l.shed, first: l.first };
    else {
      x.captureLoss.lost += l.lost;
      x.captureLoss.shed += l.shed;
    }
  }

  private startSession(conn: Connection, commandDir: Dir): ControlSession {
    const s = new ControlSession(conn, ++this.sessionIds, this, commandDir);
    if (this.batchLoss !== null) this.markLoss(s.model);
    this.sessions.set(s.id, s);
    this.lives.set(s.id, { stage: 'open', reported: false });
    this.totals.sessions++;
    this.byConn.set(conn.id, s);
    this.ftpConnections.add(conn.id);
    this.addHost(s.client.address, 1);
    this.addHost(s.server.address, 1);
    const pair = pairKey(s.client.address, s.server.address);
    this.sessionPairs.set(pair, (this.sessionPairs.get(pair) ?? 0) + 1);
    this.recorder?.follow(conn, s.id, 'control', conn.clientAddress === s.client.address && conn.cPort === s.client.port, null, false);
    return s;
  }

  private retireSession(s: ControlSession): void {
    this.addHost(s.client.address, -1);
    this.addHost(s.server.address, -1);

  }

  private addHost(address: string, n: number): void {
    const v = (this.hosts.get(address) ?? 0) + n;
    if (v <= 0) this.hosts.delete(address);
    else this.hosts.set(address, v);
  }

  // ---- SessionEngine: predictions

  predict(s: ControlSession, ex: Exchange, source: PredictionSource, parsed: Parsed | { valid: true; port: number }, setup: Stamp): void {
    const frame = setup.frame;
    if (!parsed.valid) {
      this.finding('bad-address', s.id, [frame], { source, reason: parsed.reason });
      return;
    }
    const active = source === 'PORT' || source === 'EPRT' || source === 'LPRT';
    const listener = active ? s.client : s.server;
    const full = 'host' in parsed ? parsed : null;
    const advertised = full !== null && !full.unspecified && full.host !== '' ? full.host : listener.address;
    const addressDiffers = advertised !== listener.address;
    const p: Prediction = {
      id: ++this.predictionIds,
      session: s.id,
      source,
      mode: active ? 'active' : 'passive',
      exchange: ex.index,
      setup,
      connector: active ? 'server' : 'client',
      from: active ? s.server.address : s.client.address,
      to: { address: advertised, port: parsed.port },
      controlPeer: { address: listener.address, port: parsed.port },
      addressDiffers,
      thirdParty: active && addressDiffers,
      numbers: full?.numbers ?? null,
      arithmetic: full?.numbers !== undefined ? portArithmetic(full.numbers) : null,
      expires: seconds(setup) + this.limits.predictionTimeoutSec,
      status: 'unused',
      connection: null,
      rule: null,
      transfers: [],
    };
    this.predictions.set(p.id, p);
    ex.prediction = p.id;
    // In the model while it keeps the announcing exchange; else held only while awaited or used, and let go
    // (counted) otherwise: a session of millions of PORTs keeps a bounded few.
    // Kept with the exchange that announced it (which names it), charged whatever the budget says now: the
    // exchange was let in, and the two go together.
    if (s.keep(ex)) {
      this.memory.charge('predictions', COST.prediction);
      s.model.predictions.push(p.id);
    } else {
      // Counted against the budget when it is what refused the exchange (not the session's cap on exchanges).
      if (!this.memory.fits(COST.exchange)) this.memory.let('predictions', frame);
      this.looseIds.add(p.id);
      s.loose.push(p.id);
    }
    if (active && p.to.port < 1024) {
      this.finding('privileged-port', s.id, [frame], { source, port: p.to.port });
    }
    if (active && isPrivate(advertised) && isPublic(s.server.address)) {
      this.finding('private-port-address', s.id, [frame], { source, address: advertised, server: s.server.address });
    }
    this.expected.add(p);
    this.recorder?.prediction(p, s.model.connection);
    // A connection that opened before this prediction was seen (reordered capture) is bound now.
    for (const o of [...this.unclaimed]) {
      const rule = ruleFor(p, o.conn);
      if (rule !== null && o.transfer === null && withinReach(o.conn, p, this.limits.earlyConnectionSec)) {
        this.unclaimed.splice(this.unclaimed.indexOf(o), 1);
        this.ftpConnections.add(o.conn.id);
        this.attach(p, o, rule);
        break;
      }
    }
  }

  /** Predictions held but not in the model (see predict). */
  private readonly looseIds = new Set<number>();
  /** Per session, loose predictions let go unused: counted for the unused-prediction finding. */
  private readonly letGoUnused = new Map<number, { count: number; nat: number; first: Prediction | null; frames: number[] }>();

  /** A loose prediction was used: the model takes it after all (what uses it is in the model). */
  private adopt(p: Prediction): void {
    if (!this.looseIds.delete(p.id)) return;
    const s = this.sessions.get(p.session);
    if (s === undefined) return;
    const i = s.loose.indexOf(p.id);
    if (i >= 0) s.loose.splice(i, 1);
    this.memory.charge('predictions', COST.prediction);
    // In id order, as predictionFor reads them (a later one may be in the model already).
    const ids = s.model.predictions;
    let at = ids.length;
    while (at > 0 && ids[at - 1]! > p.id) at--;
    ids.splice(at, 0, p.id);
  }

  /** A loose prediction that nothing used and nothing awaits any more: only its count stays. */
  private letGo(p: Prediction): void {
    this.looseIds.delete(p.id);
    this.predictions.delete(p.id);
    this.waiting.delete(p.id);
    const s = this.sessions.get(p.session);
    if (s !== undefined) {
      const i = s.loose.indexOf(p.id);
      if (i >= 0) s.loose.splice(i, 1);
    }
    if (p.status === 'refused') return;
    let tally = this.letGoUnused.get(p.session);
    if (tally === undefined) this.letGoUnused.set(p.session, (tally = { count: 0, nat: 0, first: null, frames: [] }));
    tally.count++;
    if (tally.frames.length < 10) tally.frames.push(p.setup.frame);
    if (p.addressDiffers && p.mode === 'passive') {
      tally.nat++;
      tally.first ??= p;
    }
  }

  predictionAnswered(ex: Exchange, code: number): void {
    if (ex.prediction === null || code < 400) return;
    // A loose prediction capped out of the table before its reply came is gone already.
    const p = this.predictions.get(ex.prediction);
    if (p === undefined) return;
    if (p.status === 'unused') p.status = 'refused';
    this.expected.drop(p);
  }

  /** Binds a data connection to a prediction, and to the transfer that used the prediction, if there is one yet. */
  private attach(p: Prediction, o: DataObserver, rule: MatchRule): void {
    const first = p.connection === null;
    this.adopt(p);
    if (first) {
      p.connection = o.conn.id;
      p.rule = rule;
      p.status = 'matched';
      // Advertised one address, reached at the server's own: a NAT between them that works.
      if (p.mode === 'passive' && p.addressDiffers && rule === 'control-peer') {
        this.finding('nat-passive-address', p.session, [p.setup.frame, o.conn.first.frame], { source: p.source, advertised: p.to.address, server: p.controlPeer.address, port: p.to.port });
      }
    }
    const t = p.transfers.map((id) => this.transfers.get(id)).find((x) => x !== undefined && x.connection === null);
    if (t !== undefined) this.bindTransfer(t, o, rule);
    else if (!this.waiting.has(p.id)) this.waiting.set(p.id, o);
    if (p.mode === 'passive' || !first) this.expected.drop(p); // a passive port is used once; active mode may reuse its PORT
  }

  // ---- SessionEngine: transfers

  startTransfer(s: ControlSession, ex: Exchange, use: DataUse): void {
    const p = this.predictionFor(s);
    // Before a download, SIZE announces what will come; before an APPE, it is where the new bytes will go.
    const sized = ex.path !== null ? s.sizeOf(ex.path) : null;
    const announced = use === 'download' ? sized : null;
    const fileOffset = s.restOffset ?? (ex.command === 'APPE' ? sized : 0);
    const t: Transfer = {
      id: ++this.transferIds,
      session: s.id,
      exchange: ex.index,
      command: ex.command,
      path: ex.path ?? (ex.argument !== '' ? ex.argument : s.cwd),
      cwd: ex.cwd ?? s.cwd,
      request: ex.request,
      direction: use,
      mode: p?.mode ?? 'unknown',
      prediction: p?.id ?? null,
      connection: null,
      rule: null,
      bytes: 0,
      missingBytes: 0,
      wrongDirectionBytes: 0,
      firstData: null,
      lastData: null,
      duration: null,
      throughput: null,
      announcedSize: announced,
      restOffset: s.restOffset,
      fileOffset,
      type: s.type,
      protected: s.model.dataProtected,
      preliminary: null,
      final: null,
      finalMessage: null,
      firstMissingOffset: null,
      dataDir: null,
      afterResetBytes: 0,
      expectedBytes: null,
      dataEnd: null,
      abortedAt: null,
      status: 'unfinished',
      causeFacts: null,
      cause: null,
      causeZh: null,
    };
    s.restOffset = null;
    s.keep(ex);
    if (this.batchLoss !== null) this.markLoss(t);
    this.transfers.set(t.id, t);
    this.totals.transfers++;
    s.model.transfers.push(t.id);
    ex.transfer = t.id;
    if (p !== null) {
      this.adopt(p);
      p.transfers.push(t.id);
      const o = this.waiting.get(p.id);
      if (o !== undefined) {
        this.waiting.delete(p.id);
        this.bindTransfer(t, o, p.rule ?? 'advertised');
      }
    } else {
      // No prediction captured for it: take a connection between the session's hosts that opened around now.
      const now = seconds(this.clock);
      const o = this.unclaimed.find((u) => u.transfer === null && involves(u.conn, s) && Math.abs(seconds(u.conn.first) - now) < this.limits.unannouncedWindowSec);
      if (o !== undefined) {
        this.unclaimed.splice(this.unclaimed.indexOf(o), 1);
        this.ftpConnections.add(o.conn.id);
        this.bindTransfer(t, o, 'unpredicted');
      } else {
        this.awaitingUnpredicted.add(t);
        // Bounded whatever the capture holds: the oldest go first (they are the least likely to be answered).
        if (this.awaitingUnpredicted.size > this.limits.maxAwaitingUnannounced) this.awaitingUnpredicted.delete(this.awaitingUnpredicted.values().next().value!);
      }
    }
  }

  /**
   * The prediction a data command uses: the newest of its session that no other command used (and the
   * server did not refuse); else, in active mode, the last PORT again (the server reuses it).
   */
  private predictionFor(s: ControlSession): Prediction | null {
    // The model's and the loose ones, newest first (both lists are in the order made).
    const ids = s.model.predictions;
    const loose = s.loose;
    let reusable: Prediction | null = null;
    for (let i = ids.length - 1, j = loose.length - 1; i >= 0 || j >= 0; ) {
      const id = j < 0 || (i >= 0 && ids[i]! > loose[j]!) ? ids[i--]! : loose[j--]!;
      const p = this.predictions.get(id);
      if (p === undefined) continue;
      if (p.status === 'refused' || p.status === 'dropped') continue;
      if (p.transfers.length === 0) return p;
      if (p.mode === 'active') reusable ??= p;
      // A passive port already used replaces every older one: this command's own PASV was not captured.
      else break;
    }
    return reusable;
  }

  /**
   * Claims a connection without prediction for a transfer of its hosts that still waits for one: the
   * oldest such transfer, made within 5 s. Only the transfers made without a prediction are looked at
   * (awaitingUnpredicted, in the order they were made); those that got a connection or a final reply leave
   * it as they are met. Going through every transfer of the capture for each such connection was
   * quadratic, and a capture can hold as many of both as it likes.
   */
  private claimUnpredicted(o: DataObserver): boolean {
    const now = seconds(this.clock);
    for (const t of this.awaitingUnpredicted) {
      if (t.connection !== null || t.final !== null || t.request === null || this.transfers.get(t.id) !== t) {
        this.awaitingUnpredicted.delete(t);
        continue;
      }
      const s = this.sessions.get(t.session)!;
      if (!involves(o.conn, s) || t.request === null || now - seconds(t.request) > this.limits.unannouncedWindowSec) continue;
      this.unclaimed.splice(this.unclaimed.indexOf(o), 1);
      this.awaitingUnpredicted.delete(t);
      this.bindTransfer(t, o, 'unpredicted');
      return true;
    }
    return false;
  }

  private bindTransfer(t: Transfer, o: DataObserver, rule: Transfer['rule']): void {
    this.dataOf.set(t, o);
    t.connection = o.conn.id;
    t.rule = rule;
    o.transfer = t;
    this.ftpConnections.add(o.conn.id);
    if (o.tls !== null) t.tls = o.tls;
    // A protected connection's file is begun once its TLS says whether the key log opens it.
    if (!o.tlsUndecided) this.beginFile(t, o);
    if (this.recorder !== null) {
      const s = this.sessions.get(t.session)!;
      const openerIsClient = t.mode === 'passive' || (t.mode === 'unknown' && o.conn.clientAddress === s.client.address);
      // Bound after its close (reordered packets, a late command): all its steps at once.
      this.recorder.follow(o.conn, t.session, 'data', openerIsClient, t, !this.observers.has(o.conn.id));
    }
    // A connection over before its command was read (reordered packets): its figures are final now.
    if (o.done) this.dataDone(o);
  }

  private beginFile(t: Transfer, o: DataObserver): void {
    if (this.extractor === null) return;
    const file = this.extractor.begin(t, this.sessions.get(t.session)!.model);
    if (file !== null) o.startFile(file, this.dataDirection(t, o));
  }

  /** A data connection is over: its transfer's figures are final. */
  private dataDone(o: DataObserver): void {
    if (o.tlsUndecided) {
      o.tlsUndecided = false;
      if (o.transfer !== null) this.beginFile(o.transfer, o);
    }
    o.file?.close();
    if (o.transfer === null) return;
    this.settle(o.transfer, o);
    this.transferDone(o.transfer, 'connection');
  }

  /**
   * Half of what ends a transfer: its final reply, or its data connection's close. Both done, it is told;
   * also when its session is over (a capture that stops mid-transfer: no final reply will come).
   */
  private transferDone(t: Transfer, what: 'reply' | 'connection'): void {
    const other = this.transferStages.get(t.id);
    if (other === 'told') return;
    const over =
      (t.connection === null && what === 'reply') ||
      (other !== undefined && other !== what) ||
      (what === 'connection' && (this.lives.get(t.session)?.stage ?? 'open') !== 'open');
    if (over) this.tell(t);
    else this.transferStages.set(t.id, what);
  }

  private tell(t: Transfer): void {
    this.conclude(t, false);
    this.transferStages.set(t.id, 'told');
    this.totals.bytes += t.bytes;
    this.recorder?.transferOver(t, this.sessions.get(t.session)!.model.start);
    this.emit({ type: 'transfer-end', at: this.now(), session: t.session, transfer: t });
    this.maybeRelease(t.session);
  }

  /** Each bound transfer's data connection, while the transfer is held. */
  private readonly dataOf = new WeakMap<Transfer, DataObserver>();

  dataOverBefore(ex: Exchange, at: Stamp): boolean {
    const t = ex.transfer === null ? undefined : this.transfers.get(ex.transfer);
    const o = t === undefined ? undefined : this.dataOf.get(t);
    if (t === undefined || o === undefined || o.conn.rst !== null) return false;
    const dir = this.dataDirection(t, o);
    const fin = o.conn.fin[dir];
    if (fin === null || fin.frame > at.frame || o.missing[dir]! > 0) return false;
    const expected = t.direction === 'download' && t.announcedSize !== null ? t.announcedSize - (t.restOffset ?? 0) : null;
    return expected === null || o.bytes[dir]! >= expected;
  }

  /** Called with a released session's connections (to drop their packets from a packet log). */
  onRelease: ((connections: ReadonlySet<number>) => void) | null = null;

  /**
   * One session as a whole analysis, for views that show a session once it is over (live capture). Call it
   * while the session is still held.
   */
  snapshot(id: number): FtpAnalysis {
    const s = this.sessions.get(id)!.model;
    const predictions = s.predictions.map((p) => this.predictions.get(p)).filter((p): p is Prediction => p !== undefined);
    const transfers = s.transfers.map((t) => this.transfers.get(t)).filter((t): t is Transfer => t !== undefined);
    const ids = new Set<number>([s.connection]);
    for (const t of transfers) if (t.connection !== null) ids.add(t.connection);
    for (const p of predictions) if (p.connection !== null) ids.add(p.connection);
    const connections = [...ids].sort((x, y) => x - y).map((c) => this.log.get(c)).filter((c): c is ConnectionSummary => c !== undefined);
    const findings = this.book.ofSession(id);
    const a = { sessions: [s], predictions, transfers, findings, connections };
    // The list now: a release drops it right after.
    const events = this.timelines?.get(id) ?? [];
    return lazyTimeline(a, () => events.slice().sort(timelineOrder));
  }

  /** The data connections of a session's transfers and predictions. */
  private dataConnections(m: FtpSession): number[] {
    const out: number[] = [];
    for (const id of m.transfers) {
      const c = this.transfers.get(id)?.connection;
      if (c != null) out.push(c);
    }
    for (const id of m.predictions) {
      const c = this.predictions.get(id)?.connection;
      if (c != null) out.push(c);
    }
    return out;
  }

  /** With release: lets a session go once it and all its transfers have been told. */
  private maybeRelease(id: number): void {
    if (!this.options.release || this.lives.get(id)?.stage !== 'over') return;
    const s = this.sessions.get(id);
    if (s === undefined || !s.model.transfers.every((t) => this.transferStages.get(t) === 'told' || this.transfers.get(t)?.connection === null)) return;
    // A report holds the first hidden session between two hosts: a connection between them, unclaimed, may still be named its.
    if (this.options.release === 'report' && this.hiddenByPair.get(pairKey(s.client.address, s.server.address)) === s) return;
    if (this.options.release === 'report') {
      // A prediction still awaited may yet bind a connection to one of its transfers (an active-mode server
      // connecting late): the session waits until the last one expires.
      const now = seconds(this.clock);
      const until = this.expected.awaitedUntil(id, now);
      if (until > -Infinity) {
        this.heldUntil.push({ id, until });
        return;
      }
    }
    // Its data may be over before its connection closes (both FINs seen): the connection's summary comes at the close.
    for (const c of this.dataConnections(s.model)) {
      if (this.observers.has(c)) {
        this.releaseWaits.set(c, id);
        return;
      }
    }
    this.options.onSessionDone?.(this.snapshot(id));
    const m = s.model;
    const findings = this.book.ofSession(id);
    this.digests.push({
      id, client: m.client, server: m.server, user: m.user, login: m.login, commands: m.commands,
      transfers: m.transfers.length, bytes: m.transfers.reduce((n, t) => n + (this.transfers.get(t)?.bytes ?? 0), 0),
      start: m.start, end: m.end, findings: findings.reduce((n, f) => n + f.count, 0),
    });
    if (this.digests.length > this.limits.maxSessionDigests) this.digests.shift();
    const conns = new Set<number>([m.connection]);
    for (const tid of m.transfers) {
      const t = this.transfers.get(tid);
      if (t?.connection != null) conns.add(t.connection);
      if (t !== undefined) this.extractor?.settle(t);
      this.transfers.delete(tid);
      this.transferStages.delete(tid);
    }
    for (const pid of m.predictions) {
      const p = this.predictions.get(pid);
      if (p === undefined) continue;
      if (p.connection !== null) conns.add(p.connection);
      // A report keeps the host counted, as the whole analysis (which lets no session go) does.
      this.expected.drop(p, this.options.release === 'report');
      this.waiting.delete(pid);
      this.predictions.delete(pid);
    }
    for (const pid of [...s.loose]) {
      const p = this.predictions.get(pid);
      if (p === undefined) continue;
      if (p.connection !== null) conns.add(p.connection);
      this.expected.drop(p, this.options.release === 'report');
      if (this.looseIds.has(pid)) this.letGo(p); // used, or left the table already: it goes with its session
    }
    this.letGoUnused.delete(id);
    this.memory.release('exchanges', s.charged);
    this.memory.release('predictions', COST.prediction * m.predictions.length);
    this.memory.release('timeline', COST.event * (this.timelines?.get(id)?.length ?? 0));
    this.expected.forgetSession(id);
    this.sessions.delete(id);
    const pair = pairKey(s.client.address, s.server.address);
    const pairs = (this.sessionPairs.get(pair) ?? 1) - 1;
    if (pairs <= 0) this.sessionPairs.delete(pair);
    else this.sessionPairs.set(pair, pairs);
    const hiddenKey = pairKey(s.client.address, s.server.address);
    if (this.hiddenByPair.get(hiddenKey) === s) {
      // The next such session between the two hosts among those still held, if any (live capture).
      let next: ControlSession | undefined;
      for (const x of this.sessions.values()) if (pairKey(x.client.address, x.server.address) === hiddenKey && (x.model.tls !== null || x.model.protectedFrom !== null) && (next === undefined || x.id < next.id)) next = x;
      if (next === undefined) this.hiddenByPair.delete(hiddenKey);
      else this.hiddenByPair.set(hiddenKey, next);
    }
    this.byConn.delete(m.connection);
    this.lives.delete(id);
    this.book.releaseSession(id);
    for (const c of conns) this.ftpConnections.delete(c);
    this.log.forget(conns);
    this.recorder?.forget(conns);
    this.timelines?.delete(id);
    this.onRelease?.(conns);
  }

  transferReply(_s: ControlSession, ex: Exchange, reply: Reply): void {
    const t = this.transfers.get(ex.transfer!)!;
    // STOU: the server names the file it made, in its 125/150 (or 250) reply (RFC 1123 4.1.2.9: "FILE: name").
    if (t.command === 'STOU') {
      const named = /\bFILE:\s*(\S+?)\.?$/i.exec(reply.message);
      if (named !== null) t.path = resolvePath(t.cwd, named[1]!);
    }
    if (reply.code < 200) {
      t.preliminary ??= reply.code;
      const m = /\((\d+) bytes?\)/i.exec(reply.message);
      if (m !== null && t.announcedSize === null && t.direction === 'download') t.announcedSize = Number(m[1]);
      return;
    }
    t.final = reply.code;
    t.finalMessage = reply.message;
    this.transferDone(t, 'reply');
    // A passive port serves one transfer: once it is over, its prediction waits no more.
    const p = t.prediction !== null ? (this.predictions.get(t.prediction) ?? null) : null;
    if (p !== null && p.mode === 'passive') this.expected.drop(p);
  }

  /** Whether the FTP client is the data connection's TCP client: it opened it in passive mode, the server did in active mode. */
  private ftpClientIsTcpClient(t: Transfer, o: DataObserver): boolean {
    if (t.mode === 'passive') return true;
    if (t.mode === 'active') return false;
    return o.conn.clientAddress === this.sessions.get(t.session)!.client.address;
  }

  /** The TCP direction of a data connection that carries the transfer's data. */
  private dataDirection(t: Transfer, o: DataObserver): Dir {
    const toClient: Dir = this.ftpClientIsTcpClient(t, o) ? 1 : 0;
    return t.direction === 'upload' ? (toClient === 1 ? 0 : 1) : toClient;
  }

  /** Fills a transfer's figures from its data connection. */
  private settle(t: Transfer, o: DataObserver): void {
    const dir = this.dataDirection(t, o);
    const other: Dir = dir === 0 ? 1 : 0;
    t.dataDir = dir === 0 ? 'client->server' : 'server->client';
    t.bytes = o.bytes[dir]!;
    t.missingBytes = o.missing[dir]!;
    t.firstMissingOffset = o.firstMissing[dir]! < 0 ? null : o.firstMissing[dir]!;
    t.afterResetBytes = o.conn.afterResetBytes[dir];
    t.wrongDirectionBytes = o.bytes[other]!;
    if (o.tls !== null) t.tls = o.tls;
    t.dataEnd = dataEnd(o.conn, this.ftpClientIsTcpClient(t, o));
    t.firstData = o.first[dir];
    t.lastData = o.last[dir] === null ? null : { ...o.last[dir]! };
    if (t.firstData !== null && t.lastData !== null) {
      // Times that go backwards (a capture fault, said once by the CLI) give no duration, never a negative one.
      const d = seconds(t.lastData) - seconds(t.firstData);
      t.duration = d >= 0 ? d : null;
      t.throughput = d > 0 ? t.bytes / d : null;
    }
  }

  // ---- findings

  /** Records a finding (folded into the first of its kind in the session): see FindingBook. */
  finding<K extends FindingKind>(kind: K, session: number | null, frames: number[], facts: FindingFacts[K]): Finding {
    return this.book.make(kind, session, frames, facts);
  }

  /** A session still held (open, or told and not yet let go), or null. */
  session(id: number): FtpSession | null {
    return this.sessions.get(id)?.model ?? null;
  }

  /** Where a finding stands in the order findings were made (result().findings is in that order). */
  findingOrder(f: Finding): number {
    return this.book.order(f);
  }

  // ---- the result

  /** The model, once the capture has been read (every connection closed). */
  result(): FtpAnalysis {
    for (const id of this.sessions.keys()) this.reportSession(id);
    const q = this.silent;
    if (q.connections > 0 && !this.silentReported) {
      this.silentReported = true;
      this.finding('silent-control-connections', null, q.frames, { connections: q.connections, unanswered: q.unanswered, refused: q.refused, silent: q.silent, servers: [...q.servers], moreServers: q.moreServers.size });
    }
    const m = this.memory;
    if (m.reached && !this.budgetReported) {
      this.budgetReported = true;
      this.finding('memory-budget', null, [m.firstShedAt!], { limitMiB: m.max / 2 ** 20, ...m.shed });
    }
    const connections = this.log.held().filter((c) => this.ftpConnections.has(c.id));
    if (this.extractor !== null) {
      const written = this.extractor.finish((id) => this.transfers.get(id));
      this.manifestPath = written.path;
      this.manifestFailure = written.failure;
    }
    const sessions = [...this.sessions.values()].map((s) => s.model);
    const predictions = [...this.predictions.values()];
    const transfers = [...this.transfers.values()];
    const a = { sessions, predictions, transfers, findings: this.book.all().sort(byImportance), connections };
    const timelines = this.timelines;
    // The sessions' lists as they are now: the capture has been read, nothing more will be told.
    const held = timelines === null ? [] : sessions.map((x) => timelines.get(x.id) ?? []);
    return lazyTimeline(a, () => held.flat().sort(timelineOrder));
  }

  /**
   * A session's findings about its transfers and predictions, made once, when nothing more can change
   * them: at the end of the capture, or (live) when the session is over. A session whose control
   * connection is still open at the end of a file is reported then too.
   */
  private reportSession(id: number): void {
    const s = this.sessions.get(id);
    const life = this.lives.get(id);
    if (s === undefined || life === undefined || life.reported) return;
    life.reported = true;
    const transfers = s.model.transfers.map((t) => this.transfers.get(t)).filter((t): t is Transfer => t !== undefined);
    const predictions = s.model.predictions.map((p) => this.predictions.get(p)).filter((p): p is Prediction => p !== undefined);
    for (const t of transfers) this.conclude(t, true);
    this.reportLogins(s, transfers);
    this.reportTransfers(transfers);
    // Loose predictions nothing used are counted with those let go before (see predict).
    for (const pid of [...s.loose]) {
      const p = this.predictions.get(pid);
      if (p !== undefined && p.connection === null && p.transfers.length === 0) this.letGo(p);
    }
    this.reportUnused(id, predictions, this.letGoUnused.get(id));
    this.reportUnanswered(predictions);
    this.reportThirdParty(s, predictions, transfers);
    const loss = s.model.captureLoss;
    if (loss !== undefined) {
      this.finding('capture-loss', id, [loss.first.frame], { lost: loss.lost, shed: loss.shed, transfers: transfers.filter((t) => t.captureLoss !== undefined).map((t) => t.id) });
    }
  }

  /** PORT or EPRT naming another host than the client: what the server did with it. */
  private reportThirdParty(s: ControlSession, predictions: Prediction[], transfers: Transfer[]): void {
    for (const p of predictions) {
      if (!p.thirdParty) continue;
      const code = s.exchange(p.exchange)?.replies.at(-1)?.code ?? null;
      const bytes = transfers.filter((t) => t.prediction === p.id).reduce((n, t) => n + t.bytes + t.wrongDirectionBytes, 0);
      const outcome = p.connection !== null ? 'connected' : code === null ? 'unanswered' : code >= 400 ? 'refused' : 'accepted';
      const frames = p.connection === null ? [p.setup.frame] : [p.setup.frame, this.log.get(p.connection)?.first.frame ?? p.setup.frame];
      this.finding('third-party', s.id, frames, { source: p.source, address: p.to.address, port: p.to.port, client: s.client.address, outcome, code, bytes });
    }
  }

  /** Sets a transfer's status and cause; `final`: the capture is over (and findings are due). */
  private conclude(t: Transfer, final: boolean): void {
    if (final && t.wrongDirectionBytes > 0) {
      const frame = t.request?.frame ?? 0;
      this.finding('wrong-direction', t.session, [frame], { command: t.command, path: t.path, upload: t.direction === 'upload', bytes: t.wrongDirectionBytes });
    }
    const code = t.final;
    const ok = code !== null && code >= 200 && code < 300;
    // ASCII mode changes line ends on the way: only an image (binary) transfer's bytes count against the size.
    if (t.direction === 'download' && t.announcedSize !== null && !(t.type ?? '').startsWith('A')) {
      const expected = t.announcedSize - (t.restOffset ?? 0);
      t.expectedBytes = expected >= 0 ? expected : null;
    }
    const clientReset = t.dataEnd?.how === 'rst' && t.dataEnd.by === 'client';
    // The control channel pairs an ABOR with the command it aborted (Exchange.abortedBy).
    const session = this.sessions.get(t.session);
    const aborted = session?.exchange(t.exchange)?.abortedBy;
    if (aborted !== undefined) t.abortedAt = session!.exchange(aborted)?.request?.frame ?? null;
    let cause: TransferCause | null = null;
    // Everything came and the server says so: an ABOR or a RST after that stopped nothing (vsftpd: 225 No transfer to ABOR).
    const whole = ok && t.connection !== null && t.missingBytes === 0 && (t.expectedBytes === null || t.bytes >= t.expectedBytes);
    if (t.abortedAt !== null && !whole) {
      // The client said it: ABOR, whatever the server answered (426 for the transfer, 226 for the ABOR).
      t.status = 'aborted';
      cause = { kind: 'client-abor', frame: t.abortedAt, bytes: t.bytes, expected: t.expectedBytes, code };
    } else if (clientReset && !whole) {
      // A client that resets the data connection before it has everything gave up on the transfer.
      t.status = 'aborted';
      cause = { kind: 'client-reset', bytes: t.bytes - t.afterResetBytes, afterReset: t.afterResetBytes, expected: t.expectedBytes, code };
    } else if (code === null) {
      t.status = 'unfinished';
      cause = { kind: 'no-final-reply', connection: t.connection !== null };
    } else if (ok) {
      t.status = 'incomplete';
      if (t.connection === null) cause = { kind: 'no-data-connection-seen' };
      else if (t.missingBytes > 0) cause = { kind: 'bytes-missing', bytes: t.missingBytes, firstAt: t.firstMissingOffset };
      // A 226 does not make a short transfer whole: fewer bytes than announced, none of them missing.
      else if (t.expectedBytes !== null && t.bytes < t.expectedBytes) cause = { kind: 'short', bytes: t.bytes, expected: t.expectedBytes, restOffset: t.restOffset, end: t.dataEnd };
      else t.status = 'complete';
    } else if (t.connection === null && t.preliminary === null && code !== 425 && code !== 426) {
      // Refused outright (550 and the like); a 425 or 426 means the data connection itself failed.
      t.status = 'refused';
      cause = { kind: 'refused', code };
    } else if (code === 426 || code === 451) {
      t.status = 'aborted';
      cause = failureCause(code, t.finalMessage, null);
    } else {
      t.status = 'failed';
      cause = failureCause(code, t.finalMessage, t.prediction === null ? null : (this.predictions.get(t.prediction) ?? null));
      if (t.prediction === null) {
        const s = this.sessions.get(t.session);
        const announced = s?.model.predictions.map((id) => this.predictions.get(id)).filter((p) => p !== undefined && p.exchange < t.exchange) ?? [];
        // No usable announcement: was the client's last PORT or EPRT refused, or was none sent at all?
        const refused = announced.filter((p) => p!.status === 'refused').at(-1);
        if (refused !== undefined) {
          const reply = s!.exchange(refused.exchange)?.replies.at(-1);
          cause = { kind: 'port-refused', source: refused.source, address: refused.to.address, port: refused.to.port, reply: reply ? { code: reply.code, message: reply.message } : null, code };
        } else if (code === 425 && announced.length === 0 && t.connection === null) {
          cause = { kind: 'no-port-or-pasv', code };
        }
      }
    }
    t.causeFacts = cause;
    if (cause !== null) {
      const words = describeCause(cause);
      t.cause = words.en;
      t.causeZh = words.zh;
    }
  }

  /**
   * Credentials sent in clear, anonymous logins, and anonymous users who write. Each login attempt says
   * whether it was anonymous (LoginAttempt.anonymousBy: the name, or the server's 331 or 230): a real
   * account's password is a credential whatever the account is called; writes are anonymous only when every
   * successful login of the session was.
   */
  private reportLogins(s: ControlSession, transfers: Transfer[]): void {
    const m = s.model;
    // A password sent after the control connection turned to TLS was not in clear (it is seen only through the key log).
    const clear = m.loginAttempts.filter((a) => a.password !== null && a.anonymousBy === null && (m.tls === null || a.frame < m.tls.frame));
    if (clear.length > 0) this.book.cleartext(s.id, m.client.address, m.server.address, clear);
    const successes = m.loginAttempts.filter((a) => a.result === 'success');
    const guest = successes.find((a) => a.anonymousBy !== null);
    if (guest === undefined) return;
    this.finding('anonymous-login', s.id, [guest.frame], { user: guest.user });
    const writes = s.writes;
    if (writes.length > 0 && successes.every((a) => a.anonymousBy !== null)) {
      const uploads = transfers.filter((t) => t.direction === 'upload' && t.status === 'complete').length;
      this.finding('anonymous-write', s.id, writes.slice(0, 20).map((e) => e.request?.frame ?? 0), { changes: writes.slice(0, 5).map((e) => `${e.command} ${e.path ?? e.argument}`), more: Math.max(0, s.writeCount - 5), uploads });
    }
  }

  /** One finding per session, status and cause for the transfers that did not complete. */
  private reportTransfers(transfers: Transfer[]): void {
    const groups = new Map<string, Transfer[]>();
    for (const t of transfers) {
      if (t.status === 'complete' || t.status === 'refused') continue;
      const key = `${t.session}\u0000${t.status}\u0000${t.cause}`;
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = []));
      g.push(t);
    }
    for (const g of groups.values()) {
      const t = g[0]!;
      const frames = g.slice(0, 10).map((x) => x.request?.frame ?? 0);
      this.finding(`transfer-${t.status as 'failed' | 'aborted' | 'incomplete' | 'unfinished'}`, t.session, frames, { command: t.command, path: t.path, transfers: g.length, cause: t.cause ?? '', causeZh: t.causeZh ?? '' });
    }
  }

  /** Predicted data connections that were tried but never established: the SYN unanswered, or refused. */
  private reportUnanswered(predictions: Prediction[]): void {
    for (const p of predictions) {
      const c = p.connection === null ? undefined : this.log.get(p.connection);
      if (c === undefined || c.handshake.synAck !== null || c.handshake.syn === null) continue;
      const refused = c.teardown.rst !== null;
      const why = p.mode === 'passive' ? (p.addressDiffers ? 'nat' : 'passive') : 'active';
      this.finding(refused ? 'data-connection-refused' : 'data-connection-unanswered', p.session, [c.handshake.syn.frame, p.setup.frame], {
        connector: p.connector, address: p.to.address, port: p.to.port, source: p.source, setupFrame: p.setup.frame, tries: c.toServer.packets, why, server: p.controlPeer.address,
      });
    }
  }

  /** A connection between the two hosts of an FTP session that nothing announced, when it carried data. */
  private reportUnclaimed(o: DataObserver): void {
    const c = o.conn;
    if (o.transfer === null && c.syn !== null && c.synAck === null) this.reportHiddenUnreachable(c);
    if (o.transfer !== null || o.bytes[0]! + o.bytes[1]! === 0) return;
    // An FTP host's traffic with anyone else (its HTTP to a third party) is none of FTP's business.
    if (!this.sessionPairs.has(pairKey(c.clientAddress, c.serverAddress))) return;
    // The first session between these hosts whose commands are hidden: indexed by the pair (going through
    // every session for every such connection was quadratic on a busy FTPS server's capture).
    const first = this.hiddenByPair.get(pairKey(c.clientAddress, c.serverAddress));
    // The encrypted session whose TLS session it resumes (its ticket or id, issued in clear), else the first between the hosts.
    const offered = o.hello?.offered ?? [];
    let s = first;
    let resumes: 'ticket' | 'session id' | null = null;
    for (const key of offered) {
      const x = this.issuedBy.get(key);
      if (x !== undefined && involves(c, x)) {
        s = x;
        resumes = key.startsWith('t:') ? 'ticket' : 'session id';
        break;
      }
    }
    this.finding('unpredicted-connection', s?.id ?? null, [c.first.frame], {
      client: c.clientAddress, clientPort: c.cPort, server: c.serverAddress, serverPort: c.sPort, bytes: o.bytes[0]! + o.bytes[1]!, encryptedSession: s?.id ?? null, resumes,
    });
    if (s !== undefined) this.ftpConnections.add(c.id);
  }

  /** One finding per session for predictions that no connection answered, with the likely cause. */
  private reportUnused(session: number, predictions: Prediction[], letGo?: { count: number; nat: number; first: Prediction | null; frames: number[] }): void {
    const bySession = new Map<number, Prediction[]>();
    for (const p of predictions) {
      if (p.connection !== null || p.status === 'refused') continue;
      // The command that would have used it was refused before any connection: nothing to explain.
      if (p.transfers.length > 0 && p.transfers.every((id) => this.transfers.get(id)?.status === 'refused')) continue;
      let list = bySession.get(p.session);
      if (list === undefined) bySession.set(p.session, (list = []));
      list.push(p);
    }
    const gone = letGo ?? { count: 0, nat: 0, first: null, frames: [] };
    if (gone.count > 0 && !bySession.has(session)) bySession.set(session, []);
    for (const [session, list] of bySession) {
      const nat = list.filter((p) => p.addressDiffers && p.mode === 'passive');
      const first = nat[0] ?? gone.first ?? undefined;
      const frames = [...list.slice(0, 10).map((p) => p.setup.frame), ...gone.frames].slice(0, 10);
      this.finding('unused-prediction', session, frames, {
        count: list.length + gone.count, nat: first === undefined ? null : { count: nat.length + gone.nat, advertised: first.to.address, server: first.controlPeer.address },
      });
    }
  }
}

/**
 * A connection to an FTP port, until a side speaks: its first bytes (or a gap: the capture began
 * mid-stream) open the session, which then gets everything; a connection closed before that (a SYN
 * unanswered, a handshake and a RST) never becomes one.
 */
class PendingControl implements StreamSink {
  private session: ControlSession | null = null;

  constructor(
    private readonly conn: Connection,
    private readonly commandDir: Dir,
    private readonly analyzer: { openSession(conn: Connection, commandDir: Dir): ControlSession },
  ) {}

  private open(): ControlSession {
    return (this.session ??= this.analyzer.openSession(this.conn, this.commandDir));
  }

  data(dir: Dir, buf: Buffer, off: number, len: number, at: number, when: Readonly<Stamp>): void {
    this.open().data(dir, buf, off, len, at, when);
  }

  gap(dir: Dir, at: number, len: number, reason: GapReason): void {
    this.open().gap(dir, at, len, reason);
  }

  end(dir: Dir, reason: EndReason): void {
    this.session?.end(dir, reason);
  }
}

/** Two addresses as one key, whichever comes first. */
function pairKey(a: string, b: string): string {
  return a < b ? `${a} ${b}` : `${b} ${a}`;
}

function involves(conn: Connection, s: ControlSession): boolean {
  const a = conn.clientAddress;
  const b = conn.serverAddress;
  return (a === s.client.address && b === s.server.address) || (a === s.server.address && b === s.client.address);
}

/** How a data connection ended, in FTP sides (`ftpClientIsTcpClient`: the FTP client opened it). */
function dataEnd(c: Connection, ftpClientIsTcpClient: boolean): Transfer['dataEnd'] {
  const side = (dir: Dir) => ((dir === 0) === ftpClientIsTcpClient ? 'client' : 'server');
  if (c.rst !== null) return { how: 'rst', by: side(c.rstDir) };
  if (c.fin[0] !== null && c.fin[1] !== null) return { how: 'fin', by: 'both' };
  if (c.fin[0] !== null) return { how: 'fin', by: side(0) };
  if (c.fin[1] !== null) return { how: 'fin', by: side(1) };
  return { how: 'open', by: null };
}

function failureCause(code: number, message: string | null, p: Prediction | null): TransferCause {
  switch (code) {
    case 425:
      if (p?.mode === 'active') return { kind: 'active-unreachable', address: p.to.address, port: p.to.port };
      if (p?.mode === 'passive') return { kind: 'passive-never-came', address: p.to.address, port: p.to.port, server: p.addressDiffers ? p.controlPeer.address : null };
      return { kind: 'no-data-connection', code };
    case 426:
      return { kind: 'aborted', code };
    case 451:
      return { kind: 'local-error', code };
    case 452:
    case 552:
      return { kind: 'no-room', code };
    default:
      return { kind: 'answered', code, message };
  }
}
