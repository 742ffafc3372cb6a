// The stream inspection API's look-ups (issue 20) on the admin loop: each
// request, once read by inspection_query.h, becomes one or two Redis
// commands on the admin loop's own connection (the lag monitor's), sent
// asynchronously, and its answer is built by inspection_documents.h.
//
//   entries  EVAL <range script> 1 <stream> XRANGE|XREVRANGE <start|end> <end|start> n+1 ..
//   dlq      EVAL <range script> 1 <dlq> XREVRANGE <end> <start> n+1 ..
//   pending  XPENDING <stream> <group>  +  XPENDING <stream> <group> <start> <end> n+1 [consumer]
//
// The range script (a read-only Lua script on the one key) reads the range
// one entry at a time inside Redis and answers every field name and
// value cut to kInspectionBodyBytes, with the body's whole size: a page
// costs the sidecar about n x (4 KiB per field) whatever the bodies' sizes
// (up to STREAMSHIFT_MAX_BODY_BYTES each), not n whole bodies. A page
// also stops once it has read 4 MiB of fields inside Redis (its "next"
// then names the entry after it), so that one request holds Redis, which
// serves the sidecar's XADDs meanwhile, for milliseconds, not seconds.
//
// Outcomes: NOGROUP is 404 unknown_group; another error reply 502
// redis_error; no connection, a timeout or a lost connection 503
// redis_unavailable; all with the API's JSON error shape.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/http_server.h"
#include "core/redis_commands.h"
#include "proxy/inspection_query.h"

namespace streamshift {

class StreamInspection {
 public:
  StreamInspection(RedisCommands& redis, ReadableStreams streams, std::string group,
                   uint64_t timeout_ms);

  /// Answers an authorized request for `endpoint` (the path after
  /// /api/v1/events/, is_inspection_endpoint()).
  void serve(Exchange& exchange, std::string_view endpoint);

 private:
  struct Lookup;
  static void on_reply(void* data, const RedisResult& result);
  void send(Lookup* lookup, std::initializer_list<std::string_view> args);

  RedisCommands& redis_;
  ReadableStreams streams_;
  std::string group_;
  uint64_t timeout_ms_;
};

}  // namespace streamshift
