// An event, fresh or held; see event.h.
#include "proxy/event.h"

namespace streamshift {

StreamEntry Event::entry() const {
  const HttpRequest& r = request();
  StreamEntry e{stream,
                {.event_id = fields.event_id,
                 .event_type = fields.event_type,
                 .room_id = fields.room_id,
                 .user_id = fields.user_id,
                 .has_user_id = fields.has_user_id,
                 .ts_ms = ts_ms,
                 .method = r.method,
                 .path = r.target(),
                 .content_type = content_type(),
                 .body = r.body,
                 .headers = {},
                 .header_count = 0}};
  if (capture != nullptr) capture_request_headers(*capture, r.headers, &e.contract);
  return e;
}

Event Event::hold() const {
  Event h;
  h.stream = stream;
  h.fields = fields;
  h.ts_ms = ts_ms;
  h.type = type;
  h.capture = capture;
  h.copy_ = std::make_unique<Copy>(Copy{*request_, std::string(client_ip_)});
  h.request_ = &h.copy_->request;
  h.client_ip_ = h.copy_->client_ip;
  return h;
}

std::string Event::take_body() {
  return copy_ ? std::move(copy_->request.body) : std::string();
}

}  // namespace streamshift
