/**
 * The walkthrough's words. Every explanation goes through this interface, so that a language is one
 * object: English here, Chinese in messages-zh.ts. Parameters are plain values; texts from the wire come
 * in already escaped.
 */
/** Who sends: the FTP client or server, or a third host a data connection went to instead of the client (FTP bounce). */
export type Side = 'client' | 'server' | 'third';

/** What announced a data connection's port: a PORT/EPRT command, or the reply to PASV/EPSV. */
export interface Announcement {
  source: string;
  frame: number;
  /** True when the port came in the server's reply (passive mode). */
  reply: boolean;
}

/** What a transfer carried: a listing, or a file with its full path. */
export interface TransferWhat {
  listing: boolean;
  command: string;
  path: string;
}

/** The few words of the step headers. */
export interface HeaderWords {
  /** The language, for what the catalogue says in both (a finding's message). */
  lang: 'en' | 'zh';
  /** A frame and a range of frames, as every label writes them ("frame 9"; "第 9 帧"). */
  frameAt(frame: number): string;
  framesAt(first: number, last: number): string;
  client: string;
  server: string;
  /** A third host a data connection went to instead of the client. */
  third: string;
  bytes(n: number): string;
  data: string;
  noPackets: string;
  logFull(frame: number): string;
}

/** How tshark names a segment sent again. */
export type RetransmissionKind = 'plain' | 'fast' | 'spurious' | 'out-of-order';

/** Data segments of a summed-up transfer that were sent again: retransmissions (their bytes) and out of order. */
export interface Repeated {
  retransmitted: number;
  retransmittedBytes: number;
  outOfOrder: number;
}

function repeatedEn(r: Repeated | undefined): string {
  if (r === undefined) return '';
  const parts: string[] = [];
  if (r.retransmitted > 0) parts.push(`${plural(r.retransmitted, 'retransmission')} (${plural(r.retransmittedBytes, 'byte')} sent again)`);
  if (r.outOfOrder > 0) parts.push(`${plural(r.outOfOrder, 'segment')} out of order`);
  return parts.length > 0 ? `, of which ${parts.join(' and ')}` : '';
}

export interface Messages {
  words: HeaderWords;
  title(session: number, client: string, server: string): string;
  side(side: Side): string;
  /** "the control connection" / "the data connection for LIST" */
  connection(role: 'control' | 'data', command?: string): string;

  handshake1Control(clientPort: number, serverPort: number): string;
  /** `elsewhere`: the connection goes to `address`, not to the session's server (`server`): a NAT'd or wrong passive address. */
  handshake1DataPassive(clientPort: number, serverPort: number, by: Announcement | null, elsewhere?: { address: string; server: string } | null): string;
  /** `third`: the address the server connects to when it is not the client's (it obeyed a PORT naming another host). */
  handshake1DataActive(serverPort: number, clientPort: number, by: Announcement | null, from20: boolean, third: string | null): string;
  handshake2(conn: string, from: Side): string;
  handshake3(conn: string, from: Side): string;

  teardown1(conn: string, from: Side): string;
  teardown2(conn: string, from: Side): string;
  teardown3(conn: string, from: Side): string;
  teardown2and3(conn: string, from: Side): string;
  teardown4(conn: string, from: Side): string;
  reset(conn: string, from: Side): string;

  bareAck(from: Side, bytes: number): string;
  /** A segment whose bytes were sent before (as tshark names it: plain, fast, spurious, or out of order). */
  retransmission(bytes: number, kind?: RetransmissionKind): string;
  /** Bytes missing from the capture before this segment. */
  missingBefore(bytes: number): string;
  /** A segment carrying the continuation of a line begun earlier. */
  continuation(from: Side, bytes: number): string;
  /**
   * A segment of the client's carrying only telnet commands ahead of `command`'s text: `first`, the one the
   * line began in (Interrupt Process, RFC 959 4.1.3); `urgent`, one sent with URG (the Synch's Data Mark).
   */
  telnetAhead(command: string, first: boolean, urgent: boolean): string;
  /** A segment carrying further lines of a multi-line reply; `ends`: its last line is among them. */
  moreReplyLines(code: number, bytes: number, ends?: boolean): string;

  command(verb: string, argument: string, detail: CommandDetail): string;
  reply(code: number, command: string, detail: ReplyDetail): string;

  /** `bytes`: the stream's bytes, each once; `segments` counts every data segment, `repeated` those sent again. */
  dataSummary(from: Side, what: TransferWhat, bytes: number, segments: number, acks: number, firstFrame: number, lastFrame: number, repeated?: Repeated): string;
  dataSegment(from: Side, bytes: number): string;
  /** Why data was sent again or came out of order, after a summed-up transfer that had some. */
  lossLesson(retransmitted: number, outOfOrder: number): string;

  conclusionsTitle(): string;
  connectionsCount(control: number, data: number): string;
  controlPorts(clientPort: number, serverPort: number): string;
  dataPortLine(command: string, mode: 'active' | 'passive' | 'unknown', openerSide: Side, fromPort: number, toPort: number, how: string): string;
  usedData(commands: string[]): string;
  controlOnly(commands: string[]): string;
  portsMoved(ports: number[]): string;
  noData(): string;
  everyConnection(): string;

  /** Where the capture differs from the classic textbook session (../shared/reference), said where it happens. */
  textbook: TextbookWords;

  /** A SYN sent again, unanswered: `waits` are the seconds between tries; how it ended. */
  synRetries(from: Side, conn: string, tries: number, waits: number[], outcome: 'unanswered' | 'answered' | 'refused'): string;
  /** A RST answering a SYN: nobody listens there, or a firewall refuses. */
  refused(conn: string, from: Side, port: number): string;
  /**
   * What crossed a connection after `resetter` reset it: `segments` of data (`bytes`) and `others` without
   * data that `sender` had sent before the RST reached it, and the `resets` the resetter's TCP answered with.
   */
  afterReset(conn: string, resetter: Side, sender: Side, segments: number, bytes: number, others: number, resets: number): string;
  /** A finding of the session, at the step where it happened: the catalogue's words. */
  finding(severity: string, kind: string, message: string, count: number): string;
  /** A data connection that never completed its handshake, in the conclusions. */
  dataAttempt(command: string, mode: 'active' | 'passive' | 'unknown', opener: Side, fromPort: number, toPort: number, syns: number, refused: boolean): string;
  /** The findings that no step carried, in the conclusions. */
  laterFindings(): string;
  /** After AUTH TLS: the first segment each side sends is its part of the TLS handshake; the rest are encrypted records. */
  tlsHandshake(from: Side, bytes: number): string;
  /** The TLS handshake messages a segment completed, by name (ClientHello, ServerHello ...), each explained. */
  tlsMessages(from: Side, names: string[], version: string | null, certificate?: { subject: string; issuer: string; validFrom: string; validTo: string }): string;
  /** `decrypted`: the key log opens them, and none carried an FTP line. */
  tlsRecords(from: Side, bytes: number, decrypted?: boolean): string;
}

/** How the segment that carried the 226 stood against its data connection's teardown. */
export interface FinalAgainstTeardown {
  /** before: ahead of the first FIN; during: between the FINs (the textbook's place); after: both FINs before it. */
  order: 'before' | 'during' | 'after';
  /** Who sent the first FIN of the data connection, and in which frame. */
  closedFirst: Side;
  firstFin: number;
  /** The frame of the second FIN, when there was one. */
  secondFin: number | null;
}

/**
 * The textbook's session is one active-mode `ls` (../shared/reference/active-mode-walkthrough-zh.txt): every
 * ACK a step of its own, the client's data port N+1, the server connecting from port 20, the 226 between
 * the data connection's teardown steps 2 and 3, and no command the user did not type.
 */
export interface TextbookWords {
  /** A command or reply that also acknowledges what the other side sent (`what`: its last line, "331" or "PORT"). */
  alsoAcks(from: Side, bytes: number, what: string | null): string;
  /** The port a PORT or EPRT announces, against the textbook's N+1 (the control connection's port plus one). */
  dataPort(port: number, controlPort: number): string;
  /** A command the client program sends on its own (SYST, FEAT, TYPE, SIZE ...), which the textbook's session has not. */
  clientOwn(verb: string): string;
  /** The user's command behind a data command (ls or dir behind LIST, get behind RETR, put behind STOR). */
  userCommand(verb: string): string | null;
  finalReply(f: FinalAgainstTeardown): string;
  title(): string;
  /** Conclusions. `steps`: the steps whose segment carried an ACK the textbook draws apart. */
  acksRode(steps: number[]): string;
  /** The client's data ports of active transfers, against N+1, N+2 ... */
  clientPorts(ports: number[], controlPort: number): string;
  /** Passive mode: the server chose the data ports. */
  passivePorts(ports: number[]): string;
  /** The server's ports of active data connections, against port 20. */
  serverPorts(ports: number[]): string;
  /** Transfers whose 226 came after (or before) the data connection's teardown. */
  finalOrder(after: string[], before: string[]): string;
  extras(verbs: string[]): string;
  /** The data commands as sent, with the user commands they stand for. */
  asSent(verbs: string[]): string;
}

/** What a command-line client's user types for a data command. */
export const USER_COMMANDS: Readonly<Record<string, string>> = { LIST: 'ls / dir', NLST: 'ls / nlist', MLSD: 'ls / mls', RETR: 'get', STOR: 'put', STOU: 'put -u', APPE: 'append' };
/** Commands a client program sends on its own: the textbook's session has none of them. */
export const CLIENT_OWN = new Set(['SYST', 'FEAT', 'OPTS', 'TYPE', 'SIZE', 'MDTM', 'CLNT', 'PRET', 'MODE', 'STRU', 'EPSV', 'PASV', 'REST']);

export interface CommandDetail {
  /** Full path of a file argument. */
  path: string | null;
  /** PORT/EPRT: the address and port the client listens on, and the arithmetic. */
  listen?: { address: string; port: number; arithmetic: string | null };
  thirdParty?: boolean;
  passwordHidden?: boolean;
  /** ABOR: the Telnet IP and Synch were sent before it. */
  telnet?: boolean;
  /** Sent inside TLS (decrypted with the key log). */
  tls?: boolean;
}

export interface ReplyDetail {
  text: string;
  /** 227/229: where the client is to connect, and the arithmetic. */
  connectTo?: { address: string; port: number; arithmetic: string | null; differs: boolean; controlAddress: string };
  /** 257: the directory. */
  directory?: string | null;
  preliminary: boolean;
  /** 234: the key log opens the TLS that follows. */
  decrypted?: boolean;
  /** The final reply to a data command: what the model concluded of its transfer (a 226 alone does not make it complete). */
  transfer?: { complete: boolean; cause: string | null; causeZh: string | null; mode: 'active' | 'passive' | 'unknown'; tries: DataTries | null };
}

/** The SYNs of a transfer's data connection up to its final reply; 'none': no SYN of it is in the capture. */
export interface DataTries {
  syns: number;
  first: number;
  last: number;
  outcome: 'unanswered' | 'refused' | 'open' | 'none';
}

/** Each TLS handshake message, in a sentence (RFC 8446 section 4, RFC 5246 section 7.4). */
const TLS_EN: Record<string, (from: Side, version: string | null) => string> = {
  ClientHello: () => 'ClientHello: the TLS versions and cipher suites the client can use, its random, and the server name it expects.',
  ServerHello: (_f, v) => `ServerHello: the server's choice${v !== null ? ` (${v})` : ''} of version and cipher suite, and its random.${v === 'TLS 1.3' ? ' Everything after it is encrypted, the rest of the handshake included.' : ''}`,
  EncryptedExtensions: () => 'EncryptedExtensions: the rest of the server\'s choices, already encrypted.',
  Certificate: (f) => (f === 'server' ? 'Certificate: who the server is, signed by whoever vouches for it.' : 'Certificate: the client\'s certificate, when the server asked for one (often empty).'),
  ServerKeyExchange: () => 'ServerKeyExchange: the server\'s key-exchange share, signed with its certificate\'s key.',
  CertificateRequest: () => 'CertificateRequest: the server asks for a client certificate.',
  ServerHelloDone: () => 'ServerHelloDone: the server has said all it had to say.',
  ClientKeyExchange: () => 'ClientKeyExchange: the client\'s key-exchange share; from the two shares both sides compute the same keys.',
  CertificateVerify: (f) => `CertificateVerify: a signature over the handshake so far, proving ${f === 'server' ? 'the server' : 'the client'} holds its certificate's private key.`,
  ChangeCipherSpec: (_f, v) => (v === 'TLS 1.3' ? 'ChangeCipherSpec: a record TLS 1.3 sends only for middleboxes; it changes nothing.' : 'ChangeCipherSpec: this side\'s records are encrypted from here on.'),
  Finished: () => 'Finished: a MAC over the whole handshake, proving both sides saw the same messages and hold the same keys.',
  NewSessionTicket: () => 'NewSessionTicket: a ticket to resume this TLS session later without a full handshake (FTPS data connections use it).',
  KeyUpdate: () => 'KeyUpdate: the sender changes to fresh keys from here on.',
};

const side = (s: Side) => (s === 'client' ? 'the client' : s === 'server' ? 'the server' : 'the third host');
const Side = (s: Side) => (s === 'client' ? 'The client' : s === 'server' ? 'The server' : 'The third host');
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

const announcedEn = (by: Announcement | null) =>
  by === null ? 'a port no announcement in the capture names' : `the port announced by ${by.source}${by.reply ? ' (its reply)' : ''} in frame ${by.frame}`;

export const en: Messages = {
  words: {
    lang: 'en',
    frameAt: (n) => `frame ${n}`,
    framesAt: (a, b) => `frames ${a}-${b}`,
    client: 'client',
    server: 'server',
    third: 'third host',
    bytes: (n) => `${n} byte${n === 1 ? '' : 's'}`,
    data: 'data',
    noPackets: '(no packets recorded)',
    logFull: (frame) => `(the packet log was full at frame ${frame}: later packets are not shown)`,
  },
  title: (session, client, server) => `FTP session ${session}: client ${client}, server ${server}`,
  side,
  connection: (role, command) => (role === 'control' ? 'the control connection' : `the data connection${command ? ` for ${command}` : ''}`),

  handshake1Control: (clientPort, serverPort) =>
    `TCP handshake 1 of 3: the client opens the control connection from a temporary port (${clientPort}) to port ${serverPort}${serverPort === 21 ? ", FTP's control port" : ''}. This SYN asks to connect.`,
  handshake1DataPassive: (clientPort, serverPort, by, elsewhere) =>
    elsewhere == null
      ? `The client opens the data connection (passive mode) from its port ${clientPort} to the server's port ${serverPort}, ${announcedEn(by)}: TCP handshake 1 of 3.`
      : `The client opens the data connection (passive mode) from its port ${clientPort} to port ${serverPort} of ${elsewhere.address}, ${announcedEn(by)}: TCP handshake 1 of 3. That is the address the server announced, not the server's own on the control connection (${elsewhere.server}): the connection reaches the server only if a NAT on the way translates it.`,
  handshake1DataActive: (serverPort, clientPort, by, from20, third) =>
    third !== null
      ? `The server opens the data connection (active mode) from its port ${serverPort} to port ${clientPort} of ${third}, a third host, not the client, ${announcedEn(by)}: TCP handshake 1 of 3. The server obeys a PORT naming another host: an FTP bounce, or a third-party transfer.`
      : `The server opens the data connection (active mode) from its port ${serverPort} to the client's port ${clientPort}, ${announcedEn(by)}: TCP handshake 1 of 3.${from20 ? '' : ` Note: not from port 20 — servers may use any port for active data.`}`,
  handshake2: (conn, from) => `TCP handshake 2 of 3: ${side(from)} accepts ${conn}: its SYN,ACK acknowledges the SYN and sends its own.`,
  handshake3: (conn, from) => `TCP handshake 3 of 3: ${side(from)} acknowledges; ${conn} is open.`,

  teardown1: (conn, from) => `Teardown 1 of 4: ${side(from)} has sent everything it had on ${conn} and closes its side (FIN).`,
  teardown2: (conn, from) => `Teardown 2 of 4: ${side(from)} acknowledges the FIN; ${conn} is half closed (the other side may still send).`,
  teardown3: (conn, from) => `Teardown 3 of 4: ${side(from)} closes its side of ${conn} too (FIN).`,
  teardown2and3: (conn, from) => `Teardown 2 and 3 of 4 in one segment: ${side(from)} acknowledges the FIN and closes its side of ${conn} (FIN,ACK).`,
  teardown4: (conn, from) => `Teardown 4 of 4: ${side(from)} acknowledges the last FIN; ${conn} is closed.`,
  reset: (conn, from) => `${Side(from)} resets ${conn} (RST): it ends at once, without the four-step teardown.`,

  bareAck: (from, bytes) => `${Side(from)} acknowledges what it received (ACK, no data): ${plural(bytes, 'byte')} from ${side(from === 'client' ? 'server' : 'client')} so far.`,
  retransmission: (bytes, kind = 'plain') =>
    kind === 'out-of-order'
      ? `Out of order: these ${plural(bytes, 'byte')} come after later ones (a copy sent again after a loss, or overtaken on the way).`
      : `A ${kind === 'fast' ? 'fast retransmission (asked for by duplicate ACKs)' : kind === 'spurious' ? 'spurious retransmission (the other side had acknowledged them already)' : 'retransmission'}: these ${plural(bytes, 'byte')} were sent before (the first copy or its ACK was lost, or late).`,
  missingBefore: (bytes) => `${plural(bytes, 'byte')} sent before this segment are not in the capture.`,
  continuation: (from, bytes) => `${Side(from)} sends ${plural(bytes, 'more byte')} of a line begun in an earlier segment.`,
  moreReplyLines: (code, bytes, ends = false) =>
    ends
      ? `The server sends the last lines of its multi-line ${code} reply (${plural(bytes, 'byte')}): the line that starts with "${code} " ends it.`
      : `The server sends more lines of its multi-line ${code} reply (${plural(bytes, 'byte')}): it goes on until a line that starts with "${code} ".`,

  command: (verb, arg, d) => commandEn(verb, arg, d),
  reply: (code, command, d) => replyEn(code, command, d),

  dataSummary: (from, what, bytes, segments, acks, first, last, repeated) =>
    `${Side(from)} sends ${what.listing ? `the listing for ${what.command}` : `the file ${what.path} (${what.command})`}: ${plural(bytes, 'byte')} in ${plural(segments, 'segment')} (frames ${first}-${last})${repeatedEn(repeated)}${acks > 0 ? `; the other side acknowledges with ${plural(acks, 'ACK')}` : ''}. (--detail packets shows each.)`,
  dataSegment: (from, bytes) => `${Side(from)} sends ${plural(bytes, 'byte')} of data.`,
  telnetAhead: (command, first, urgent) =>
    urgent
      ? `The Synch: the Telnet Data Mark (IAC DM) sent as TCP urgent data (the URG flag and urgent pointer), so that the server's TCP signals it at once, even while the server is busy with the transfer; ${command} follows.`
      : first
        ? `The client starts to interrupt the transfer the way RFC 959 (section 4.1.3) asks: Telnet Interrupt Process (IAC IP) first; ${command} comes in a later segment.`
        : `More Telnet commands ahead of ${command}.`,
  lossLesson: (retransmitted, outOfOrder) =>
    retransmitted > 0
      ? 'Segments were lost or held up on the way: the sender sent those bytes again, when its retransmission timer ran out, or at once when duplicate ACKs asked for them (a fast retransmission). The receiver\'s TCP puts every byte back in order before the FTP program reads it: loss costs time, not data.'
      : `${outOfOrder === 1 ? 'A segment' : 'Segments'} arrived out of order (overtaken on the way): the receiver's TCP puts the bytes back in order before the FTP program reads them.`,

  conclusionsTitle: () => 'What this session shows',
  connectionsCount: (control, data) => `${plural(control, 'control connection')} and ${plural(data, 'data connection')}: one connection for commands and replies for the whole session, and a new one for each transfer.`,
  controlPorts: (clientPort, serverPort) => `The client used temporary port ${clientPort} for the control connection; the server listened on port ${serverPort}.`,
  dataPortLine: (command, mode, opener, from, to, how) =>
    `${command}: ${mode === 'unknown' ? 'mode unknown' : `${mode} mode`} — ${side(opener)} connected from port ${from} to port ${to}${how ? ` (${how})` : ''}.`,
  usedData: (commands) => `Commands that used a data connection: ${commands.join(', ')}.`,
  controlOnly: (commands) => `Commands answered on the control connection alone: ${commands.join(', ')}.`,
  portsMoved: (ports) =>
    ports.length < 2 ? '' : `The client's data ports from one transfer to the next: ${ports.join(' → ')}${isSequential(ports) ? ' (each one higher: the operating system hands out ports in order)' : ''}.`,
  noData: () => 'No data connection: every command was answered on the control connection.',
  everyConnection: () => 'Every TCP connection, control or data, opens with the three-step handshake and closes with the four-step teardown (or a RST).',
  synRetries: (from, conn, tries, waits, outcome) =>
    `No answer: ${side(from)} sends the SYN for ${conn} again, ${plural(tries, 'more time')}, waiting ${waits.map((w) => w.toFixed(1)).join(', ')} s between tries: TCP sends an unanswered SYN again when its timer runs out${backsOff(waits) ? ', and doubles the wait each time (exponential back-off)' : ''}. ${
      outcome === 'answered' ? 'A later try was answered.' : outcome === 'refused' ? 'The other side refused it in the end (RST).' : `No try was ever answered: ${side(from === 'client' ? 'server' : 'client')} never saw them, or could not answer (a firewall, or a wrong address).`
    }`,
  refused: (conn, from, port) => `${Side(from)} refuses ${conn}: its RST answers the SYN. Nothing listens on port ${port} there, or a firewall rejects the connection.`,
  afterReset: (conn, resetter, sender, segments, bytes, others, resets) => {
    const came = [segments > 0 ? `${plural(segments, 'segment')} of data (${plural(bytes, 'byte')})` : '', others > 0 ? `${plural(others, 'segment')} without data` : ''].filter(Boolean).join(' and ');
    const one = segments + others === 1;
    return `After the reset${came === '' ? '' : `, ${came} from ${side(sender)} still ${one ? 'arrives' : 'arrive'} on ${conn} (sent before the RST got there, or the RST was lost)`}${
      resets > 0 ? `${came === '' ? ', ' : '; '}${side(resetter)}'s TCP no longer has the connection and answers with another RST${resets > 1 ? ` (${plural(resets, 'RST')} in all)` : ''}, as TCP answers any segment for a connection it does not have (RFC 9293, section 3.10.7.1)` : ''
    }.${bytes > 0 ? ` ${Side(resetter)} discards these bytes: they are not delivered.` : ''}`;
  },
  finding: (severity, kind, message, count) => `Finding (${severity}, ${kind}): ${message}${count > 1 ? ` (${count} times)` : ''}`,
  dataAttempt: (command, mode, opener, from, to, syns, refused) =>
    `${command}: ${mode === 'unknown' ? 'mode unknown' : `${mode} mode`} — ${side(opener)} tried to connect from port ${from} to port ${to} (${plural(syns, 'SYN')}) but the connection was ${refused ? 'refused (RST)' : 'never answered'}: no data went over it.`,
  laterFindings: () => 'Findings after the last step',
  tlsHandshake: (from, bytes) =>
    `TLS, ${plural(bytes, 'byte')}: after the 234 reply the control connection carries TLS. ${Side(from)}'s first segment is its part of the TLS handshake (${from === 'client' ? 'the ClientHello: the TLS versions and ciphers it offers' : 'the ServerHello, its certificate and key exchange'}); the FTP commands and replies come after it, encrypted.`,
  tlsMessages: (from, names, version, certificate) =>
    `TLS handshake from ${side(from)}: ${names.map((n) => (n === 'Certificate' && from === 'server' && certificate !== undefined ? `Certificate: who the server is: ${certificate.subject}, issued by ${certificate.issuer}, valid from ${certificate.validFrom} to ${certificate.validTo}.` : (TLS_EN[n]?.(from, version) ?? n))).join(' ')}`,
  tlsRecords: (from, bytes, decrypted) =>
    decrypted === true
      ? `TLS, ${plural(bytes, 'byte')}: records from ${side(from)} that carry no FTP line: the rest of the TLS handshake (a session ticket, the Finished message) or an alert.`
      : `TLS, ${plural(bytes, 'byte')}: encrypted records from ${side(from)}: the rest of the TLS handshake, or FTP commands and replies that cannot be read without the session's keys.`,
  textbook: {
    alsoAcks: (from, bytes, what) =>
      `This segment also acknowledges ${what === null ? `${plural(bytes, 'byte')} from ${side(from === 'client' ? 'server' : 'client')}` : `${from === 'client' ? "the server's" : "the client's"} ${what === 'TLS' ? 'TLS records' : /^\d/.test(what) ? `${what} reply` : what} (${plural(bytes, 'byte')})`}: the textbook draws that ACK as a step of its own; here it rides on this segment.`,
    dataPort: (port, controlPort) =>
      port === controlPort + 1
        ? `As the textbook says, the data port is N+1: the control connection's port ${controlPort} plus one.`
        : `The textbook's client would take N+1 = ${controlPort + 1} (its control port ${controlPort} plus one); this client chose ${port}: any free port will do.`,
    clientOwn: (verb) => `Not in the textbook's session: the client program sends ${verb} on its own; the user did not type it.`,
    userCommand: (verb) => (USER_COMMANDS[verb] === undefined ? null : `A command-line client sends ${verb} when its user types ${USER_COMMANDS[verb]!.replace(' / ', ' or ')}.`),
    finalReply: (f) => {
      const first = `${side(f.closedFirst)} closed the data connection first (FIN, frame ${f.firstFin})`;
      if (f.order === 'during') return `As in the textbook, the 226 comes during the data connection's teardown: ${first}.`;
      if (f.order === 'before') return `The 226 comes before the data connection's teardown: the server reports the transfer done, then ${first.replace(/^the /, 'the ')}.`;
      return `The textbook puts the 226 between the data connection's teardown steps 2 and 3; here it comes after the teardown: ${first}${f.secondFin === null ? '' : `, and the other side's FIN followed in frame ${f.secondFin}`}.`;
    },
    title: () => 'Compared with the textbook',
    acksRode: (steps) => `${plural(steps.length, 'ACK')} the textbook draws as steps of their own rode on the next command or reply (step${steps.length === 1 ? '' : 's'} ${steps.join(', ')}).`,
    clientPorts: (ports, controlPort) =>
      `The textbook's client takes N+1, N+2 ... for its data ports; this one (control port ${controlPort}) used ${ports.join(', ')}${ports.every((p, i) => p === controlPort + 1 + i) ? ', as the textbook says' : ': the operating system hands out any free port'}.`,
    passivePorts: (ports) => `Passive mode, which the textbook's session does not show: the server chose the data port${ports.length === 1 ? '' : 's'} (${ports.join(', ')}) and the client connected.`,
    serverPorts: (ports) =>
      ports.every((p) => p === 20) ? 'The server connected from port 20, as the textbook says.' : `The textbook's server connects from port 20; this one connected from ${ports.join(', ')}.`,
    finalOrder: (after, before) =>
      [after.length > 0 ? `The 226 came after the data connection was closed for ${after.join(', ')} (the textbook has it during the teardown)` : '', before.length > 0 ? `before the teardown began for ${before.join(', ')}` : '']
        .filter((x) => x !== '')
        .join('; ') + '.',
    extras: (verbs) => `The client program also sent ${verbs.join(', ')} on its own; the textbook's session has none of them.`,
    asSent: (verbs) => `On the wire the user's commands are FTP commands: ${verbs.map((v) => `${v} for ${(USER_COMMANDS[v] ?? v.toLowerCase()).replace(' / ', ' or ')}`).join(', ')}.`,
  },
};

/** Each wait at least half again as long as the one before: a timer that backs off. */
export function backsOff(waits: number[]): boolean {
  return waits.length >= 2 && waits.every((w, i) => i === 0 || w >= waits[i - 1]! * 1.5);
}

/** Each port one higher than the one before. */
export function isSequential(ports: number[]): boolean {
  return ports.every((p, i) => i === 0 || p === ports[i - 1]! + 1);
}

function commandEn(verb: string, arg: string, d: CommandDetail): string {
  const path = d.path ?? arg;
  switch (verb) {
    case 'USER':
      return `The client sends the user name "${arg}".`;
    case 'PASS':
      return d.tls === true
        ? `The client sends the password${d.passwordHidden ? ' (hidden here; --show-passwords shows it)' : ''}, inside TLS: no one on the path can read it; only the key log opened it here.`
        : `The client sends the password${d.passwordHidden ? ' (hidden here; --show-passwords shows it)' : ''}, in clear text: anyone on the path can read it.`;
    case 'ACCT':
      return 'The client sends account information.';
    case 'SYST':
      return 'The client asks which operating system the server runs.';
    case 'FEAT':
      return 'The client asks which extensions the server supports.';
    case 'PWD':
    case 'XPWD':
      return 'The client asks for the working directory.';
    case 'CWD':
    case 'XCWD':
      return `The client changes the working directory to ${path}.`;
    case 'CDUP':
    case 'XCUP':
      return 'The client goes up to the parent directory.';
    case 'TYPE':
      return `The client sets the transfer type to ${arg.toUpperCase() === 'I' ? 'binary (I)' : arg.toUpperCase().startsWith('A') ? 'text (A)' : arg}.`;
    case 'PORT':
    case 'EPRT':
    case 'LPRT':
      if (d.listen === undefined) return `${verb} ${arg}: the client announces where it listens for the data connection (active mode), but the argument cannot be read.`;
      return `${verb} ${arg}: the client will listen on ${d.listen.address} port ${d.listen.arithmetic ?? d.listen.port} and asks the server to connect there for the next transfer (active mode).${d.thirdParty ? ' That is not the client\'s own address: a third-party transfer, or an FTP bounce.' : ''}`;
    case 'PASV':
      return 'The client asks the server to listen on a port for the next data connection, and to say which (passive mode).';
    case 'EPSV':
      return 'The client asks the server to listen for the next data connection and to say the port (extended passive mode, RFC 2428: no address, so it works through NAT and over IPv6).';
    case 'LIST':
    case 'NLST':
    case 'MLSD':
      return `The client asks for a listing of ${path || 'the working directory'}; it will come over a data connection.`;
    case 'RETR':
      return `The client asks for the file ${path}; it will come over a data connection.`;
    case 'STOR':
    case 'STOU':
      return `The client sends the file ${path}; it will go over a data connection.`;
    case 'APPE':
      return `The client appends to the file ${path}; the data will go over a data connection.`;
    case 'SIZE':
      return `The client asks the size of ${path}.`;
    case 'MDTM':
      return `The client asks when ${path} was last modified.`;
    case 'REST':
      return `The client asks the next transfer to start at byte ${arg} (a restart).`;
    case 'DELE':
      return `The client deletes ${path}.`;
    case 'MKD':
    case 'XMKD':
      return `The client creates the directory ${path}.`;
    case 'RMD':
    case 'XRMD':
      return `The client removes the directory ${path}.`;
    case 'RNFR':
      return `The client starts renaming ${path}.`;
    case 'RNTO':
      return `The client gives the new name: ${path}.`;
    case 'AUTH':
      return `The client asks to secure the control connection with ${arg || 'TLS'}.`;
    case 'PBSZ':
      return 'The client sets the protection buffer size (needed before PROT).';
    case 'PROT':
      return `The client asks for ${arg.toUpperCase() === 'P' ? 'protected (encrypted)' : 'clear'} data connections.`;
    case 'OPTS':
      return `The client sets an option: ${arg}.`;
    case 'NOOP':
      return 'The client sends NOOP: nothing to do, it keeps the connection alive.';
    case 'ABOR':
      return d.telnet
        ? 'The client interrupts the transfer in progress the way RFC 959 (section 4.1.3) asks: Telnet IP and the Synch (IAC IP, IAC DM) first, then ABOR.'
        : 'The client aborts the transfer in progress.';
    case 'QUIT':
      return 'The client ends the session.';
    default:
      return `The client sends the command ${verb}${arg ? ` with the argument "${arg}"` : ''}.`;
  }
}

function replyEn(code: number, command: string, d: ReplyDetail): string {
  const to = command === '<init>' ? '' : command === '' ? ' (to a command not in the capture)' : ` to ${command}`;
  switch (code) {
    case 220:
      return command === '<init>' ? 'The server greets the client: the FTP session starts (220).' : `Service ready (220)${to}.`;
    case 331:
      return 'The server accepts the user name and asks for the password (331).';
    case 230:
      return 'The server confirms the login (230).';
    case 530:
      return command === 'PASS' || command === 'USER' ? 'The login is refused (530).' : `Not logged in (530)${to}.`;
    case 215:
      return `The server names its system: ${d.text} (215).`;
    case 211:
      return `The server answers with a list (211)${to}, over several lines.`;
    case 257:
      return d.directory ? `The working directory is ${d.directory} (257).` : `Directory name (257)${to}.`;
    case 250:
      return `Done (250)${to}.`;
    case 200:
      return `Command accepted (200)${to}.`;
    case 213:
      return command === 'SIZE' ? `The size is ${d.text} bytes (213).` : `Status (213)${to}: ${d.text}.`;
    case 227:
    case 229:
    case 228: {
      const c = d.connectTo;
      if (c === undefined) return `Passive mode (${code}), but the address cannot be read.`;
      const nat = c.differs ? ` Note: that is not the server's address on the control connection (${c.controlAddress}): a NAT, or a wrong passive-address setting; the client may not reach it.` : '';
      return `The server listens on ${c.address} port ${c.arithmetic ?? c.port} for the data connection (${code}, passive mode): the client is to connect there.${nat}`;
    }
    case 150:
    case 125:
      return `The server ${code === 125 ? 'uses the open' : 'is about to open (or use) the'} data connection for ${command} (${code}).`;
    case 226:
      if (d.transfer === undefined) return 'The server reports the data connection closed (226).';
      return d.transfer.complete
        ? 'The transfer is complete: the server says so (226), and every byte of it is in the capture.'
        : `The server reports the transfer done (226), but the capture shows it is not complete: ${d.transfer.cause ?? 'see the transfer'}.`;
    case 221:
      return 'The server says goodbye and will close the control connection (221).';
    case 350:
      return `Pending: the server waits for the next command (350)${to}.`;
    case 425: {
      const t = d.transfer;
      const head = `The server gives up (425): it could not open the data connection for ${command}.`;
      if (t === undefined) return head;
      const n = t.tries;
      const seen = n === null || n.outcome === 'none'
        ? ' No attempt to connect for it is in the capture.'
        : n.outcome === 'unanswered' ? ` ${n.syns === 1 ? 'Its SYN' : `Its ${n.syns} SYNs`} (${n.first === n.last ? `frame ${n.first}` : `frames ${n.first}-${n.last}`}) ${n.syns === 1 ? 'was' : 'were'} never answered.`
          : n.outcome === 'refused' ? ` Its SYN was refused with a RST (frame ${n.last}).` : '';
      const why = t.mode === 'active'
        ? ' In active mode the server connects in to the client: whatever stops connections coming in to the client (a firewall, a NAT) stops the transfer.'
        : t.mode === 'passive' ? ' In passive mode the client connects to the port the server announced: no connection reached the server there in time.' : '';
      return head + seen + why;
    }
    case 426:
      return `The server reports the transfer aborted (426): the data connection for ${command} was closed before the transfer was over.`;
    case 450:
    case 550:
      return `Refused: file unavailable (${code})${to}: ${d.text}.`;
    case 500:
    case 501:
    case 502:
    case 504:
      return `The server refuses${to || ' the command'} (${code}): ${d.text.replace(/\.+$/, '')}.`;
    case 234:
      return d.decrypted === true
        ? 'The server agrees: from now on the control connection is encrypted (TLS) (234). The key log opens it: the commands and replies below are the decrypted ones, each in the segment whose TLS record carried it.'
        : 'The server agrees: from now on the control connection is encrypted (TLS); nothing more of it can be read here (234).';
    case 421:
      return 'The server is closing the control connection (421).';
    default:
      return `${d.preliminary ? 'A preliminary reply' : code < 400 ? 'A reply' : 'An error reply'} (${code})${to}: ${d.text}.`;
  }
}
