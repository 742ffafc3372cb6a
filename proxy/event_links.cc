// The event path's real links; see event_links.h.
#include "proxy/event_links.h"

namespace streamshift {

void LiveLinks::xadd(const StreamEntry& entry, RedisCallback done, void* data) {
  publish_entry(*redis_, entry, settings_->stream_max_len, settings_->publish_timeout_ms, done,
                data);
}

void LiveLinks::forward(Exchange& client, std::string extra_headers, std::string_view event_id,
                        HttpTally tally) {
  bridge_.forward(client, std::move(extra_headers), event_id, tally);
}

// The request head is rendered here, when the event actually goes over HTTP.
void LiveLinks::send_held(Event& event, HttpTally tally, std::function<void(bool ok)> done) {
  std::string head =
      bridge_.upstream_head(event.request(), event.client_ip(), event.fields.event_id);
  bridge_.send_detached(std::move(head), event.take_body(), tally, std::move(done));
}

void LiveLinks::respond(Exchange& client, Answer answer) {
  client.respond_json(answer.status, std::move(answer.body), answer.headers);
}

}  // namespace streamshift
