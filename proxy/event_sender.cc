// One road for fresh and held events; see event_sender.h.
#include "proxy/event_sender.h"

#include <uv.h>

#include <memory>
#include <string>

#include "core/log.h"

namespace streamshift {
namespace {

FallbackReason reason_for(RedisStatus status) {
  switch (status) {
    case RedisStatus::kTimeout:
      return FallbackReason::kTimeout;
    case RedisStatus::kConnectionLost:
    case RedisStatus::kNotConnected:
      return FallbackReason::kConnectionLost;
    case RedisStatus::kNotReplicated:
      return FallbackReason::kReplicationTimeout;
    default:
      return FallbackReason::kRedisError;
  }
}

}  // namespace

// One XADD in flight. A fresh event's exchange outlives it: the connection is not freed
// before it is answered, and only the end of this road answers it.
struct EventSenderImpl::Xadd {
  EventSenderImpl* sender;
  Event event;
  uint64_t started_ns;
};

EventSenderImpl::EventSenderImpl(const TransportSettings& settings, EventClock& clock,
                                 EventLinks& links, EventAccounting& accounting)
    : settings_(&settings),
      clock_(clock),
      links_(links),
      accounting_(accounting),
      rollout_(settings),
      circuit_(settings.circuit_failures, settings.circuit_open_ms) {}

void EventSenderImpl::send(Event&& e) {
  if (e.held()) ++held_in_flight_;
  bool to_redis = rollout_.use_redis(e.fields.room_id) && links_.has_redis();
  if (settings_->dual_write && links_.has_redis()) {
    links_.xadd(e.entry(), on_shadow_xadd, this);
    to_redis = false;  // the client gets the HTTP answer
  }
  if (!to_redis) {
    accounting_.count(Outcome::kHttpRouted);
    over_http(std::move(e), settings_->dual_write);
    return;
  }
  if (circuit_.decide(clock_.now_ms()) == CircuitBreaker::Decision::kReject) {
    accounting_.count(Outcome::kCircuitRejected, e.type);
    redis_failed(std::move(e), FallbackReason::kCircuitOpen, "the Redis circuit is open");
    return;
  }
  auto* x = new Xadd{this, std::move(e), uv_hrtime()};
  StreamEntry entry = x->event.entry();
  entry.body_outlives_reply = true;  // x holds the event until on_xadd
  entry.replicas = static_cast<uint8_t>(settings_->min_replicas);
  links_.xadd(entry, on_xadd, x);
}

void EventSenderImpl::on_xadd(void* data, const RedisResult& result) {
  std::unique_ptr<Xadd> x(static_cast<Xadd*>(data));
  x->sender->xadd_done(std::move(x->event), read_xadd_reply(result), x->started_ns);
}

// The one completion of an XADD, fresh or held.
void EventSenderImpl::xadd_done(Event&& e, const XaddReply& reply, uint64_t started_ns) {
  double seconds = static_cast<double>(uv_hrtime() - started_ns) / 1e9;
  accounting_.count(reply.stored ? Outcome::kStored : Outcome::kXaddFailed, e.type, seconds);
  CircuitBreaker::State before = circuit_.state();
  // Refusals before anything was sent (kNotConnected, kOverloaded) count too: they are
  // what keeps the circuit open while Redis is away.
  if (reply.stored)
    circuit_.record_success();
  else
    circuit_.record_failure(clock_.now_ms());
  if (circuit_.state() != before)
    accounting_.circuit_open(circuit_.state() != CircuitBreaker::State::kClosed);
  if (!reply.stored) {
    std::string detail(redis_status_name(reply.status));
    if (!reply.error.empty()) (detail += ": ") += reply.error;
    redis_failed(std::move(e), reason_for(reply.status), detail);
    return;
  }
  if (e.held()) {
    held_done();
    return;
  }
  links_.respond(*e.client,
                 stored_answer(settings_->ack_status, e.stream, reply.entry_id, e.fields.event_id));
}

void EventSenderImpl::redis_failed(Event&& e, FallbackReason reason, std::string_view detail) {
  if (settings_->fallback_to_http) {
    accounting_.count(fallback_outcome(reason));
    if (log_enabled(LogLevel::kDebug)) {
      log_line(LogLevel::kDebug, "event falls back to HTTP",
               {{"reason", fallback_reason_name(reason)},
                {"detail", detail},
                {"event_id", e.fields.event_id}});
    }
    over_http(std::move(e), false);
    return;
  }
  if (e.held()) {
    lost(e.fields.event_id, e.fields.event_type, LostReason::kRedisFailed,
         fallback_reason_name(reason));
    held_done();
    return;
  }
  accounting_.count(Outcome::kRefused);
  links_.respond(*e.client, refused_answer(reason, detail, e.fields.event_id));
}

void EventSenderImpl::over_http(Event&& e, bool dual_write) {
  HttpTally tally{&accounting_, e.type, dual_write};
  if (!e.held()) {
    links_.forward(*e.client, event_headers("http", e.fields.event_id), e.fields.event_id, tally);
    return;
  }
  links_.send_held(e, tally, [this, id = e.fields.event_id, type = e.fields.event_type](bool ok) {
    if (!ok) lost(id, type, LostReason::kHttpFailed, "the upstream did not answer 2xx");
    held_done();
  });
}

void EventSenderImpl::on_shadow_xadd(void* data, const RedisResult& result) {
  auto* self = static_cast<EventSenderImpl*>(data);
  XaddReply reply = read_xadd_reply(result);
  self->accounting_.count(reply.stored ? Outcome::kShadowStored : Outcome::kShadowFailed);
  if (!reply.stored && log_enabled(LogLevel::kDebug)) {
    log_line(LogLevel::kDebug, "dual write to Redis failed",
             {{"error", redis_status_name(reply.status)}});
  }
}

// A held event's client was answered 202 coalesced: never lost silently.
void EventSenderImpl::lost(std::string_view event_id, std::string_view event_type,
                           LostReason reason, std::string_view detail) {
  accounting_.count(lost_outcome(reason));
  log_line(LogLevel::kWarn, "coalesced event lost: acknowledged 202 and never delivered",
           {{"event_id", event_id},
            {"event_type", event_type},
            {"reason", lost_reason_name(reason)},
            {"detail", detail}});
}

void EventSenderImpl::use(const TransportSettings& settings) {
  settings_ = &settings;
  rollout_.use(settings);
  circuit_.configure(settings.circuit_failures, settings.circuit_open_ms);
}

bool EventSenderImpl::may_hold() const {
  if (!settings_->needs_redis() || settings_->fallback_to_http || settings_->dual_write)
    return true;
  return links_.redis_ready() > 0 && circuit_.state() == CircuitBreaker::State::kClosed;
}

void EventSenderImpl::when_idle(std::function<void()> on_idle) {
  if (held_in_flight_ == 0) {
    on_idle();
    return;
  }
  on_idle_ = std::move(on_idle);
}

void EventSenderImpl::held_done() {
  if (--held_in_flight_ > 0 || !on_idle_) return;
  auto done = std::move(on_idle_);
  on_idle_ = nullptr;
  done();
}

}  // namespace streamshift
