// The sender: carries an event over its transport, the same road for a fresh event and
// for a held one (the coalescer's trailing edge, sent later), so both count and fall back
// alike. Only the ends differ: a fresh event's client is answered; a held one's was
// answered 202 coalesced long ago, so its failure is counted and logged as lost.
//
//   send(event) --dual write--> shadow XADD (counted; the client gets the HTTP answer)
//      | rollout: HTTP, or no Redis ------------------------------------> over_http
//      v rollout: Redis
//   circuit open? --yes--> redis_failed(circuit_open)
//      v
//   XADD --string reply (the entry id)--> stored: 202 accepted | held: done
//      | error or other reply, timeout, connection lost
//      v
//   redis_failed: fallback on  --> count the fallback, over_http
//                 fallback off --> 503 redis_unavailable | held: lost
//
//   over_http: fresh --> the bridge answers the client (X-Event-Transport: http)
//              held  --> sent upstream (its head rendered then); not 2xx: lost
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "proxy/circuit_breaker.h"
#include "proxy/event.h"
#include "proxy/event_accounting.h"
#include "proxy/event_clock.h"
#include "proxy/event_links.h"
#include "proxy/rollout.h"
#include "proxy/stream_entry.h"
#include "proxy/transport_settings.h"

namespace streamshift {

class EventSender {
 public:
  virtual ~EventSender() = default;
  /// Carries `event` to its end: answered (fresh), or sent, or counted as lost (held).
  virtual void send(Event&& event) = 0;
  /// False while Redis is known to fail with the fallback off: a held event could then
  /// only be lost, so nothing is held and the client gets its 503 now.
  virtual bool may_hold() const = 0;
  /// `on_idle` runs once no held event is in flight (at once when none is).
  virtual void when_idle(std::function<void()> on_idle) = 0;
};

class EventSenderImpl final : public EventSender {
 public:
  EventSenderImpl(const TransportSettings& settings, EventClock& clock, EventLinks& links,
                  EventAccounting& accounting);
  EventSenderImpl(const EventSenderImpl&) = delete;
  EventSenderImpl& operator=(const EventSenderImpl&) = delete;

  void send(Event&& event) override;
  bool may_hold() const override;
  void when_idle(std::function<void()> on_idle) override;
  /// The settings in force for every event decided from now on (issue 19); an XADD in
  /// flight completes on the Redis path it took.
  void use(const TransportSettings& settings);

  CircuitBreaker::State circuit() const { return circuit_.state(); }

 private:
  struct Xadd;
  static void on_xadd(void* data, const RedisResult& result);
  static void on_shadow_xadd(void* data, const RedisResult& result);
  void xadd_done(Event&& event, const XaddReply& reply, uint64_t started_ns);
  void redis_failed(Event&& event, FallbackReason reason, std::string_view detail);
  void over_http(Event&& event, bool dual_write);
  void lost(std::string_view event_id, std::string_view event_type, LostReason reason,
            std::string_view detail);
  void held_done();

  const TransportSettings* settings_;
  EventClock& clock_;
  EventLinks& links_;
  EventAccounting& accounting_;
  Rollout rollout_;
  CircuitBreaker circuit_;
  size_t held_in_flight_ = 0;
  std::function<void()> on_idle_;
};

}  // namespace streamshift
