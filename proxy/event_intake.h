// Intake: a request on an event route becomes an Event, or a rejection.
//
//   request --no route--> kNotEvent (bridged unchanged)
//      v route
//   fields from the body; the route's event_type and path room_id win
//      | body not one JSON object, a field of the wrong type,
//      | no event_type, no room_id, an entry the contract refuses --> kInvalid
//      v
//   event id: the body's, else X-Event-Id, else a new UUIDv4; ts_ms: the wall clock
//      v
//   kEvent
//
// What to do with kInvalid (400, or forward leniently with the master switch off) is the
// router's choice; invalid_answer() (proxy/event_answers.h) is its status and body.
#pragma once

#include <string>
#include <string_view>

#include "core/http_message.h"
#include "core/ids.h"
#include "proxy/capture_headers.h"
#include "proxy/event.h"
#include "proxy/event_answers.h"
#include "proxy/routes.h"

namespace streamshift {

struct Intake {
  enum class Kind { kNotEvent, kInvalid, kEvent };
  Kind kind = Kind::kNotEvent;
  const Route* route = nullptr;  // kInvalid, kEvent
  Event event;                   // kEvent
  std::string field, detail;     // kInvalid: the field at fault, and why

  /// kInvalid's answer: 400 invalid_event.
  Answer rejection() const { return invalid_answer(field, detail); }
};

class EventIntake {
 public:
  /// `capture` outlives the intake and every event it reads.
  explicit EventIntake(const RouteTable& routes, const CaptureHeaders& capture = kNoCapture)
      : routes_(routes), capture_(capture) {}

  /// `client` and `client_ip` go into the event (fresh: the request is viewed, not copied).
  Intake read(const HttpRequest& request, Exchange* client, std::string_view client_ip);

 private:
  const RouteTable& routes_;
  const CaptureHeaders& capture_;
  IdGenerator ids_;
};

}  // namespace streamshift
