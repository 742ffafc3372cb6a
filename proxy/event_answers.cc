// The sidecar's own answers on event routes; see event_answers.h.
#include "proxy/event_answers.h"

#include "core/json.h"

namespace streamshift {
namespace {

// Appends ,"<key>":<value as a JSON string>.
void member(std::string& body, std::string_view key, std::string_view value) {
  body += ",\"";
  body += key;
  body += "\":";
  append_json_string(body, value);
}

}  // namespace

std::string event_headers(std::string_view transport, std::string_view event_id) {
  std::string h = "X-Event-Transport: ";
  h += transport;
  h += "\r\nX-Event-Id: ";
  h += event_id;
  h += "\r\n";
  return h;
}

Answer stored_answer(int status, std::string_view stream, std::string_view entry_id,
                     std::string_view event_id) {
  Answer a{status, "{\"status\":\"accepted\",\"transport\":\"redis_streams\"",
           event_headers("redis_streams", event_id)};
  member(a.body, "stream", stream);
  member(a.body, "id", entry_id);
  member(a.body, "event_id", event_id);
  a.body += '}';
  return a;
}

Answer coalesced_answer(std::string_view event_id) {
  Answer a{202, "{\"status\":\"coalesced\"", "X-Event-Id: "};
  member(a.body, "event_id", event_id);
  a.body += '}';
  a.headers += event_id;
  a.headers += "\r\n";
  return a;
}

Answer invalid_answer(std::string_view field, std::string_view detail) {
  Answer a{400, "{\"error\":\"invalid_event\"", {}};
  member(a.body, "field", field);
  member(a.body, "detail", detail);
  a.body += '}';
  return a;
}

Answer refused_answer(FallbackReason reason, std::string_view detail, std::string_view event_id) {
  Answer a{503, "{\"error\":\"redis_unavailable\"", event_headers("redis_streams", event_id)};
  member(a.body, "reason", fallback_reason_name(reason));
  member(a.body, "detail", detail);
  member(a.body, "event_id", event_id);
  a.body += '}';
  return a;
}

}  // namespace streamshift
