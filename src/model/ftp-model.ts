/**
 * The FTP session model: plain JSON-able data, the only thing views and outputs read.
 *
 * Cross-references are by number: frames (1-based, in reading order), connection ids (as in the
 * connection list), session ids, exchange indexes (within their session), prediction and transfer ids
 * (within the whole analysis). Times are exact: whole seconds since the epoch plus nanoseconds.
 */
import type { ConnectionSteps, ConnectionSummary, Stamp } from './capture.js';

export type { Stamp };

export interface HostPort {
  address: string;
  port: number;
}

/** One reply of the server: a single line, or all the lines of a multi-line reply. */
export interface Reply {
  code: number;
  /** Every line as sent, without the line ending (telnet commands removed). */
  lines: string[];
  /** The text of the last line, after the code (the message Zeek logs). */
  message: string;
  /** Where the reply started (its first line's frame) and where it ended. */
  start: Stamp;
  end: Stamp;
  /** Only for a reply whose lines came in more than one segment: the frame each line began in. */
  lineFrames?: number[];
}

/** A command of the client and the replies that answered it. */
export interface Exchange {
  /** Position in the session's exchanges. */
  index: number;
  /** The command in upper case, '<init>' for the greeting, '' for a reply whose command was not captured. */
  command: string;
  /** The argument as sent (may be empty). */
  argument: string;
  /** For commands whose argument is a path: the full path, from the tracked working directory. */
  path: string | null;
  /** LIST and NLST: the ls options sent before the path (`LIST -al /pub`: ['-al']), which are not part of it. */
  options?: string[];
  /** The working directory when the command was sent (null: not known). */
  cwd: string | null;
  request: Stamp | null;
  /** Preliminary (1xx) replies first, then the final one. */
  replies: Reply[];
  /** Seconds from the command to its first reply. */
  responseTime: number | null;
  /** The prediction this command set up (PORT, EPRT, PASV, EPSV, LPRT, LPSV). */
  prediction: number | null;
  /** The transfer this command caused (RETR, STOR, STOU, APPE, LIST, NLST, MLSD). */
  transfer: number | null;
  /** Why the pairing with its reply is unusual, when it is. */
  note?: string;
  /**
   * Telnet commands sent before the command on its line (RFC 854 names): 'IP' (Interrupt Process) and 'DM'
   * (Data Mark, the mark of the Synch), which RFC 959 section 4.1.3 has a client send before ABOR; 'other'.
   */
  telnet?: Array<'IP' | 'DM' | 'other'>;
  /** Where the command's own text began, when telnet commands alone filled the segments from `request` to it. */
  textAt?: Stamp;
  /**
   * A data command (RETR, STOR, LIST ...) the client aborted: the index of the ABOR exchange it sent while
   * this command waited for its final reply (absent again if the server refused the ABOR).
   */
  abortedBy?: number;
}

export type PredictionSource = 'PORT' | 'EPRT' | 'LPRT' | 'PASV' | 'EPSV' | 'LPSV';

/** A data connection announced on the control connection, before it is seen. */
export interface Prediction {
  id: number;
  session: number;
  source: PredictionSource;
  mode: 'active' | 'passive';
  /** The exchange (command) that set it up. */
  exchange: number;
  /** The frame that carried the address: the PORT/EPRT/LPRT command, or the 227/228/229 reply. */
  setup: Stamp;
  /** Who will connect: the server (active mode) or the client (passive mode). */
  connector: 'client' | 'server';
  /** The side that will connect, by the control connection's address. */
  from: string;
  /** Where the connection is expected, as advertised. For EPSV and an unspecified EPRT address, the control connection's peer. */
  to: HostPort;
  /** The same port at the control connection's address of the listening side (to match through NAT). */
  controlPeer: HostPort;
  /** The advertised address differs from the control connection's (a NAT, a misconfigured passive address, or a third party). */
  addressDiffers: boolean;
  /** PORT/EPRT naming a host other than the client: a third-party transfer or an FTP bounce. */
  thirdParty: boolean;
  /** The numbers as sent and the port arithmetic, for explanations ("200*256+100 = 51300"). */
  numbers: number[] | null;
  arithmetic: string | null;
  /** Capture time (seconds) after which it is no longer matched. */
  expires: number;
  status: 'matched' | 'unused' | 'refused' | 'dropped';
  /** The data connection that matched, and by which rule: the advertised address and port, or the control connection's peer and that port. */
  connection: number | null;
  rule: 'advertised' | 'control-peer' | null;
  /** The transfers that used it (normally one; active mode may reuse the last PORT). */
  transfers: number[];
}

export type TransferStatus =
  /** 226/250, every byte seen, and as many as were announced. */
  | 'complete'
  /** The final reply says it worked, but bytes are missing from the capture, or fewer came than were announced. */
  | 'incomplete'
  /** Stopped on purpose: by the client (ABOR, or a RST of the data connection), or by the server (426, 451). */
  | 'aborted'
  /** The data connection could not be made, or the server could not go on: 425, 452, 55x after a data connection. */
  | 'failed'
  /** No final reply in the capture. */
  | 'unfinished'
  /** Refused before any data connection (550 and the like). */
  | 'refused';

export interface Transfer {
  id: number;
  session: number;
  exchange: number;
  command: string;
  /** Full path (or the argument, or '' for a listing of the working directory). */
  path: string;
  /** The working directory when the command was sent ('.' while it is not known). */
  cwd: string;
  /** When the command was sent. */
  request: Stamp | null;
  /** download: server to client; upload: client to server; listing: server to client. */
  direction: 'download' | 'upload' | 'listing';
  mode: 'active' | 'passive' | 'unknown';
  prediction: number | null;
  /** The data connection (id in the connection list), null when none was seen. */
  connection: number | null;
  /** How the data connection was found: through the prediction's rule, or by time alone when no prediction was captured. */
  rule: 'advertised' | 'control-peer' | 'unpredicted' | null;
  /** Which way the data went in its connection (the client: the connection's SYN sender); null: no connection. */
  dataDir: 'client->server' | 'server->client' | null;
  /** Data bytes seen, and bytes missing from the capture (gaps). */
  bytes: number;
  missingBytes: number;
  /** Bytes in the unexpected direction (e.g. client to server during a RETR). */
  wrongDirectionBytes: number;
  firstData: Stamp | null;
  lastData: Stamp | null;
  duration: number | null;
  /** Bytes per second over the data's duration. */
  throughput: number | null;
  /** Size of the file announced by SIZE (213) or the 150 reply's "(N bytes)", for a download. */
  announcedSize: number | null;
  restOffset: number | null;
  /**
   * Where in the remote file the data begins: the REST offset, or for APPE the file's size before it (its
   * SIZE answer) when known; 0 for a whole file from its start; null when not known (an APPE without SIZE).
   */
  fileOffset: number | null;
  type: string | null;
  /** The data connection is TLS-protected (PROT P after AUTH). */
  protected: boolean;
  preliminary: number | null;
  final: number | null;
  finalMessage: string | null;
  /** Where the first missing byte is in the data, when bytes are missing. */
  firstMissingOffset: number | null;
  /** Data bytes that came after the receiver's RST: in flight when it reset, they crossed the wire (counted in bytes). */
  afterResetBytes: number;
  /** What the data should hold: the announced size less the REST offset (downloads); null when not known. */
  expectedBytes: number | null;
  /** How its data connection ended, as far as the capture shows, and which FTP side ended it (null: no connection). */
  dataEnd: { how: 'fin' | 'rst' | 'open'; by: 'client' | 'server' | 'both' | null } | null;
  /** The frame of the ABOR the client sent for it, when it did. */
  abortedAt: number | null;
  status: TransferStatus;
  /** Why it is not complete, as data (the catalogue, src/ftp/findings.ts, words it). */
  causeFacts: TransferCause | null;
  /** The same in words: the likely cause when it is not complete. */
  cause: string | null;
  /** The same in Chinese (the catalogue, src/ftp/findings.ts, says both). */
  causeZh: string | null;
  /** Its data connection's TLS, when the key log was asked to open it (PROT P with --tls-keylog). */
  tls?: TlsInfo;
  /** Live capture only: what was lost while it was open (absent when nothing was). */
  captureLoss?: CaptureLoss;
}

/** Why a transfer is not complete, or why its data is not all there: what the FTP stage saw. */
export type TransferCause =
  | { kind: 'no-final-reply'; connection: boolean }
  | { kind: 'no-data-connection-seen' }
  | { kind: 'bytes-missing'; bytes: number; firstAt: number | null }
  | { kind: 'short'; bytes: number; expected: number; restOffset: number | null; end: Transfer['dataEnd'] }
  | { kind: 'client-abor'; frame: number; bytes: number; expected: number | null; code: number | null }
  | { kind: 'client-reset'; bytes: number; afterReset: number; expected: number | null; code: number | null }
  | { kind: 'refused'; code: number }
  | { kind: 'active-unreachable'; address: string; port: number }
  | { kind: 'passive-never-came'; address: string; port: number; server: string | null }
  | { kind: 'no-data-connection'; code: number }
  | { kind: 'no-port-or-pasv'; code: number }
  | { kind: 'aborted'; code: number }
  | { kind: 'local-error'; code: number }
  | { kind: 'no-room'; code: number }
  | { kind: 'answered'; code: number; message: string | null }
  | { kind: 'port-refused'; source: PredictionSource; address: string; port: number; reply: { code: number; message: string } | null; code: number };

export type Severity = 'info' | 'notice' | 'warning' | 'alert';

/** What a TLS handshake showed in clear, and whether the key log opened its records (src/tls/decoder.ts). */
export interface TlsInfo {
  version: string;
  suite: string;
  sni: string | null;
  /** It resumed an earlier TLS session (an FTPS data connection resuming the control connection's). */
  resumed: boolean;
  extendedMasterSecret: boolean;
  encryptThenMac: boolean;
  helloRetry: boolean;
  /** 'decrypting', or why not: no key log given, no line for its client random, a suite ftpscope cannot open. */
  keys: 'decrypting' | 'no key log' | 'no matching line' | 'suite not supported';
  /** The key log lines that opened it ("file:line"). */
  keyLines: string[];
  /** Records that failed authentication, by direction [from the TLS client, to it]. */
  failed: [number, number];
  /** The server's certificate, when its Certificate message could be read (in clear in TLS 1.2; with the keys in 1.3). */
  certificate?: { subject: string; issuer: string; validFrom: string; validTo: string };
}

/** The TLS handshake messages a segment completed (the first 40 of a control connection), by RFC 8446/5246 names. */
export interface TlsMessages {
  frame: number;
  from: 'client' | 'server';
  names: string[];
}

export interface Finding {
  kind: string;
  severity: Severity;
  session: number | null;
  /** The frames involved (the first 20, when the finding repeats). */
  frames: number[];
  /** Says the first occurrence; `count` tells how many times it happened in the session. */
  message: string;
  count: number;
  /** The same in Chinese (the findings catalogue, src/ftp/findings.ts, says both). */
  messageZh: string;
  /** What was seen, by name, as the catalogue lists it for the kind: the words are made from these. */
  facts: Record<string, unknown>;
}

/**
 * What made a login anonymous (RFC 1635), as the session saw it: the user name (`anonymous` or `ftp`, the
 * anonymous account on every common server), the server's 331 to USER asking for an e-mail address or an
 * identity as password, or its 230 saying the login is a guest's or anonymous. Nothing else: a user called
 * `ftpuser` or `guest` is a real account unless the server says otherwise.
 */
export type AnonymousBy = 'user-name' | 'server-331' | 'server-230';

export interface LoginAttempt {
  user: string;
  /** Kept as sent; views mask it unless asked (anonymous logins' passwords, e-mail addresses, are shown). */
  password: string | null;
  result: 'success' | 'failure' | 'unknown';
  frame: number;
  /** What made this login anonymous; null: a real account (its password is masked, and sent in clear a finding). */
  anonymousBy: AnonymousBy | null;
}

/**
 * What a live capture lost while a session or transfer was open: it may be missing some of its packets.
 * Absent when nothing was lost (and always for a capture file, whose losses are gaps the TCP facts show).
 */
export interface CaptureLoss {
  /** Packets lost whole meanwhile (the kernel's buffer or ftpscope's backlog was full): any may have been its. */
  lost: number;
  /** Data packets ftpscope cut to their headers meanwhile (their bytes are gaps where they were its). */
  shed: number;
  /** The first packet analysed after the first loss (the loss came before it). */
  first: Stamp;
}

export interface FtpSession {
  id: number;
  /** The control connection (id in the connection list). */
  connection: number;
  client: HostPort;
  server: HostPort;
  ipVersion: number;
  start: Stamp;
  end: Stamp;
  /** The capture began after the session did (no handshake or no greeting). */
  midStream: boolean;
  greeting: Reply | null;
  user: string | null;
  password: string | null;
  /** The login is anonymous: `anonymousBy` says by what evidence. */
  anonymous: boolean;
  /**
   * What made the session's login anonymous (see AnonymousBy), null for a real account: for the user last
   * named, as far as the replies so far said, and once a login succeeded, for that login.
   */
  anonymousBy: AnonymousBy | null;
  login: 'success' | 'failure' | 'unknown' | 'none';
  loginAttempts: LoginAttempt[];
  /** The working directory at the end, when known. */
  cwd: string | null;
  /** Commands were lost from the capture at this frame: a CWD may be among them, so the working directory (and the paths after it) may be wrong from here on. */
  cwdUncertainFrom: number | null;
  /** AUTH TLS/SSL answered 234 (or implicit TLS): from the frame after it the control channel is encrypted. */
  tls: { command: string; frame: number; handshake?: TlsInfo; messages?: TlsMessages[] } | null;
  /** RFC 2228 protected commands (MIC, CONF, ENC, after AUTH GSSAPI and ADAT) from this frame on. */
  protectedFrom: number | null;
  /** PROT P was accepted: data connections are TLS-protected. */
  dataProtected: boolean;
  /**
   * The commands and their replies. Empty when the analysis was asked not to keep them (views that need
   * none, such as the summary: see FtpOptions.keepExchanges); `commands` counts them all the same.
   */
  exchanges: Exchange[];
  /** Commands the client sent, kept in `exchanges` or not. */
  commands: number;
  predictions: number[];
  transfers: number[];
  /** Commands and replies not shown because a limit was hit. */
  dropped: { commands: number; replies: number };
  quit: boolean;
  /** Live capture only: what was lost while it was open (absent when nothing was). */
  captureLoss?: CaptureLoss;
}

export type TimelineKind =
  /** TCP handshake, steps 1, 2 and 3. */
  | 'syn'
  | 'syn-ack'
  | 'handshake-ack'
  /** A connection picked up without its SYN: first seen here. */
  | 'seen'
  /** TCP teardown: a FIN from one side, or a RST. */
  | 'fin'
  | 'rst'
  /** A connection neither closed nor reset by the end of the capture: its last packet. */
  | 'open-at-end'
  | 'command'
  | 'reply'
  /** A data connection was announced (PORT, EPRT, 227, 229, ...). */
  | 'prediction'
  /** The first and the last data byte of a transfer. */
  | 'data-first'
  | 'data-last'
  /** A transfer whose data connection is not in the capture: at its command. */
  | 'no-data';

/** One thing that happened, for views that tell a session in time order. */
export interface TimelineEvent {
  at: Stamp;
  kind: TimelineKind;
  session: number | null;
  connection: number | null;
  /** Which connection of the session: its control connection, or a data connection. */
  role: 'control' | 'data';
  /** Who sent it, in FTP terms (the FTP client or server, whoever opened the TCP connection). */
  from: 'client' | 'server';
  exchange: number | null;
  prediction: number | null;
  transfer: number | null;
}

export interface FtpAnalysis {
  sessions: FtpSession[];
  predictions: Prediction[];
  transfers: Transfer[];
  findings: Finding[];
  /** The connections that belong to FTP: control and data. */
  connections: ConnectionSummary[];
  /** Everything above in time order: handshakes, commands, replies, predictions, data, teardowns. */
  timeline: TimelineEvent[];
}

/**
 * What the analysis tells as it goes (--format ndjson, live capture), each once, at the moment it is
 * known: every event of the one timeline (`event`, the same object the model's timeline holds) with what it
 * names, then the moments the model's objects are final: a transfer's figures, a finding, a session's end.
 * Exchanges, predictions, transfers and sessions are the model's own objects (copy to keep).
 */
export type LiveEvent =
  | { type: 'timeline'; event: TimelineEvent; connection: ConnectionSteps | null; exchange: Exchange | null; prediction: Prediction | null; transfer: Transfer | null }
  | { type: 'transfer-end'; at: Stamp; session: number; transfer: Transfer }
  | { type: 'finding'; at: Stamp; finding: Finding }
  | { type: 'session-end'; at: Stamp; session: FtpSession };

/** What is kept of a session once a live capture has reported it and let it go. */
export interface SessionDigest {
  id: number;
  client: HostPort;
  server: HostPort;
  user: string | null;
  login: FtpSession['login'];
  commands: number;
  transfers: number;
  bytes: number;
  start: Stamp;
  end: Stamp;
  findings: number;
}

/** Running totals of an analysis, whatever was released. */
export interface Totals {
  sessions: number;
  transfers: number;
  bytes: number;
  findings: Record<string, number>;
}

/**
 * Gives `a` a timeline built on first use by `build` (it has an event per packet-level step: a million
 * objects for a busy capture, which most views never read). JSON output reads it like any property.
 * Copies of an analysis must not spread it ({...a} would build it): they call this again.
 */
export function lazyTimeline<T extends Omit<FtpAnalysis, 'timeline'>>(a: T, build: () => TimelineEvent[]): T & FtpAnalysis {
  let timeline: TimelineEvent[] | null = null;
  Object.defineProperty(a, 'timeline', {
    enumerable: true,
    configurable: true,
    get: () => (timeline ??= build()),
    set: (v: TimelineEvent[]) => (timeline = v),
  });
  return a as T & FtpAnalysis;
}

/** One extracted (or not extractable) file, as the manifest lists it. */
export interface ManifestEntry {
  session: number;
  transfer: number;
  command: string;
  /** The full FTP path (or the listed directory, for a listing). */
  path: string;
  direction: Transfer['direction'];
  /** Where it was written, relative to the extraction folder; null when nothing was written. */
  file: string | null;
  /** Bytes of the file: the data seen and the holes between, up to the last byte known. */
  size: number;
  sha256: string | null;
  md5: string | null;
  /** Size announced by SIZE or the 150 reply. */
  announcedSize: number | null;
  restOffset: number | null;
  /**
   * The file holds part of the remote file: the bytes from this offset on (a download or upload resumed
   * with REST, an APPE), named NAME.part-OFFSET (NAME.appended for an APPE whose offset is not known); 0
   * for a whole file. `complete` is then false: the file is not the whole remote file.
   */
  fileOffset: number | null;
  /** APPE: the bytes were added to the end of the remote file. */
  appended: boolean;
  type: string | null;
  /** Bytes the capture does not have: kept as holes at their offsets. */
  missingBytes: number;
  holes: Array<{ offset: number; length: number }>;
  holesOmitted: number;
  /** Whole: no hole, and the size announced (when there was one) reached. */
  complete: boolean;
  /** The transfer's status and final reply ('complete', 'failed' 426, cut off by the end of the capture ...). */
  result: string;
  finalReply: number | null;
  /** The data connection was TLS-protected (PROT P): only ciphertext is in the capture. */
  protected: boolean;
  /** The file system stopped taking the data (disk full, offset too large): the file on disk is short; the note says why. */
  writeFailed: boolean;
  note: string | null;
}
