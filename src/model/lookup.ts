import type { FtpAnalysis, FtpSession, Prediction, Transfer } from './ftp-model.js';

/** Finds sessions, predictions and transfers by id (ids need not match array positions). */
export interface ModelIndex {
  session(id: number): FtpSession | undefined;
  prediction(id: number): Prediction | undefined;
  transfer(id: number): Transfer | undefined;
}

export function indexModel(a: FtpAnalysis): ModelIndex {
  const sessions = new Map(a.sessions.map((s) => [s.id, s]));
  const predictions = new Map(a.predictions.map((p) => [p.id, p]));
  const transfers = new Map(a.transfers.map((t) => [t.id, t]));
  return {
    session: (id) => sessions.get(id),
    prediction: (id) => predictions.get(id),
    transfer: (id) => transfers.get(id),
  };
}
