/**
 * The TLS cipher suites ftpscope can decrypt with a key log: how each protects records and which hash its
 * key schedule uses. Numbers from the IANA TLS Cipher Suites registry; the record protection from the RFC
 * named on each group.
 */

export type Protection =
  /** AEAD with a 4-byte implicit salt and an 8-byte explicit nonce per record (RFC 5288, TLS 1.2). */
  | 'gcm12'
  /** ChaCha20-Poly1305 with a 12-byte implicit IV XORed with the sequence number (RFC 7905, TLS 1.2). */
  | 'chacha12'
  /** CBC with an explicit IV per record and HMAC, MAC-then-encrypt or encrypt-then-MAC (RFC 5246, 7366). */
  | 'cbc'
  /** TLS 1.3 AEAD: IV XORed with the sequence number, the record header as additional data (RFC 8446 5.2). */
  | 'aead13';

export interface Suite {
  id: number;
  name: string;
  tls13: boolean;
  protection: Protection;
  /** Node's cipher name. */
  cipher: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305' | 'aes-128-cbc' | 'aes-256-cbc';
  keyLength: number;
  /** The implicit part of the IV taken from the key block (TLS 1.2) or the IV length (TLS 1.3). */
  ivLength: number;
  /** CBC suites: the record MAC and its length. */
  mac: { hash: 'sha1' | 'sha256' | 'sha384'; length: number } | null;
  /** The hash of the PRF (TLS 1.2) or of HKDF (TLS 1.3). */
  hash: 'sha256' | 'sha384';
}

type Row = [id: number, name: string, cipher: Suite['cipher'], mac: 'sha1' | 'sha256' | 'sha384' | null, hash: Suite['hash']];

/** TLS 1.3 (RFC 8446 appendix B.4). */
const TLS13: Row[] = [
  [0x1301, 'TLS_AES_128_GCM_SHA256', 'aes-128-gcm', null, 'sha256'],
  [0x1302, 'TLS_AES_256_GCM_SHA384', 'aes-256-gcm', null, 'sha384'],
  [0x1303, 'TLS_CHACHA20_POLY1305_SHA256', 'chacha20-poly1305', null, 'sha256'],
];

/** TLS 1.2 AEAD suites: AES-GCM (RFC 5288, 5289) and ChaCha20-Poly1305 (RFC 7905). */
const AEAD12: Row[] = [
  [0x009c, 'TLS_RSA_WITH_AES_128_GCM_SHA256', 'aes-128-gcm', null, 'sha256'],
  [0x009d, 'TLS_RSA_WITH_AES_256_GCM_SHA384', 'aes-256-gcm', null, 'sha384'],
  [0x009e, 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', 'aes-128-gcm', null, 'sha256'],
  [0x009f, 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384', 'aes-256-gcm', null, 'sha384'],
  [0xc02b, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'aes-128-gcm', null, 'sha256'],
  [0xc02c, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'aes-256-gcm', null, 'sha384'],
  [0xc02f, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'aes-128-gcm', null, 'sha256'],
  [0xc030, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'aes-256-gcm', null, 'sha384'],
  [0xcca8, 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'chacha20-poly1305', null, 'sha256'],
  [0xcca9, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'chacha20-poly1305', null, 'sha256'],
  [0xccaa, 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'chacha20-poly1305', null, 'sha256'],
];

/** TLS 1.2 CBC suites (RFC 5246 appendix A.5, RFC 4492, RFC 5289); the PRF is SHA-256 unless the suite names SHA-384. */
const CBC12: Row[] = [
  [0x002f, 'TLS_RSA_WITH_AES_128_CBC_SHA', 'aes-128-cbc', 'sha1', 'sha256'],
  [0x0035, 'TLS_RSA_WITH_AES_256_CBC_SHA', 'aes-256-cbc', 'sha1', 'sha256'],
  [0x003c, 'TLS_RSA_WITH_AES_128_CBC_SHA256', 'aes-128-cbc', 'sha256', 'sha256'],
  [0x003d, 'TLS_RSA_WITH_AES_256_CBC_SHA256', 'aes-256-cbc', 'sha256', 'sha256'],
  [0x0033, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA', 'aes-128-cbc', 'sha1', 'sha256'],
  [0x0039, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA', 'aes-256-cbc', 'sha1', 'sha256'],
  [0x0067, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA256', 'aes-128-cbc', 'sha256', 'sha256'],
  [0x006b, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA256', 'aes-256-cbc', 'sha256', 'sha256'],
  [0xc009, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'aes-128-cbc', 'sha1', 'sha256'],
  [0xc00a, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'aes-256-cbc', 'sha1', 'sha256'],
  [0xc013, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'aes-128-cbc', 'sha1', 'sha256'],
  [0xc014, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'aes-256-cbc', 'sha1', 'sha256'],
  [0xc023, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'aes-128-cbc', 'sha256', 'sha256'],
  [0xc024, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384', 'aes-256-cbc', 'sha384', 'sha384'],
  [0xc027, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 'aes-128-cbc', 'sha256', 'sha256'],
  [0xc028, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384', 'aes-256-cbc', 'sha384', 'sha384'],
];

const MAC_LENGTH = { sha1: 20, sha256: 32, sha384: 48 } as const;

function suite(row: Row, tls13: boolean): Suite {
  const [id, name, cipher, mac, hash] = row;
  const keyLength = cipher === 'aes-128-gcm' || cipher === 'aes-128-cbc' ? 16 : 32;
  const protection: Protection = tls13 ? 'aead13' : mac !== null ? 'cbc' : cipher === 'chacha20-poly1305' ? 'chacha12' : 'gcm12';
  // TLS 1.2 CBC takes no IV from the key block (RFC 5246 6.3: explicit IVs); GCM a 4-byte salt; the others 12 bytes.
  const ivLength = protection === 'cbc' ? 0 : protection === 'gcm12' ? 4 : 12;
  return { id, name, tls13, protection, cipher, keyLength, ivLength, mac: mac === null ? null : { hash: mac, length: MAC_LENGTH[mac] }, hash };
}

const SUITES = new Map<number, Suite>([
  ...TLS13.map((r) => [r[0], suite(r, true)] as const),
  ...AEAD12.map((r) => [r[0], suite(r, false)] as const),
  ...CBC12.map((r) => [r[0], suite(r, false)] as const),
]);

/** The suite a ServerHello chose, or undefined when ftpscope cannot decrypt it. */
export function suiteOf(id: number): Suite | undefined {
  return SUITES.get(id);
}

/** A suite's name as IANA lists it, or its number in hex. */
export function suiteName(id: number): string {
  return SUITES.get(id)?.name ?? `0x${id.toString(16).padStart(4, '0')}`;
}
