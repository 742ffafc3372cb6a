// The sidecar's request handler: one request's walk, in three steps.
//
//   request --master switch off, nothing to coalesce--> HTTP bridge, unchanged (each
//      |                                                event counted by type, leniently)
//      v
//   intake (proxy/event_intake.h) --no route--> HTTP bridge, unchanged
//      |                          --invalid--> 400 invalid_event (switch off: bridged)
//      v Event
//   coalesced type, and holding allowed? --held / dropped--> 202 coalesced
//      v send now                           (held: sent later, by the wake-up)
//   sender (proxy/event_sender.h): rollout, dual write, circuit, XADD, fallback; answers
//
// The sender, the links (Redis, upstream, client) and the clock are interfaces: tests
// drive the router with fakes.
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "core/http_server.h"
#include "proxy/capture_headers.h"
#include "proxy/coalescer.h"
#include "proxy/event.h"
#include "proxy/event_accounting.h"
#include "proxy/event_clock.h"
#include "proxy/event_intake.h"
#include "proxy/event_links.h"
#include "proxy/event_sender.h"
#include "proxy/routes.h"
#include "proxy/transport_settings.h"

namespace streamshift {

class EventRouter : public RequestHandler {
 public:
  EventRouter(const RouteTable& routes, const TransportSettings& settings, EventSender& sender,
              EventLinks& links, EventAccounting& accounting, EventClock& clock,
              const CaptureHeaders& capture = kNoCapture);
  EventRouter(const EventRouter&) = delete;
  EventRouter& operator=(const EventRouter&) = delete;

  void on_request(Exchange& exchange) override {
    handle(exchange, exchange.request(), exchange.client_ip());
  }
  /// on_request with the exchange's parts apart: `client` is only handed to the links.
  void handle(Exchange& client, HttpRequest& request, std::string_view client_ip);

  /// SIGTERM: sends the held events now and stops the clock's wake-ups; `on_idle` runs
  /// once every held event sent has finished.
  void flush(std::function<void()> on_idle);

  /// The settings in force from now on (issue 19), after the sender's. Coalescing turned
  /// off or its window changed: what is held is sent now (the sender decides its path),
  /// then the coalescer is made anew, or not at all.
  void use(const TransportSettings& settings);

 private:
  void make_coalescer();
  void bridge_lenient(Exchange& client, const HttpRequest& request, const Route* route);
  bool mentions_coalesced_type(std::string_view body) const;
  /// True when the coalescer keeps or drops the event (its client is answered then).
  bool coalesce(Event& event);
  void wake();
  void rearm();

  const RouteTable& routes_;
  const TransportSettings* settings_;
  EventSender& sender_;
  EventLinks& links_;
  EventAccounting& accounting_;
  EventClock& clock_;
  EventIntake intake_;
  std::unique_ptr<Coalescer<Event>> coalescer_;
  bool flushed_ = false;
};

}  // namespace streamshift
