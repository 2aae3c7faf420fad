/**
 * Record protection: the keys a suite derives from a key log's secrets, and the opening of one protected
 * record. TLS 1.2: the PRF and key block of RFC 5246 (5, 6.3), AES-GCM records (RFC 5288 3), ChaCha20-
 * Poly1305 (RFC 7905 2), CBC with HMAC, MAC-then-encrypt (RFC 5246 6.2.3.2) or encrypt-then-MAC (RFC 7366).
 * TLS 1.3: HKDF-Expand-Label and the traffic keys (RFC 8446 7.1, 7.3), the AEAD record (5.2, 5.3) and
 * KeyUpdate (7.2). Node's crypto does each primitive; the framing is ours.
 */
import { createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import type { Suite } from './suites.js';

/** P_hash of RFC 5246 section 5: `length` bytes of PRF(secret, label, seed). */
export function prf12(hash: string, secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const s = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const out = Buffer.allocUnsafe(length);
  let a = s;
  let at = 0;
  while (at < length) {
    a = createHmac(hash, secret).update(a).digest();
    const block = createHmac(hash, secret).update(a).update(s).digest();
    at += block.copy(out, at);
  }
  return out;
}

/** HKDF-Expand-Label (RFC 8446 section 7.1) with an empty context, for `length` bytes. */
export function expandLabel(hash: string, secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.alloc(2 + 1 + full.length + 1);
  info.writeUInt16BE(length, 0);
  info[2] = full.length;
  full.copy(info, 3);
  info[3 + full.length] = 0;
  // HKDF-Expand (RFC 5869 2.3): T(i) = HMAC(secret, T(i-1) | info | i).
  const out = Buffer.allocUnsafe(length);
  let t = Buffer.alloc(0);
  let at = 0;
  for (let i = 1; at < length; i++) {
    t = createHmac(hash, secret).update(t).update(info).update(Buffer.of(i)).digest();
    at += t.copy(out, at);
  }
  return out;
}

/** What opening a record came to: its plaintext and (TLS 1.3) its real content type, or why it failed. */
export type Opened = { ok: true; type: number; plaintext: Buffer } | { ok: false; reason: string };

/** One direction's record protection: its keys and its sequence number. */
export class RecordKeys {
  /** Records opened so far in this direction under these keys (the sequence number of the next). */
  seq = 0n;
  private key: Buffer;
  private iv: Buffer;
  private macKey: Buffer | null;

  private constructor(readonly suite: Suite, key: Buffer, iv: Buffer, macKey: Buffer | null, private readonly etm: boolean, private secret: Buffer | null) {
    this.key = key;
    this.iv = iv;
    this.macKey = macKey;
  }

  /**
   * TLS 1.2: both directions' keys from the master secret (RFC 5246 6.3: key_block =
   * PRF(master, "key expansion", server_random + client_random)); `etm`: encrypt-then-MAC was agreed.
   */
  static tls12(suite: Suite, master: Buffer, clientRandom: Buffer, serverRandom: Buffer, etm: boolean): { client: RecordKeys; server: RecordKeys } {
    const mac = suite.mac?.length ?? 0;
    const k = suite.keyLength;
    const iv = suite.ivLength;
    const block = prf12(suite.hash, master, 'key expansion', Buffer.concat([serverRandom, clientRandom]), 2 * (mac + k + iv));
    let at = 0;
    const take = (n: number) => block.subarray(at, (at += n));
    const clientMac = take(mac);
    const serverMac = take(mac);
    const clientKey = take(k);
    const serverKey = take(k);
    const clientIv = take(iv);
    const serverIv = take(iv);
    return {
      client: new RecordKeys(suite, clientKey, clientIv, mac > 0 ? clientMac : null, etm, null),
      server: new RecordKeys(suite, serverKey, serverIv, mac > 0 ? serverMac : null, etm, null),
    };
  }

  /** TLS 1.3: the keys of one traffic secret (RFC 8446 7.3). */
  static tls13(suite: Suite, secret: Buffer): RecordKeys {
    return new RecordKeys(suite, expandLabel(suite.hash, secret, 'key', suite.keyLength), expandLabel(suite.hash, secret, 'iv', 12), null, false, secret);
  }

  /** TLS 1.3 KeyUpdate (RFC 8446 7.2): the next traffic secret's keys, the sequence number from 0. */
  update(): void {
    const s = this.secret;
    if (s === null) return;
    const next = expandLabel(this.suite.hash, s, 'traffic upd', s.length);
    this.secret = next;
    this.key = expandLabel(this.suite.hash, next, 'key', this.suite.keyLength);
    this.iv = expandLabel(this.suite.hash, next, 'iv', 12);
    this.seq = 0n;
  }

  /**
   * Opens one record: `header` its 5 bytes (type, version, length), `body` what follows. The sequence
   * number advances whether it opens or not (a record lost to authentication still counted).
   */
  open(header: Buffer, body: Buffer): Opened {
    const seq = this.seq++;
    try {
      switch (this.suite.protection) {
        case 'aead13':
          return this.open13(header, body, seq);
        case 'gcm12':
        case 'chacha12':
          return this.openAead12(header, body, seq);
        case 'cbc':
          return this.openCbc(header, body, seq);
      }
    } catch (e) {
      return { ok: false, reason: e instanceof Error ? e.message.split('\n')[0]! : String(e) };
    }
  }

  /** The nonce of RFC 8446 5.3 and RFC 7905: the IV with the sequence number XORed into its last 8 bytes. */
  private xorNonce(seq: bigint): Buffer {
    const n = Buffer.from(this.iv);
    const s = Buffer.allocUnsafe(8);
    s.writeBigUInt64BE(seq);
    for (let i = 0; i < 8; i++) n[n.length - 8 + i]! ^= s[i]!;
    return n;
  }

  private aead(nonce: Buffer, aad: Buffer, ciphertext: Buffer, tag: Buffer): Buffer {
    const d = createDecipheriv(this.suite.cipher as 'aes-128-gcm', this.key, nonce, { authTagLength: 16 });
    d.setAAD(aad, { plaintextLength: ciphertext.length });
    d.setAuthTag(tag);
    const plain = d.update(ciphertext);
    // An AEAD's final() only checks the tag (it throws when it fails) and adds no bytes.
    const rest = d.final();
    return rest.length === 0 ? plain : Buffer.concat([plain, rest]);
  }

  private open13(header: Buffer, body: Buffer, seq: bigint): Opened {
    if (body.length < 17) return { ok: false, reason: 'shorter than its tag' };
    const inner = this.aead(this.xorNonce(seq), header, body.subarray(0, body.length - 16), body.subarray(body.length - 16));
    // TLSInnerPlaintext: content, the real type, zero padding (RFC 8446 5.2).
    let end = inner.length - 1;
    while (end >= 0 && inner[end] === 0) end--;
    if (end < 0) return { ok: false, reason: 'no content type in the record' };
    return { ok: true, type: inner[end]!, plaintext: inner.subarray(0, end) };
  }

  private openAead12(header: Buffer, body: Buffer, seq: bigint): Opened {
    const gcm = this.suite.protection === 'gcm12';
    const explicit = gcm ? 8 : 0;
    if (body.length < explicit + 16) return { ok: false, reason: 'shorter than its nonce and tag' };
    const nonce = gcm ? Buffer.concat([this.iv, body.subarray(0, 8)]) : this.xorNonce(seq);
    const ciphertext = body.subarray(explicit, body.length - 16);
    const plaintext = this.aead(nonce, additional(seq, header[0]!, header, ciphertext.length), ciphertext, body.subarray(body.length - 16));
    return { ok: true, type: header[0]!, plaintext };
  }

  private openCbc(header: Buffer, body: Buffer, seq: bigint): Opened {
    const macLength = this.suite.mac!.length;
    const type = header[0]!;
    let encrypted = body;
    if (this.etm) {
      // RFC 7366: the MAC is over the IV and ciphertext, and comes last.
      if (body.length < 16 + macLength) return { ok: false, reason: 'shorter than its IV and MAC' };
      encrypted = body.subarray(0, body.length - macLength);
      const expected = this.mac(seq, type, header, encrypted);
      if (!timingSafeEqual(expected, body.subarray(body.length - macLength))) return { ok: false, reason: 'bad record MAC' };
    }
    if (encrypted.length < 32 || encrypted.length % 16 !== 0) return { ok: false, reason: 'not a whole number of cipher blocks' };
    const d = createDecipheriv(this.suite.cipher, this.key, encrypted.subarray(0, 16)).setAutoPadding(false);
    const padded = Buffer.concat([d.update(encrypted.subarray(16)), d.final()]);
    const pad = padded[padded.length - 1]!;
    const end = padded.length - 1 - pad;
    if (end < (this.etm ? 0 : macLength)) return { ok: false, reason: 'bad padding' };
    for (let i = end; i < padded.length - 1; i++) if (padded[i] !== pad) return { ok: false, reason: 'bad padding' };
    if (this.etm) return { ok: true, type, plaintext: padded.subarray(0, end) };
    const content = padded.subarray(0, end - macLength);
    const expected = this.mac(seq, type, header, content);
    if (!timingSafeEqual(expected, padded.subarray(end - macLength, end))) return { ok: false, reason: 'bad record MAC' };
    return { ok: true, type, plaintext: content };
  }

  /** HMAC(seq | type | version | length | data) of RFC 5246 6.2.3.1. */
  private mac(seq: bigint, type: number, header: Buffer, data: Buffer): Buffer {
    return createHmac(this.suite.mac!.hash, this.macKey!).update(additional(seq, type, header, data.length)).update(data).digest();
  }
}

/** seq_num | type | version | length: the additional data of TLS 1.2 AEAD records and the MAC's prefix. */
function additional(seq: bigint, type: number, header: Buffer, length: number): Buffer {
  const a = Buffer.allocUnsafe(13);
  a.writeBigUInt64BE(seq, 0);
  a[8] = type;
  a[9] = header[1]!;
  a[10] = header[2]!;
  a.writeUInt16BE(length, 11);
  return a;
}
