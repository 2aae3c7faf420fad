import type { Connection, Stamp } from '../flow/connections.js';
import type { Dir, EndReason, GapReason, StreamSink } from '../flow/stream-sink.js';
import { isKnownCommand } from './commands.js';
import type { ControlSession, FtpLimits } from './session.js';

/** What the sniffer needs of the analysis: its limits, and a session for a connection found to be FTP. */
export interface Promoter {
  readonly limits: FtpLimits;
  promote(conn: Connection, commandDir: Dir): ControlSession;
}

/** Looks at the first lines of a connection on a port nobody named, to recognise FTP there. */
export class Sniffer implements StreamSink {
  private readonly seen: [Buffer[], Buffer[]] = [[], []];
  /** Everything seen, in arrival order, to replay into the session. */
  private readonly arrivals: Array<{ dir: Dir; bytes: Buffer; at: number; when: Stamp }> = [];
  private readonly sizes = [0, 0];
  private session: ControlSession | null = null;
  private done = false;

  constructor(
    private readonly conn: Connection,
    private readonly analyzer: Promoter,
  ) {}

  data(dir: Dir, buf: Buffer, off: number, len: number, at: number, when: Readonly<Stamp>): void {
    if (this.session !== null) return this.session.data(dir, buf, off, len, at, when);
    if (this.done) return;
    const limit = this.analyzer.limits.sniffBytes;
    if (this.sizes[dir]! < limit) {
      const bytes = Buffer.from(buf.subarray(off, off + Math.min(len, limit)));
      this.seen[dir].push(bytes);
      this.arrivals.push({ dir, bytes, at, when: { frame: when.frame, sec: when.sec, nsec: when.nsec } });
      this.sizes[dir]! += len;
    }
    const verdict = this.decide();
    if (verdict === null) {
      if (this.sizes[0]! >= limit || this.sizes[1]! >= limit) this.done = true;
      return;
    }
    if (verdict < 0) {
      this.done = true;
      return;
    }
    this.session = this.analyzer.promote(this.conn, verdict as Dir);
    for (const a of this.arrivals) this.session.data(a.dir, a.bytes, 0, a.bytes.length, a.at, a.when);
    this.arrivals.length = 0;
  }

  gap(dir: Dir, at: number, len: number, reason: GapReason): void {
    if (this.session !== null) this.session.gap(dir, at, len, reason);
  }

  end(dir: Dir, reason: EndReason): void {
    if (this.session !== null) this.session.end(dir, reason);
  }

  /** The direction carrying commands once FTP is recognised; -1 when it is not FTP; null: not yet known. */
  private decide(): number | null {
    const first = (d: Dir) => {
      const b = Buffer.concat(this.seen[d]);
      const lf = b.indexOf(0x0a);
      return lf < 0 ? null : b.subarray(0, lf).toString('latin1').replace(/\r$/, '');
    };
    const a = first(0);
    const b = first(1);
    const reply = (s: string | null) => s !== null && /^\d{3}[ -]/.test(s);
    const command = (s: string | null) => s !== null && isKnownCommand(s.split(' ')[0]!);
    if ((a !== null && !reply(a) && !command(a)) || (b !== null && !reply(b) && !command(b))) return -1;
    if (reply(b) && command(a)) return 0;
    if (reply(a) && command(b)) return 1;
    return null;
  }
}

