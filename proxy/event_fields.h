// Reads the few fields the sidecar needs from an event's JSON body:
// event_id, event_type, room_id, user_id (top level; strings or numbers),
// and checks that the whole body is one valid JSON object (RFC 8259):
// simdjson on-demand validates only what it reads, so every other value is
// visited too, and nothing but whitespace may follow the object. When the
// body's buffer has SIMDJSON_PADDING bytes of spare capacity, nothing is
// copied.
#pragma once

#include <string>
#include <string_view>

namespace streamshift {

struct EventFields {
  std::string event_id;
  std::string event_type;
  std::string room_id;
  std::string user_id;
  bool has_user_id = false;
};

/// False with `*error_field` ("body", "event_type", ...) and `*detail` set
/// when the body is not one valid JSON object or a field has the wrong type.
/// Missing fields are left empty: the caller decides what is required.
bool read_event_fields(const std::string& body, EventFields* out, std::string* error_field,
                       std::string* detail);

}  // namespace streamshift
