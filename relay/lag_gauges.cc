// The relay's lag gauges; see lag_gauges.h.
#include "relay/lag_gauges.h"

#include <optional>

#include "core/stream_lag.h"

namespace streamshift {

LagGauges::LagGauges(RelayRedis& redis, RelayClock& clock, const RelaySettings& settings,
                     RelayMetrics& metrics)
    : redis_(redis),
      settings_(settings),
      metrics_(metrics),
      timer_(clock.timer([this] { refresh(); })) {}

void LagGauges::start() {
  timer_.start(settings_.lag_interval_ms, settings_.lag_interval_ms);
}

void LagGauges::refresh() {
  if (closed_) return;
  for (const std::string& stream : settings_.streams) {
    redis_.command({"XLEN", stream}, [this, stream](const RedisResult& r) {
      bool ok = r.status == RedisStatus::kOk && r.reply != nullptr &&
                r.reply->type == REDIS_REPLY_INTEGER;
      metrics_.set_queue_depth(stream,
                               ok ? std::optional<int64_t>(r.reply->integer) : std::nullopt);
    });
    redis_.command({"XINFO", "GROUPS", stream}, [this, stream](const RedisResult& r) {
      std::optional<int64_t> lag;
      if (r.status == RedisStatus::kOk) lag = parse_xinfo_group(r.reply, settings_.group).lag;
      metrics_.set_consumer_lag(stream, settings_.group, lag);
    });
  }
}

}  // namespace streamshift
