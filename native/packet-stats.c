/*
 * packetStats(fd): the kernel's counters of an AF_PACKET socket (getsockopt PACKET_STATISTICS), the
 * numbers libpcap's pcap_stats reports on Linux. cap opens the socket and gives no statistics; ftpscope
 * finds the socket's descriptor (src/capture/packet-stats.ts) and reads them here.
 * Returns [packets, drops, freezes]: packets that passed the filter (drops included), packets the ring had
 * no room for, and times the ring was frozen (TPACKET_V3 only, else 0). The kernel zeroes the counters on
 * each read: the caller adds them up.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_packet.h>
#include <node_api.h>

static napi_value packet_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "packetStats(fd): fd must be a number");
    return NULL;
  }
  struct tpacket_stats_v3 st;
  memset(&st, 0, sizeof st);
  socklen_t len = sizeof st;
  if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) {
    napi_throw_error(env, NULL, strerror(errno));
    return NULL;
  }
  uint32_t values[3] = { st.tp_packets, st.tp_drops, len >= sizeof st ? st.tp_freeze_q_cnt : 0 };
  napi_value out;
  napi_create_array_with_length(env, 3, &out);
  for (uint32_t i = 0; i < 3; i++) {
    napi_value v;
    napi_create_uint32(env, values[i], &v);
    napi_set_element(env, out, i, v);
  }
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "packetStats", NAPI_AUTO_LENGTH, packet_stats, NULL, &fn);
  napi_set_named_property(env, exports, "packetStats", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
