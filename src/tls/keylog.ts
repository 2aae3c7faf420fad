/**
 * TLS key logs in the NSS format (SSLKEYLOGFILE, written by OpenSSL, GnuTLS and NSS): one secret per line,
 * `LABEL <ClientHello.random in hex> <secret in hex>`, `#` comments. Lines are kept by the client random
 * they name, so a connection finds its secrets by the random of its ClientHello.
 */

/** Where a secret came from, to say which key log line decrypted what. */
export interface KeyLogSource {
  file: string;
  line: number;
}

/** The secrets of one TLS connection that a key log gave. */
export interface TlsSecrets {
  /** CLIENT_RANDOM: the TLS 1.2 master secret (48 bytes). */
  master?: Buffer;
  /** TLS 1.3 (RFC 8446 section 7.1). */
  clientHandshake?: Buffer;
  serverHandshake?: Buffer;
  clientTraffic0?: Buffer;
  serverTraffic0?: Buffer;
  /** The line of each label used. */
  from: Partial<Record<Label, KeyLogSource>>;
}

const LABELS = {
  CLIENT_RANDOM: 'master',
  CLIENT_HANDSHAKE_TRAFFIC_SECRET: 'clientHandshake',
  SERVER_HANDSHAKE_TRAFFIC_SECRET: 'serverHandshake',
  CLIENT_TRAFFIC_SECRET_0: 'clientTraffic0',
  SERVER_TRAFFIC_SECRET_0: 'serverTraffic0',
} as const;
type Label = keyof typeof LABELS;

/** Labels of the format that FTP never needs (0-RTT, exporters) or that only NSS writes: accepted, not used. */
const KNOWN_UNUSED = new Set(['CLIENT_EARLY_TRAFFIC_SECRET', 'EARLY_EXPORTER_SECRET', 'EXPORTER_SECRET', 'RSA', 'ECH_SECRET', 'ECH_CONFIG']);

/** A line not taken, and why. */
export interface KeyLogRejection extends KeyLogSource {
  reason: string;
}

const HEX = /^[0-9a-fA-F]+$/;
/** Sessions remembered for resumption (the oldest go first). */
const MAX_SESSIONS = 10_000;

export class KeyLog {
  private readonly byRandom = new Map<string, TlsSecrets>();
  readonly rejected: KeyLogRejection[] = [];
  /** Lines taken. */
  lines = 0;

  /** Reads one key log's text; `file` names it in what is said of its lines. */
  add(text: string, file: string): void {
    let n = 0;
    for (const raw of text.split('\n')) {
      n++;
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const why = this.take(line, { file, line: n });
      if (why !== null && this.rejected.length < 100) this.rejected.push({ file, line: n, reason: why });
    }
  }

  /**
   * TLS 1.2 sessions seen opened, by session id ('s:' hex) or ticket ('t:' hex): a resumed handshake uses
   * the same master secret, and GnuTLS logs no line for it (an FTPS data connection resuming the control one).
   */
  private readonly sessions = new Map<string, { master: Buffer; from: KeyLogSource }>();

  /** A TLS 1.2 session's master secret, for the handshakes that will resume it. */
  remember(key: string, master: Buffer, from: KeyLogSource): void {
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    this.sessions.set(key, { master, from });
  }

  recall(key: string): { master: Buffer; from: KeyLogSource } | undefined {
    return this.sessions.get(key);
  }

  /** The secrets logged for the ClientHello whose random is `clientRandom`. */
  lookup(clientRandom: Buffer): TlsSecrets | undefined {
    return this.byRandom.get(clientRandom.toString('hex'));
  }

  get size(): number {
    return this.byRandom.size;
  }

  /** Takes one line; the reason when it cannot. */
  private take(line: string, at: KeyLogSource): string | null {
    const parts = line.split(/\s+/);
    if (parts.length !== 3) return `expected "LABEL client_random secret", found ${parts.length} field${parts.length === 1 ? '' : 's'}`;
    const [label, random, secret] = parts as [string, string, string];
    if (!(label in LABELS)) return KNOWN_UNUSED.has(label) ? null : `unknown label ${label.slice(0, 40)}`;
    if (random.length !== 64 || !HEX.test(random)) return 'the client random is not 32 bytes of hex';
    if (secret.length % 2 !== 0 || !HEX.test(secret)) return 'the secret is not hex';
    const bytes = secret.length / 2;
    if (label === 'CLIENT_RANDOM' ? bytes !== 48 : bytes !== 32 && bytes !== 48) return `a ${label} of ${bytes} bytes`;
    const key = random.toLowerCase();
    let s = this.byRandom.get(key);
    if (s === undefined) this.byRandom.set(key, (s = { from: {} }));
    const field = LABELS[label as Label];
    s[field] = Buffer.from(secret, 'hex');
    s.from[label as Label] = at;
    this.lines++;
    return null;
  }
}
