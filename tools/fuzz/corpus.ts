/** The fuzzer's corpus: the fixtures, as file bytes and as packet records to mutate. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { openCapture } from '../../src/capture/open-capture.js';

/** One record of a capture, copied out of the reader's batch. */
export interface Rec {
  sec: number;
  nsec: number;
  data: Buffer;
  orig: number;
}

export interface CorpusCapture {
  name: string;
  bytes: Buffer;
  linktype: number;
  records: Rec[];
}

export interface Corpus {
  captures: CorpusCapture[];
}

/** Reads every .pcap of a folder (the fixtures), sorted by name, as bytes and as records. */
export async function loadCorpus(dir: string): Promise<Corpus> {
  const names = readdirSync(dir).filter((n) => /\.pcap(ng)?$/.test(n)).sort();
  const captures: CorpusCapture[] = [];
  for (const name of names) {
    const bytes = readFileSync(join(dir, name));
    const reader = await openCapture(name, Readable.from([bytes]));
    const records: Rec[] = [];
    let linktype = 1;
    for (let b = await reader.next(); b !== null; b = await reader.next()) {
      for (let i = 0; i < b.count; i++) {
        linktype = b.linktypes[i]!;
        const off = b.offs[i]!;
        records.push({ sec: b.tsSec[i]!, nsec: b.tsNsec[i]!, data: Buffer.from(b.bufs[i]!.subarray(off, off + b.caps[i]!)), orig: b.origs[i]! });
      }
    }
    reader.close();
    if (records.length > 0) captures.push({ name, bytes, linktype, records });
  }
  if (captures.length === 0) throw new Error(`no capture in ${dir}`);
  return { captures };
}

