// The relay's lag gauges; see lag_gauges.h.
#include "relay/lag_gauges.h"

#include <functional>
#include <memory>
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

namespace {

// The sum of one figure over a logical stream's shards: unknown when any
// shard's is.
struct ShardSum {
  size_t waiting;
  std::optional<int64_t> total = 0;
  std::function<void(std::optional<int64_t>)> done;

  void add(std::optional<int64_t> value) {
    if (total && value)
      *total += *value;
    else
      total.reset();
    if (--waiting == 0) done(total);
  }
};

}  // namespace

void LagGauges::refresh() {
  if (closed_) return;
  StreamShards layout = settings_.shard_layout();
  size_t shards = static_cast<size_t>(layout.count());
  for (size_t l = 0; l < layout.logical().size(); ++l) {
    const std::string& logical = layout.logical()[l];
    auto depth =
        std::make_shared<ShardSum>(ShardSum{shards, 0, [this, logical](std::optional<int64_t> v) {
                                              metrics_.set_queue_depth(logical, v);
                                            }});
    auto lag = std::make_shared<ShardSum>(
        ShardSum{shards, 0, [this, logical](std::optional<int64_t> v) {
                   metrics_.set_consumer_lag(logical, settings_.group, v);
                 }});
    for (size_t k = 0; k < shards; ++k) {
      const std::string& stream = layout.physical()[l * shards + k];
      redis_.command({"XLEN", stream}, [depth](const RedisResult& r) {
        bool ok = r.status == RedisStatus::kOk && r.reply != nullptr &&
                  r.reply->type == REDIS_REPLY_INTEGER;
        depth->add(ok ? std::optional<int64_t>(r.reply->integer) : std::nullopt);
      });
      redis_.command({"XINFO", "GROUPS", stream}, [this, lag](const RedisResult& r) {
        std::optional<int64_t> value;
        if (r.status == RedisStatus::kOk) value = parse_xinfo_group(r.reply, settings_.group).lag;
        lag->add(value);
      });
    }
  }
}

}  // namespace streamshift
