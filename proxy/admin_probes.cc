// The sidecar's probes; see admin_probes.h.
#include "proxy/admin_probes.h"

#include "core/json_writer.h"

namespace streamshift {

ProbeAnswer workers_liveness(const std::vector<const WorkerHealth*>& workers, uint64_t now_ms) {
  for (size_t i = 0; i < workers.size(); ++i) {
    uint64_t beat = workers[i]->heartbeat_ms.load();
    if (beat == 0 || now_ms - beat > kStalledAfterMs) {
      JsonWriter json;
      json.begin_object().key("status").string("stalled").key("worker").number(i).end_object();
      return {503, json.take()};
    }
  }
  return probe_ok();
}

ProbeAnswer sidecar_readiness(const std::vector<const WorkerHealth*>& workers, bool draining,
                              bool redis_connected) {
  bool listening = true;
  for (const WorkerHealth* w : workers) listening = listening && w->listening.load();
  std::string_view why = draining ? "draining" : !listening ? "not_listening" : "";
  JsonWriter json;
  json.begin_object().key("status").string(why.empty() ? "ready" : why);
  json.key("redis_connected").boolean(redis_connected).end_object();
  return {why.empty() ? 200 : 503, json.take()};
}

}  // namespace streamshift
