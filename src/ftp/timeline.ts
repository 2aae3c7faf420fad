import type { ConnectionSummary, Stamp } from '../model/capture.js';
import type { FtpSession, Prediction, TimelineEvent, Transfer } from '../model/ftp-model.js';

/**
 * The one timeline of the analysis: its events in time order (frame order; a frame's events in the order
 * they happened). JSON writes it; the timeline view and the ladder (without a packet log) read it.
 */
export function buildTimeline(sessions: FtpSession[], predictions: Prediction[], transfers: Transfer[], connections: ConnectionSummary[]): TimelineEvent[] {
  const events: TimelineEvent[] = [];
  const event = (at: Stamp, e: Omit<TimelineEvent, 'at' | 'exchange' | 'prediction' | 'transfer'> & Partial<TimelineEvent>) =>
    events.push({ at, exchange: null, prediction: null, transfer: null, ...e });
  const byId = new Map(connections.map((c) => [c.id, c]));
  // By id: the sessions given need not be all of them, from 1 (one session's snapshot, those a report still holds).
  const sessionById = new Map(sessions.map((s) => [s.id, s]));
  /** TCP steps of a connection, with the FTP role of whoever opened it. */
  const tcp = (c: ConnectionSummary, session: number, role: 'control' | 'data', openerIsClient: boolean, transfer: number | null) => {
    const opener = openerIsClient ? 'client' : 'server';
    const other = openerIsClient ? 'server' : 'client';
    const base = { session, connection: c.id, role, transfer };
    if (c.handshake.syn) event(c.handshake.syn, { ...base, kind: 'syn', from: opener });
    else event(c.first, { ...base, kind: 'seen', from: opener });
    if (c.handshake.synAck) event(c.handshake.synAck, { ...base, kind: 'syn-ack', from: other });
    if (c.handshake.ack) event(c.handshake.ack, { ...base, kind: 'handshake-ack', from: opener });
    if (c.teardown.clientFin) event(c.teardown.clientFin, { ...base, kind: 'fin', from: opener });
    if (c.teardown.serverFin) event(c.teardown.serverFin, { ...base, kind: 'fin', from: other });
    if (c.teardown.rst) event(c.teardown.rst, { ...base, kind: 'rst', from: c.teardown.rst.by === 'client' ? opener : other });
    if (!c.teardown.rst && !c.teardown.clientFin && !c.teardown.serverFin) event(c.last, { ...base, kind: 'open-at-end', from: opener });
  };
  for (const s of sessions) {
    const c = byId.get(s.connection);
    if (c !== undefined) tcp(c, s.id, 'control', c.client.address === s.client.address && c.client.port === s.client.port, null);
    for (const ex of s.exchanges) {
      const base = { session: s.id, connection: s.connection, role: 'control' as const, exchange: ex.index };
      if (ex.request !== null) event(ex.request, { ...base, kind: 'command', from: 'client' });
      for (const r of ex.replies) event(r.start, { ...base, kind: 'reply', from: 'server' });
    }
  }
  for (const p of predictions) {
    const s = sessionById.get(p.session);
    if (s === undefined) continue;
    event(p.setup, { session: p.session, connection: s.connection, role: 'control', kind: 'prediction', from: p.mode === 'active' ? 'client' : 'server', prediction: p.id, exchange: p.exchange });
  }
  for (const t of transfers) {
    const c = t.connection === null ? undefined : byId.get(t.connection);
    const s = sessionById.get(t.session);
    if (s === undefined) continue;
    if (c === undefined) {
      event(t.request ?? s.start, { session: t.session, connection: null, role: 'data', kind: 'no-data', from: 'client', transfer: t.id, exchange: t.exchange });
      continue;
    }
    const openerIsClient = t.mode === 'passive' || (t.mode === 'unknown' && c.client.address === s.client.address);
    tcp(c, t.session, 'data', openerIsClient, t.id);
    const from = t.direction === 'upload' ? 'client' : 'server';
    const base = { session: t.session, connection: c.id, role: 'data' as const, from, transfer: t.id } as const;
    if (t.firstData) event(t.firstData, { ...base, kind: 'data-first' });
    if (t.lastData) event(t.lastData, { ...base, kind: 'data-last' });
  }
  // Array.prototype.sort is stable (ES2019): within a frame, events keep the order they were added in.
  return events.sort((a, b) => a.at.frame - b.at.frame);
}
