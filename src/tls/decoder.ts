/**
 * One TCP connection's TLS, both directions: the handshake read in clear (ClientHello, ServerHello: the
 * randoms, version, suite, SNI, session resumption, extended master secret, encrypt-then-MAC), then, with
 * the key log's secrets for its client random, every protected record opened and its application data
 * handed on as a plaintext stream. Without keys it still tells what the handshake said.
 *
 * Contract (a StreamSink in front of another): the connection's ciphertext comes in by data/gap/end in
 * stream order per direction, as StreamSink says; the plaintext goes out to `out` the same way, with its
 * own offsets (plaintext bytes of that direction so far). A gap ends decryption of its direction (record
 * boundaries are lost): `out` gets a gap of unknown length and nothing more of it until `end`.
 * With `raw` (a data connection, whose bytes are counted even when they cannot be read), the bytes are held
 * until the ServerHello says whether the key log opens them: if not, `out` gets the ciphertext as it was.
 */
import { X509Certificate } from 'node:crypto';
import type { Dir, EndReason, GapReason, Stamp, StreamSink } from '../flow/stream-sink.js';
import type { KeyLog, KeyLogSource } from './keylog.js';
import { RecordKeys } from './protection.js';
import { suiteName, suiteOf, type Suite } from './suites.js';

const CHANGE_CIPHER_SPEC = 20;
const ALERT = 21;
const HANDSHAKE = 22;
const APPLICATION_DATA = 23;
/** Ciphertext held for `raw` until the ServerHello decides (a handshake's first flights are far smaller). */
const MAX_HELD = 256 * 1024;
/** The largest record body TLS allows (2^14 + 2048, RFC 5246 6.2.3), and a little more for TLS 1.3's. */
const MAX_BODY = 16_384 + 2_048 + 256;
/** ServerHello.random of a HelloRetryRequest (RFC 8446 4.1.3): SHA-256 of "HelloRetryRequest". */
const HRR_RANDOM = 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c';

/** What the handshake showed, in clear, and what the key log made of it. */
export interface TlsHandshake {
  /** 'TLS 1.2', 'TLS 1.3' (the version chosen, from supported_versions when present). */
  version: string;
  suite: number;
  suiteName: string;
  /** server_name of the ClientHello, when it named one. */
  sni: string | null;
  clientRandom: string;
  /** The ServerHello resumed a session (TLS 1.2: the session id the client offered; TLS 1.3: a PSK accepted). */
  resumed: boolean;
  /** The session id the ServerHello gave (TLS 1.2), hex; '' when none. */
  sessionId: string;
  /** The client offered a session ticket or a PSK (resumption it asked for). */
  offeredResumption: boolean;
  extendedMasterSecret: boolean;
  encryptThenMac: boolean;
  helloRetry: boolean;
  /** The frame of the ClientHello (the first, after a HelloRetryRequest) and of the ServerHello. */
  clientHelloFrame: number;
  serverHelloFrame: number;
  /** 'decrypting': the key log has its secrets; otherwise why not. */
  keys: 'decrypting' | 'no key log' | 'no matching line' | 'suite not supported';
  /** The key log lines used. */
  keyLines: KeyLogSource[];
  /** The side that sent the ClientHello. */
  clientDir: Dir;
}

/** What the decoder tells besides plaintext: the handshake once known, and problems once each. */
export interface TlsObserver {
  handshake(h: TlsHandshake): void;
  /** A record that could not be opened (authentication failed), or a direction that stops being read. */
  problem(dir: Dir, frame: number, reason: string): void;
  /** A handshake message (or a ChangeCipherSpec: type -1) read, in clear or decrypted, and the frame that completed it. */
  message?(dir: Dir, frame: number, type: number): void;
  /** The server's certificate (the first of its chain), when its Certificate message could be read. */
  certificate?(c: TlsCertificate): void;
  /** TLS 1.2, in clear: a session id ('s:' hex) or ticket ('t:' hex) a later connection may resume. */
  issued?(key: string): void;
}

/** What the server's certificate says of itself (Node's X509Certificate reads the DER). */
export interface TlsCertificate {
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
}

interface Side {
  /** Bytes of a record not yet complete. */
  pending: Buffer;
  pendingLength: number;
  /** Handshake messages not yet complete (they may span records). */
  messages: Buffer;
  keys: RecordKeys | null;
  /** TLS 1.3: the keys after this side's Finished. */
  next: RecordKeys | null;
  /** This side has changed to protected records (TLS 1.2: its ChangeCipherSpec; TLS 1.3: after the ServerHello). */
  protected: boolean;
  /** Plaintext bytes handed on. */
  plain: number;
  /** Why nothing more is read (set once); null while reading. */
  stopped: string | null;
  records: number;
  opened: number;
  failed: number;
  /** Ciphertext records that could not be opened for want of keys. */
  unreadable: number;
}

function side(): Side {
  return { pending: Buffer.alloc(0), pendingLength: 0, messages: Buffer.alloc(0), keys: null, next: null, protected: false, plain: 0, stopped: null, records: 0, opened: 0, failed: 0, unreadable: 0 };
}

export class TlsDecoder implements StreamSink {
  private readonly sides: [Side, Side] = [side(), side()];
  private clientDir: Dir | null = null;
  private clientRandom: Buffer | null = null;
  private clientSessionId = '';
  /** The session ticket the ClientHello offered (hex), '' for none. */
  private offeredTicket = '';
  /** TLS 1.2: the master secret in use and its key log line, for NewSessionTicket. */
  private master: { secret: Buffer; from: KeyLogSource } | null = null;
  private sni: string | null = null;
  private offeredResumption = false;
  private clientHelloFrame = 0;
  private helloRetry = false;
  private tls13 = false;
  private suite: Suite | undefined;
  private info: TlsHandshake | null = null;
  /** Set while a record is read: the segment that completed it. */
  private when: Readonly<Stamp> = { frame: 0, sec: 0, nsec: 0 };
  /** `raw`: 'held' until decided, then 'plain' (decrypting) or 'cipher' (passing the bytes on as they are). */
  private mode: 'held' | 'plain' | 'cipher';
  private held: Array<{ dir: Dir; bytes: Buffer; when: Stamp }> = [];
  private heldBytes = 0;
  private readonly rawAt: [number, number] = [0, 0];

  constructor(
    private readonly keyLog: KeyLog | null,
    private readonly out: StreamSink,
    private readonly observer: TlsObserver,
    raw = false,
  ) {
    this.mode = raw ? 'held' : 'plain';
  }

  /** The handshake, once the ServerHello has been read. */
  get handshake(): TlsHandshake | null {
    return this.info;
  }

  /** Records of each direction: seen, opened, failed to open, unreadable for want of keys. */
  counts(dir: Dir): { records: number; opened: number; failed: number; unreadable: number } {
    const s = this.sides[dir];
    return { records: s.records, opened: s.opened, failed: s.failed, unreadable: s.unreadable };
  }

  data(dir: Dir, buf: Buffer, off: number, len: number, _at: number, when: Readonly<Stamp>): void {
    if (this.mode === 'cipher') return this.passOn(dir, buf, off, len, when);
    if (this.mode === 'held') {
      this.held.push({ dir, bytes: Buffer.from(buf.subarray(off, off + len)), when: { frame: when.frame, sec: when.sec, nsec: when.nsec } });
      this.heldBytes += len;
    }
    const s = this.sides[dir];
    if (s.stopped !== null) return;
    this.when = when;
    let at = off;
    const end = off + len;
    while (at < end && s.stopped === null) {
      // A record's header and body, gathered in `pending` when they span segments.
      const need = s.pendingLength < 5 ? 5 : 5 + s.pending.readUInt16BE(3);
      const take = Math.min(need - s.pendingLength, end - at);
      if (s.pending.length < need) {
        const grown = Buffer.allocUnsafe(need < 5 ? 5 : Math.max(need, 5));
        s.pending.copy(grown, 0, 0, s.pendingLength);
        s.pending = grown;
      }
      buf.copy(s.pending, s.pendingLength, at, at + take);
      s.pendingLength += take;
      at += take;
      if (s.pendingLength === 5) {
        const type = s.pending[0]!;
        const length = s.pending.readUInt16BE(3);
        if (type < CHANGE_CIPHER_SPEC || type > APPLICATION_DATA || s.pending[1] !== 3 || length > MAX_BODY) {
          this.stop(dir, `not a TLS record (type ${type}, length ${length})`);
          return;
        }
        if (length > 0) continue;
      }
      if (s.pendingLength >= 5 && s.pendingLength === 5 + s.pending.readUInt16BE(3)) {
        const record = s.pending.subarray(0, s.pendingLength);
        s.pendingLength = 0;
        this.record(dir, record.subarray(0, 5), record.subarray(5));
        // Decided by this record (a ServerHello): the rest of this segment was held with it, or goes on as it is.
        if ((this.mode as string) === 'cipher') return;
      }
    }
    if (this.mode === 'held' && this.heldBytes > MAX_HELD) this.decide(false);
  }

  gap(dir: Dir, _at: number, len: number, reason: GapReason): void {
    if (this.mode === 'held') this.decide(false);
    if (this.mode === 'cipher') {
      this.out.gap(dir, this.rawAt[dir], len, reason);
      if (len > 0) this.rawAt[dir] += len;
      return;
    }
    const s = this.sides[dir];
    if (s.stopped !== null) return;
    this.stop(dir, reason === 'start-unseen' ? 'the start of the connection is not in the capture' : 'bytes missing from the capture: the records after them cannot be told apart');
  }

  end(dir: Dir, reason: EndReason): void {
    if (this.mode === 'held') this.decide(false);
    this.out.end(dir, reason);
  }

  /** `raw` only: the key log opens this connection (plaintext from now on), or not (the ciphertext goes on, held bytes first). */
  private decide(decrypting: boolean): void {
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    this.mode = decrypting ? 'plain' : 'cipher';
    if (!decrypting) for (const h of held) this.passOn(h.dir, h.bytes, 0, h.bytes.length, h.when);
  }

  private passOn(dir: Dir, buf: Buffer, off: number, len: number, when: Readonly<Stamp>): void {
    this.out.data(dir, buf, off, len, this.rawAt[dir], when);
    this.rawAt[dir] += len;
  }

  private stop(dir: Dir, why: string): void {
    const s = this.sides[dir];
    s.stopped = why;
    this.observer.problem(dir, this.when.frame, why);
    if (this.mode === 'held') this.decide(false);
    else if (this.mode === 'plain') this.out.gap(dir, s.plain, -1, 'missing');
  }

  /** One whole record: a handshake in clear, or a protected one to open. */
  private record(dir: Dir, header: Buffer, body: Buffer): void {
    const s = this.sides[dir];
    s.records++;
    const type = header[0]!;
    if (type === CHANGE_CIPHER_SPEC) {
      // TLS 1.2: what follows from this side is protected, with the key block's keys, from sequence 0.
      if (!this.tls13) s.protected = true;
      this.observer.message?.(dir, this.when.frame, -1);
      return;
    }
    if (!s.protected) {
      if (type === HANDSHAKE) this.messages(dir, body);
      return;
    }
    if (s.keys === null) {
      s.unreadable++;
      return;
    }
    const opened = s.keys.open(header, body);
    if (!opened.ok) {
      s.failed++;
      if (s.failed <= 3) this.observer.problem(dir, this.when.frame, `a record could not be opened: ${opened.reason}`);
      return;
    }
    s.opened++;
    switch (opened.type) {
      case APPLICATION_DATA:
        if (opened.plaintext.length > 0) {
          this.out.data(dir, opened.plaintext, 0, opened.plaintext.length, s.plain, this.when);
          s.plain += opened.plaintext.length;
        }
        break;
      case HANDSHAKE:
        this.messages(dir, opened.plaintext);
        break;
      case ALERT:
        break;
    }
  }

  /** Handshake messages (type, 3-byte length, body), which may span records. */
  private messages(dir: Dir, bytes: Buffer): void {
    const s = this.sides[dir];
    let all = s.messages.length === 0 ? bytes : Buffer.concat([s.messages, bytes]);
    while (all.length >= 4) {
      const length = all.readUIntBE(1, 3);
      if (length > 1 << 20) {
        this.stop(dir, 'a handshake message longer than any TLS sends');
        return;
      }
      if (all.length < 4 + length) break;
      this.message(dir, all[0]!, all.subarray(4, 4 + length));
      all = all.subarray(4 + length);
    }
    s.messages = all.length === 0 ? Buffer.alloc(0) : Buffer.from(all);
  }

  private message(dir: Dir, type: number, body: Buffer): void {
    this.observer.message?.(dir, this.when.frame, type);
    try {
      switch (type) {
        case 1:
          this.clientHello(dir, body);
          break;
        case 2:
          this.serverHello(dir, body);
          break;
        case 11:
          if (dir !== this.clientDir) this.certificate(body);
          break;
        case 4:
          // TLS 1.2 NewSessionTicket (RFC 5077 3.3), in clear: a later handshake may resume with it.
          if (!this.tls13 && body.length >= 6) {
            const ticket = `t:${body.subarray(6, 6 + body.readUInt16BE(4)).toString('hex')}`;
            this.observer.issued?.(ticket);
            if (this.master !== null) this.keyLog?.remember(ticket, this.master.secret, this.master.from);
          }
          break;
        case 20:
          // TLS 1.3 Finished: this side's application traffic keys from the next record on.
          if (this.tls13 && this.sides[dir].next !== null) {
            this.sides[dir].keys = this.sides[dir].next;
            this.sides[dir].next = null;
          }
          break;
        case 24:
          // KeyUpdate (RFC 8446 4.6.3): this side's next records use the next secret.
          if (this.tls13) this.sides[dir].keys?.update();
          break;
      }
    } catch {
      this.observer.problem(dir, this.when.frame, `a handshake message (type ${type}) that cannot be read`);
    }
  }

  /** The first certificate of a Certificate message (RFC 5246 7.4.2; RFC 8446 4.4.2 adds a context and extensions). */
  private certificate(b: Buffer): void {
    let at = this.tls13 ? 1 + b[0]! : 0;
    at += 3; // certificate_list length
    if (at + 3 > b.length) return;
    const length = b.readUIntBE(at, 3);
    if (length === 0 || at + 3 + length > b.length) return;
    const x = new X509Certificate(b.subarray(at + 3, at + 3 + length));
    this.observer.certificate?.({ subject: x.subject.replaceAll('\n', ', '), issuer: x.issuer.replaceAll('\n', ', '), validFrom: x.validFrom, validTo: x.validTo });
  }

  private clientHello(dir: Dir, b: Buffer): void {
    // A second ClientHello (after a HelloRetryRequest) keeps the first's random (RFC 8446 4.1.2).
    if (this.clientRandom !== null) return;
    this.clientDir = dir;
    this.clientHelloFrame = this.when.frame;
    this.clientRandom = Buffer.from(b.subarray(2, 34));
    let at = 34;
    const sid = b[at]!;
    this.clientSessionId = b.subarray(at + 1, at + 1 + sid).toString('hex');
    at += 1 + sid;
    at += 2 + b.readUInt16BE(at); // cipher suites
    at += 1 + b[at]!; // compression methods
    for (const [type, ext] of extensions(b, at)) {
      if (type === 0 && ext.length >= 5 && ext[2] === 0) this.sni = ext.subarray(5, 5 + ext.readUInt16BE(3)).toString('latin1');
      // session_ticket (RFC 5077) with a ticket, or pre_shared_key (RFC 8446 4.2.11).
      if ((type === 35 && ext.length > 0) || type === 41) this.offeredResumption = true;
      if (type === 35 && ext.length > 0) this.offeredTicket = ext.toString('hex');
    }
  }

  private serverHello(dir: Dir, b: Buffer): void {
    const random = b.subarray(2, 34);
    if (random.toString('hex') === HRR_RANDOM) {
      // Only TLS 1.3 retries: its ChangeCipherSpec records from here on change nothing.
      this.helloRetry = true;
      this.tls13 = true;
      return;
    }
    let at = 34;
    const sid = b[at]!;
    const sessionId = b.subarray(at + 1, at + 1 + sid).toString('hex');
    at += 1 + sid;
    const suiteId = b.readUInt16BE(at);
    at += 3;
    let version = b.readUInt16BE(0);
    let ems = false;
    let etm = false;
    let psk = false;
    for (const [type, ext] of extensions(b, at)) {
      if (type === 43 && ext.length === 2) version = ext.readUInt16BE(0);
      if (type === 23) ems = true;
      if (type === 22) etm = true;
      if (type === 41) psk = true;
    }
    this.tls13 = version === 0x0304;
    this.suite = suiteOf(suiteId);
    const clientDir = this.clientDir ?? (dir === 0 ? 1 : 0);
    const client = this.sides[clientDir];
    const server = this.sides[dir];
    let secrets = this.keyLog === null || this.clientRandom === null ? undefined : this.keyLog.lookup(this.clientRandom);
    // TLS 1.2 resumed without a line of its own (GnuTLS logs none): the master secret of the session it resumes.
    if (this.keyLog !== null && secrets?.master === undefined && version !== 0x0304) {
      const earlier = (this.offeredTicket !== '' ? this.keyLog.recall(`t:${this.offeredTicket}`) : undefined) ?? (sessionId !== '' && sessionId === this.clientSessionId ? this.keyLog.recall(`s:${sessionId}`) : undefined);
      if (earlier !== undefined) secrets = { master: earlier.master, from: { CLIENT_RANDOM: earlier.from } };
    }
    let keys: TlsHandshake['keys'] = this.keyLog === null ? 'no key log' : secrets === undefined ? 'no matching line' : 'decrypting';
    const keyLines: KeyLogSource[] = [];
    if (keys === 'decrypting' && this.suite === undefined) keys = 'suite not supported';
    if (keys === 'decrypting' && secrets !== undefined && this.suite !== undefined) {
      if (this.tls13) {
        const { clientHandshake, serverHandshake, clientTraffic0, serverTraffic0 } = secrets;
        if (clientHandshake && serverHandshake && clientTraffic0 && serverTraffic0) {
          client.keys = RecordKeys.tls13(this.suite, clientHandshake);
          server.keys = RecordKeys.tls13(this.suite, serverHandshake);
          client.next = RecordKeys.tls13(this.suite, clientTraffic0);
          server.next = RecordKeys.tls13(this.suite, serverTraffic0);
          for (const l of ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'SERVER_TRAFFIC_SECRET_0'] as const) keyLines.push(secrets.from[l]!);
        } else keys = 'no matching line';
      } else if (secrets.master !== undefined) {
        const k = RecordKeys.tls12(this.suite, secrets.master, this.clientRandom!, Buffer.from(random), etm);
        client.keys = k.client;
        server.keys = k.server;
        keyLines.push(secrets.from.CLIENT_RANDOM!);
        this.master = { secret: secrets.master, from: secrets.from.CLIENT_RANDOM! };
        if (sessionId !== '') this.keyLog!.remember(`s:${sessionId}`, secrets.master, secrets.from.CLIENT_RANDOM!);
      } else keys = 'no matching line';
    }
    // TLS 1.3: everything after the ServerHello is protected (its ChangeCipherSpec records are only for middleboxes).
    if (this.tls13) {
      client.protected = true;
      server.protected = true;
    }
    this.info = {
      version: version === 0x0304 ? 'TLS 1.3' : version === 0x0303 ? 'TLS 1.2' : version === 0x0302 ? 'TLS 1.1' : version === 0x0301 ? 'TLS 1.0' : `0x${version.toString(16)}`,
      suite: suiteId,
      suiteName: suiteName(suiteId),
      sni: this.sni,
      clientRandom: this.clientRandom?.toString('hex') ?? '',
      resumed: this.tls13 ? psk : sessionId !== '' && sessionId === this.clientSessionId,
      sessionId: this.tls13 ? '' : sessionId,
      offeredResumption: this.offeredResumption || (!this.tls13 && this.clientSessionId !== ''),
      extendedMasterSecret: ems,
      encryptThenMac: etm,
      helloRetry: this.helloRetry,
      clientHelloFrame: this.clientHelloFrame,
      serverHelloFrame: this.when.frame,
      keys,
      keyLines,
      clientDir,
    };
    this.observer.handshake(this.info);
    if (!this.tls13 && sessionId !== '') this.observer.issued?.(`s:${sessionId}`);
    if (this.mode === 'held') this.decide(keys === 'decrypting');
  }
}

/** The extensions of a hello from `at` on: [type, body] pairs (RFC 8446 4.2). */
function* extensions(b: Buffer, at: number): Generator<[number, Buffer]> {
  if (at + 2 > b.length) return;
  const end = Math.min(b.length, at + 2 + b.readUInt16BE(at));
  at += 2;
  while (at + 4 <= end) {
    const type = b.readUInt16BE(at);
    const length = b.readUInt16BE(at + 2);
    yield [type, b.subarray(at + 4, Math.min(end, at + 4 + length))];
    at += 4 + length;
  }
}
