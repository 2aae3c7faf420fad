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

/** The fixtures of issue 14 that test/ftp-semantics.test.ts tests (test/ftp-fixtures.test.ts checks every fixture is tested somewhere). */
export const SEMANTICS_CAPTURES = [
  'guest-named-user.pcap', 'anonymous-rfc1635-proftpd.pcap', 'anonymous-pureftpd.pcap', 'lftp-pget-abor.pcap', 'curl-max-time-rst.pcap',
  'nat-dnat-working.pcap', 'nat-dnat-working-client-side.pcap', 'pureftpd-lftp-opts.pcap', 'port-third-obeyed.pcap', 'stou.pcap',
  'stou-proftpd.pcap', 'list-options.pcap', 'resume-download.pcap', 'resume-upload.pcap', 'resume-upload-rest-stor.pcap',
  'proftpd-session.pcap', 'pyftpdlib-session.pcap',
];
