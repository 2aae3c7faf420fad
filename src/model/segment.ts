/**
 * What a segment is, in the vocabulary of tshark's TCP analysis (`tcp.analysis.*`), as bits of one number.
 * A segment can carry several (a FIN that is also a retransmission, a duplicate ACK that also acks unseen
 * data). `SEG_RETRANSMITTED` is the mask of the three retransmission kinds (tshark flags each of them as a
 * retransmission too); out-of-order is not in it.
 */
export const SEG_SYN = 1 << 0;
export const SEG_SYN_ACK = 1 << 1;
/** The SYN sender's ACK of the SYN+ACK: the third step of the handshake. */
export const SEG_HANDSHAKE_ACK = 1 << 2;
/** Carries payload. */
export const SEG_DATA = 1 << 3;
export const SEG_RETRANSMISSION = 1 << 4;
export const SEG_FAST_RETRANSMISSION = 1 << 5;
export const SEG_SPURIOUS_RETRANSMISSION = 1 << 6;
export const SEG_OUT_OF_ORDER = 1 << 7;
/** Starts past the highest sequence number seen: bytes before it are not in the capture. */
export const SEG_PREVIOUS_NOT_CAPTURED = 1 << 8;
/** Acknowledges bytes of the other direction that are not in the capture. */
export const SEG_ACKED_UNSEEN = 1 << 9;
export const SEG_DUP_ACK = 1 << 10;
export const SEG_ZERO_WINDOW = 1 << 11;
export const SEG_ZERO_WINDOW_PROBE = 1 << 12;
export const SEG_ZERO_WINDOW_PROBE_ACK = 1 << 13;
export const SEG_WINDOW_UPDATE = 1 << 14;
export const SEG_WINDOW_FULL = 1 << 15;
export const SEG_KEEP_ALIVE = 1 << 16;
export const SEG_KEEP_ALIVE_ACK = 1 << 17;
export const SEG_FIN = 1 << 18;
export const SEG_RST = 1 << 19;
/** Its ACK covers the other side's FIN (not a tshark word: the teardown's steps are told from it). */
export const SEG_ACKS_FIN = 1 << 20;
/** Its ACK counts from the other side's SYN (seen), so ack - 1 is every byte that side has sent. */
export const SEG_ACK_FROM_ISN = 1 << 21;

export const SEG_RETRANSMITTED = SEG_RETRANSMISSION | SEG_FAST_RETRANSMISSION | SEG_SPURIOUS_RETRANSMISSION;

/** Wireshark's bracketed words for a segment's labels, in the order it prefixes them to Info. */
export function analysisTags(labels: number, dupAckCount: number, dupAckOf: number): string[] {
  const tags: string[] = [];
  // Wireshark prepends each in turn, so the last prepended comes first: keep its order.
  if (labels & SEG_KEEP_ALIVE_ACK) tags.push('TCP Keep-Alive ACK');
  if (labels & SEG_KEEP_ALIVE) tags.push('TCP Keep-Alive');
  if (labels & SEG_ZERO_WINDOW_PROBE_ACK) tags.push('TCP ZeroWindowProbeAck');
  if (labels & SEG_ZERO_WINDOW_PROBE) tags.push('TCP ZeroWindowProbe');
  if (labels & SEG_ZERO_WINDOW) tags.push('TCP ZeroWindow');
  if (labels & SEG_DUP_ACK) tags.push(`TCP Dup ACK ${dupAckOf}#${dupAckCount}`);
  if (labels & SEG_WINDOW_FULL) tags.push('TCP Window Full');
  if (labels & SEG_WINDOW_UPDATE) tags.push('TCP Window Update');
  if (labels & SEG_ACKED_UNSEEN) tags.push('TCP ACKed unseen segment');
  if (labels & SEG_PREVIOUS_NOT_CAPTURED) tags.push('TCP Previous segment not captured');
  if (labels & SEG_OUT_OF_ORDER) tags.push('TCP Out-Of-Order');
  if (labels & SEG_SPURIOUS_RETRANSMISSION) tags.push('TCP Spurious Retransmission');
  if (labels & SEG_FAST_RETRANSMISSION) tags.push('TCP Fast Retransmission');
  if (labels & SEG_RETRANSMISSION) tags.push('TCP Retransmission');
  return tags;
}
