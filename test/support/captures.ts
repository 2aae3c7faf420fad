import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every capture file (.pcap, .pcapng, optionally .gz) under a folder, sorted; none when it does not exist. */
export function listCaptures(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return listCaptures(path);
      return /\.pcap(ng)?(\.gz)?$/.test(name) ? [path] : [];
    })
    .sort();
}
