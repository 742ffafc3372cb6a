// The relay's readiness answer; see relay_admin.h.
#include "relay/relay_admin.h"

#include "core/json_writer.h"

namespace streamshift {

ProbeAnswer relay_readiness(std::string_view not_ready_reason) {
  bool ready = not_ready_reason.empty();
  JsonWriter json;
  json.begin_object().key("status").string(ready ? "ready" : not_ready_reason).end_object();
  return {ready ? 200 : 503, json.take()};
}

}  // namespace streamshift
