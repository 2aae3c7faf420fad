// pcap-parser ships no types; this is the part of its API we use.
declare module 'pcap-parser' {
  import type { EventEmitter } from 'node:events';
  interface PcapPacketHeader {
    timestampSeconds: number;
    timestampMicroseconds: number;
    capturedLength: number;
    originalLength: number;
  }
  interface PcapParser extends EventEmitter {
    on(event: 'packetHeader', listener: (header: PcapPacketHeader) => void): this;
    on(event: 'packet', listener: (packet: { header: PcapPacketHeader; data: Buffer }) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
  /** Accepts a path or anything stream-like with pause(), resume() and on('data'|'end'|'error'). */
  export function parse(input: string | EventEmitter): PcapParser;
}
