// Every answer the sidecar itself gives on an event route, in one place (the upstream's
// answers are relayed by the HTTP bridge as they are):
//
//   202 {"status":"accepted","transport":"redis_streams","stream":..,"id":..,"event_id":..}
//       (EVENT_TRANSPORT_ACK_STATUS)                          stored in its stream
//   202 {"status":"coalesced","event_id":..}                  held or dropped by coalescing
//   400 {"error":"invalid_event","field":..,"detail":..}      the event cannot be stored
//   503 {"error":"redis_unavailable","reason":..,"detail":..,"event_id":..}
//                                                             Redis failed, fallback off
//
// Each carries X-Event-Id, and X-Event-Transport when a transport was chosen.
#pragma once

#include <string>
#include <string_view>

#include "proxy/transport_stats.h"

namespace streamshift {

struct Answer {
  int status = 200;
  std::string body;     // JSON
  std::string headers;  // "Name: value\r\n" text
};

/// "X-Event-Transport: <transport>\r\nX-Event-Id: <event_id>\r\n"
std::string event_headers(std::string_view transport, std::string_view event_id);

Answer stored_answer(int status, std::string_view stream, std::string_view entry_id,
                     std::string_view event_id);
Answer coalesced_answer(std::string_view event_id);
Answer invalid_answer(std::string_view field, std::string_view detail);
Answer refused_answer(FallbackReason reason, std::string_view detail, std::string_view event_id);

}  // namespace streamshift
