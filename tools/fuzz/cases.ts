/**
 * Fuzzing ftpscope: a capture is hostile input, crafted to crash, hang or fool the tool.
 *
 * Three levels of generated inputs, every one of them a capture file (bytes), made deterministically from a
 * 32-bit seed (the same seed and the same fixtures give the same bytes):
 *
 * - file (file-mutators.ts): the capture file as bytes: random bytes (sometimes behind a valid magic), and
 *   mutations of every fixture, as pcap and converted to pcapng: bit flips, bytes set to 00/ff/7f/80,
 *   truncation, insertion and deletion of byte runs, duplicated chunks, record and block length fields set
 *   to edge values, global and section header fields, pcap and pcapng headers swapped, gzip of the result
 *   (sometimes then corrupted);
 * - packet (packet-mutators.ts): the fixtures' packets, read with openCapture, mutated one by one (IP
 *   lengths, IHL, version, TCP data offset, flags, sequence and acknowledgment numbers near 2^32, options,
 *   ports, addresses, cuts), fragmented, re-linked, reordered, duplicated and dropped, and written as a
 *   valid pcap with PcapWriter;
 * - ftp (ftp-dialogues.ts): control and data connections built with TcpConversation from random and hostile
 *   FTP: overlong lines, lines without ends, telnet IAC sequences, NUL and terminal escapes, invalid and huge
 *   reply codes, endless multi-line replies, malformed PORT/EPRT/LPRT/227/228/229, thousands of pipelined
 *   commands or PASV replies, path traversal, AUTH TLS then garbage, with random segmentation and timing.
 *
 * runner.ts analyses and renders a case, pool.ts runs cases in worker threads under time and memory
 * bounds, minimise.ts shrinks a failing input, main.ts is `npm run fuzz`.
 */
import type { Corpus } from './corpus.js';
import { fileCase } from './file-mutators.js';
import { ftpCase } from './ftp-dialogues.js';
import { packetCase } from './packet-mutators.js';
import { Rng } from './random.js';

export type Level = 'file' | 'packet' | 'ftp';
export const LEVELS: readonly Level[] = ['file', 'packet', 'ftp'];

export interface FuzzCase {
  level: Level;
  seed: number;
  /** The capture file to analyse. */
  bytes: Buffer;
  /** What the generator did, for reports. */
  description: string;
}

export function generateCase(level: Level, seed: number, corpus: Corpus): FuzzCase {
  const r = new Rng(seed);
  const notes: string[] = [];
  let bytes: Buffer;
  if (level === 'file') bytes = fileCase(r, corpus, notes);
  else if (level === 'packet') bytes = packetCase(r, corpus, notes);
  else bytes = ftpCase(r, notes);
  return { level, seed, bytes, description: notes.join(', ') };
}

