/** Minimising a failing fuzz input: fewer pcap records first, then fewer bytes. */

/** The records of a classic pcap as slices (header, then each record whole); null when it is not one. */
export function splitPcap(b: Buffer): { head: Buffer; records: Buffer[]; rest: Buffer } | null {
  if (b.length < 24) return null;
  const m = b.readUInt32BE(0);
  const le = m === 0xd4c3b2a1 || m === 0x4d3cb2a1;
  if (!le && m !== 0xa1b2c3d4 && m !== 0xa1b23c4d) return null;
  const records: Buffer[] = [];
  let off = 24;
  while (off + 16 <= b.length) {
    const cap = le ? b.readUInt32LE(off + 8) : b.readUInt32BE(off + 8);
    if (off + 16 + cap > b.length) break;
    records.push(b.subarray(off, off + 16 + cap));
    off += 16 + cap;
  }
  return { head: b.subarray(0, 24), records, rest: b.subarray(off) };
}

/**
 * Makes a failing input smaller while it still fails the same way (`stillFails`): whole pcap records first
 * (delta debugging: removes chunks, halving their size), then byte ranges. Gives up after `budget` tries.
 */
export async function minimise(bytes: Buffer, stillFails: (b: Buffer) => Promise<boolean>, budget = 200): Promise<Buffer> {
  let best = bytes;
  let tries = 0;
  const attempt = async (candidate: Buffer): Promise<boolean> => {
    if (tries >= budget || candidate.length >= best.length) return false;
    tries++;
    if (await stillFails(candidate)) {
      best = candidate;
      return true;
    }
    return false;
  };
  const split = splitPcap(best);
  if (split !== null && split.records.length > 1) {
    let records = split.records;
    for (let chunk = Math.ceil(records.length / 2); chunk >= 1 && tries < budget; chunk = chunk === 1 ? 0 : Math.ceil(chunk / 2)) {
      for (let at = 0; at < records.length && tries < budget; ) {
        const fewer = records.slice(0, at).concat(records.slice(at + chunk));
        if (fewer.length > 0 && (await attempt(Buffer.concat([split.head, ...fewer, split.rest])))) records = fewer;
        else at += chunk;
      }
    }
  }
  for (let chunk = Math.max(1, Math.floor(best.length / 2)); chunk >= 1 && tries < budget; chunk = chunk === 1 ? 0 : Math.floor(chunk / 2)) {
    for (let at = 0; at < best.length && tries < budget; ) {
      if (!(await attempt(Buffer.concat([best.subarray(0, at), best.subarray(at + chunk)])))) at += chunk;
    }
  }
  return best;
}

