// From request to event; see event_intake.h.
#include "proxy/event_intake.h"

#include "core/event_entry.h"
#include "core/loop.h"

namespace streamshift {
namespace {

void invalid(Intake& in, std::string_view field, std::string_view detail) {
  in.kind = Intake::Kind::kInvalid;
  in.field = field;
  in.detail = detail;
}

}  // namespace

Intake EventIntake::read(const HttpRequest& request, Exchange* client, std::string_view client_ip) {
  Intake in;
  std::optional<RouteMatch> match = routes_.match(request.method, request.target());
  if (!match) return in;
  in.route = match->route;
  Event& e = in.event;
  e = Event(client, request, client_ip);
  e.capture = &capture_;
  EventFields& f = e.fields;
  if (!read_event_fields(request.body, &f, &in.field, &in.detail)) {
    in.kind = Intake::Kind::kInvalid;
    return in;
  }
  if (!in.route->event_type.empty()) f.event_type = in.route->event_type;
  if (!match->room_id.empty()) f.room_id = std::string(match->room_id);
  if (f.event_type.empty()) {
    invalid(in, "event_type", "the event has no event_type");
    return in;
  }
  if (f.room_id.empty()) {
    invalid(in, "room_id", "the event has no room_id");
    return in;
  }
  e.stream = in.route->stream_for(f.room_id);
  if (f.event_id.empty()) {
    auto header = request.headers.find("x-event-id");
    f.event_id = header && !header->empty() ? std::string(*header) : ids_.uuid4();
  }
  e.ts_ms = wall_clock_ms();
  // The entry contract's check (core/event_entry.h), as the relay will run it: an event
  // is accepted only if the entry it becomes would be delivered.
  if (std::optional<EntryViolation> v = check_entry(e.entry().contract)) {
    invalid(in, v->field, v->detail);
    return in;
  }
  in.kind = Intake::Kind::kEvent;
  return in;
}

}  // namespace streamshift
