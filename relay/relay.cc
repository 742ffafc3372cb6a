// The relay's wiring and its drain and shutdown sequence; see relay.h.
#include "relay/relay.h"

#include "core/log.h"

namespace streamshift {

struct Relay::UvIo {
  UvIo(uv_loop_t* loop, const RelaySettings& settings, RelayMetrics& metrics)
      : redis(loop, settings, metrics), clock(loop), target(loop, settings) {}
  RelayIo io() { return RelayIo{redis, clock, target}; }

  RelayRedisImpl redis;
  UvRelayClock clock;
  UpstreamTarget target;
};

Relay::Relay(uv_loop_t* loop, const RelaySettings& settings, RelayMetrics& metrics)
    : Relay(std::make_unique<UvIo>(loop, settings, metrics), nullptr, settings, metrics) {}

Relay::Relay(RelayIo io, const RelaySettings& settings, RelayMetrics& metrics)
    : Relay(nullptr, &io, settings, metrics) {}

Relay::Relay(std::unique_ptr<UvIo> owned, const RelayIo* io, const RelaySettings& settings,
             RelayMetrics& metrics)
    : owned_io_(std::move(owned)),
      io_(io != nullptr ? *io : owned_io_->io()),
      settings_(settings),
      metrics_(metrics),
      held_(settings.max_held(), static_cast<size_t>(settings.read_count)),
      budget_(RelaySettings::kRoomMaxHeld, settings.streams.size()),
      dedup_(io_.redis, settings),
      groups_(io_.redis, settings, metrics,
              [this](ConsumerGroups::Result result) { on_groups(result); }),
      reader_(io_.redis, io_.clock, settings, held_, budget_, groups_,
              [this](StreamReader::Entries& entries, bool scanned) {
                lifecycle_.accept(entries, scanned);
              }),
      claims_(io_.redis, io_.clock, settings, metrics, held_, budget_, groups_, reader_,
              [this](StreamReader::Entries& entries, bool scanned) {
                lifecycle_.accept(entries, scanned);
              }),
      lag_(io_.redis, io_.clock, settings, metrics),
      idle_consumers_(io_.redis, io_.clock, settings, metrics),
      finalizer_(io_.redis, io_.clock, settings, metrics, held_, dedup_, groups_,
                 [this](RelayEntry* e, bool finished) { lifecycle_.on_finalized(e, finished); }),
      lifecycle_(io_.clock, io_.target, finalizer_, settings, metrics, held_, budget_, dedup_,
                 DeliveryLifecycle::Hooks{.left = [this] { entry_left(); },
                                          .room_moved = [this] { reader_.maybe_scan(); }}),
      drain_timer_(io_.clock.timer([this] {
        log_line(LogLevel::kWarn, "drain timeout: leaving the rest pending",
                 {{"held", static_cast<int64_t>(held_.size())}});
        close_everything();
      })) {}

Relay::~Relay() = default;

void Relay::start() {
  io_.redis.start(RelayRedis::Hooks{.reader_ready = [this] { reader_.maybe_read(); },
                                    .commands_ready = [this] { groups_.create(); }});
  claims_.start();
  lag_.start();
  idle_consumers_.start();
}

bool Relay::ready() const {
  return not_ready_reason().empty();
}

std::string Relay::not_ready_reason() const {
  if (state_ != State::kRunning) return "draining";
  if (!io_.redis.commands_ready() || !io_.redis.readers_ready()) return "redis not connected";
  if (!groups_.ready()) return "consumer groups not created yet";
  return {};
}

void Relay::on_groups(ConsumerGroups::Result result) {
  // The gauges exist from the moment the relay is ready.
  if (result == ConsumerGroups::Result::kReady) lag_.refresh();
  reader_.on_groups(result);
}

void Relay::entry_left() {
  reader_.maybe_read();
  reader_.maybe_scan();
  maybe_finish_drain();
}

// ---------------------------------------------------------------- draining

void Relay::drain(std::function<void()> on_stopped) {
  if (state_ != State::kRunning) return;
  state_ = State::kDraining;
  on_stopped_ = std::move(on_stopped);
  metrics_.draining.Set(1);
  log_line(LogLevel::kInfo, "draining: reading stopped, finishing deliveries in flight",
           {{"held", static_cast<int64_t>(held_.size())}});
  claims_.stop();
  lag_.stop();
  idle_consumers_.stop();
  reader_.stop();
  // A blocked XREADGROUP is cut: whatever it would have returned stays
  // pending under this consumer.
  ++closing_;
  io_.redis.close_readers([this] { closed_one(); });
  lifecycle_.drain();
  drain_timer_.start(settings_.drain_timeout_ms);
  draining_started_ = true;
  maybe_finish_drain();
}

void Relay::maybe_finish_drain() {
  if (state_ != State::kDraining || !draining_started_) return;
  if (lifecycle_.settled()) close_everything();
}

void Relay::close_everything() {
  if (state_ == State::kClosing) return;
  state_ = State::kClosing;
  lifecycle_.close();
  groups_.close();
  claims_.close();
  lag_.close();
  idle_consumers_.close();
  finalizer_.flush();  // acks queued this turn go out before the connection closes
  closing_ += 3;
  io_.clock.close([this] { closed_one(); });
  io_.target.shutdown([this] { closed_one(); });
  io_.redis.close_commands([this] { closed_one(); });
}

void Relay::closed_one() {
  if (--closing_ > 0 || state_ != State::kClosing) return;
  held_.clear();
  log_line(LogLevel::kInfo, "relay stopped");
  if (auto done = std::move(on_stopped_)) done();
}

}  // namespace streamshift
