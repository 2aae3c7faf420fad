import type { ConnectionSummary } from './capture.js';
import type { FtpAnalysis, FtpSession, Prediction, Transfer } from './ftp-model.js';

/** Finds sessions, predictions, transfers and connections by id (ids need not match array positions). */
export interface ModelIndex {
  connection(id: number): ConnectionSummary | undefined;
  session(id: number): FtpSession | undefined;
  prediction(id: number): Prediction | undefined;
  transfer(id: number): Transfer | undefined;
}

export function indexModel(a: FtpAnalysis): ModelIndex {
  const sessions = new Map(a.sessions.map((s) => [s.id, s]));
  const predictions = new Map(a.predictions.map((p) => [p.id, p]));
  const transfers = new Map(a.transfers.map((t) => [t.id, t]));
  let connections: Map<number, ConnectionSummary> | null = null;
  return {
    connection: (id) => (connections ??= new Map(a.connections.map((c) => [c.id, c]))).get(id),
    session: (id) => sessions.get(id),
    prediction: (id) => predictions.get(id),
    transfer: (id) => transfers.get(id),
  };
}
