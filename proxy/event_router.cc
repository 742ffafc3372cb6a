// One request's walk through the sidecar; see event_router.h.
#include "proxy/event_router.h"

#include <string>

#include "core/log.h"
#include "proxy/event_type_peek.h"

namespace streamshift {

EventRouter::EventRouter(const RouteTable& routes, const TransportSettings& settings,
                         EventSender& sender, EventLinks& links, EventAccounting& accounting,
                         EventClock& clock, const CaptureHeaders& capture)
    : routes_(routes),
      settings_(&settings),
      sender_(sender),
      links_(links),
      accounting_(accounting),
      clock_(clock),
      intake_(routes, capture) {
  clock_.set_wake([this] { wake(); });
  if (settings.coalescing.enabled) make_coalescer();
}

void EventRouter::make_coalescer() {
  const CoalescingSettings& c = settings_->coalescing;
  coalescer_ = std::make_unique<Coalescer<Event>>(
      CoalescerOptions{c.window_ms, c.refresh_ms, c.max_keys}, [this](const std::string& type) {
        accounting_.count(Outcome::kCoalesced, accounting_.type(type));
      });
}

void EventRouter::use(const TransportSettings& settings) {
  const CoalescingSettings& was = settings_->coalescing;
  const CoalescingSettings& now = settings.coalescing;
  bool remake = was.enabled != now.enabled || was.window_ms != now.window_ms;
  settings_ = &settings;
  if (!remake) return;
  if (coalescer_) {
    coalescer_->flush([this](Event&& e) { sender_.send(std::move(e)); });
    coalescer_.reset();
    clock_.wake_at(0);
  }
  if (now.enabled && !flushed_) make_coalescer();
}

void EventRouter::handle(Exchange& client, HttpRequest& request, std::string_view client_ip) {
  // Master switch off and nothing to coalesce: the original HTTP bridge, untouched. With
  // the switch off the router stays lenient: a body it cannot read is forwarded as it is
  // (a rollback must not start refusing bodies the app always sent).
  bool strict = settings_->needs_redis();
  if (!strict && (!coalescer_ || !mentions_coalesced_type(request.body))) {
    bridge_lenient(client, request, nullptr);
    return;
  }
  Intake in = intake_.read(request, &client, client_ip);
  switch (in.kind) {
    case Intake::Kind::kNotEvent:
      accounting_.count(Outcome::kPassthrough);
      links_.forward(client, {}, {}, {});
      return;
    case Intake::Kind::kInvalid:
      if (!strict) {
        bridge_lenient(client, request, in.route);
        return;
      }
      accounting_.count(Outcome::kInvalid);
      log_line(LogLevel::kWarn, "event rejected",
               {{"field", in.field}, {"detail", in.detail}, {"route", in.route->pattern}});
      links_.respond(client, in.rejection());
      return;
    case Intake::Kind::kEvent:
      break;
  }
  in.event.type = accounting_.type(in.event.fields.event_type);
  if (coalesce(in.event)) return;
  sender_.send(std::move(in.event));
}

// The original HTTP bridge, byte for byte, each event it carries counted by type, read
// leniently.
void EventRouter::bridge_lenient(Exchange& client, const HttpRequest& request, const Route* route) {
  std::optional<RouteMatch> match;
  if (route == nullptr && (match = routes_.match(request.method, request.target())))
    route = match->route;
  HttpTally tally;
  if (route != nullptr) {
    const std::string& fixed = route->event_type;
    tally.accounting = &accounting_;
    tally.type = accounting_.type(fixed.empty() ? peek_event_type(request.body) : fixed);
  }
  links_.forward(client, {}, {}, tally);
}

// With the master switch off only coalescing needs the body: a substring search for the
// coalesced types is much cheaper than parsing every event.
bool EventRouter::mentions_coalesced_type(std::string_view body) const {
  for (const std::string& type : settings_->coalescing.event_types) {
    if (body.find(type) != std::string_view::npos) return true;
  }
  return false;
}

bool EventRouter::coalesce(Event& e) {
  if (!coalescer_ || flushed_ || !settings_->coalescing.applies_to(e.fields.event_type) ||
      !sender_.may_hold()) {
    return false;
  }
  std::string key = e.fields.room_id;
  key += '\x1f';
  key += e.fields.user_id;
  using Decision = Coalescer<Event>::Decision;
  Decision decision =
      coalescer_->offer(key, e.fields.event_type, clock_.now_ms(), [&] { return e.hold(); });
  rearm();
  if (decision == Decision::kPassThrough) accounting_.count(Outcome::kCoalescerOverflow);
  if (decision != Decision::kHeld && decision != Decision::kDropped) return false;
  links_.respond(*e.client, coalesced_answer(e.fields.event_id));
  return true;
}

void EventRouter::wake() {
  if (!coalescer_) return;
  coalescer_->advance(clock_.now_ms(), [this](Event&& e) { sender_.send(std::move(e)); });
  rearm();
}

void EventRouter::rearm() {
  clock_.wake_at(coalescer_->next_deadline());
}

void EventRouter::flush(std::function<void()> on_idle) {
  if (coalescer_) {
    coalescer_->flush([this](Event&& e) { sender_.send(std::move(e)); });
  }
  flushed_ = true;  // nothing is held after this: no wake-up would send it
  clock_.stop();
  sender_.when_idle(std::move(on_idle));
}

}  // namespace streamshift
