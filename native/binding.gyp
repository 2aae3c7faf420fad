{
  "targets": [
    {
      "target_name": "packet_stats",
      "sources": ["packet-stats.c"],
      "conditions": [["OS!='linux'", {"type": "none"}]]
    }
  ]
}
