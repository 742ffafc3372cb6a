// Idle consumer clean-up; see idle_consumers.h.
#include "relay/idle_consumers.h"

#include <algorithm>

#include "core/log.h"
#include "core/stream_lag.h"

namespace streamshift {
namespace {

int64_t integer_field(const redisReply* row, std::string_view key, int64_t fallback) {
  const redisReply* v = xinfo_field(row, key);
  return v != nullptr && v->type == REDIS_REPLY_INTEGER ? v->integer : fallback;
}

}  // namespace

std::vector<ConsumerInfo> parse_consumer_infos(const redisReply* reply) {
  std::vector<ConsumerInfo> rows;
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return rows;
  for (size_t i = 0; i < reply->elements; ++i) {
    const redisReply* row = reply->element[i];
    const redisReply* name = xinfo_field(row, "name");
    if (name == nullptr || name->str == nullptr) continue;
    rows.push_back(ConsumerInfo{.name = std::string(name->str, name->len),
                                .pending = integer_field(row, "pending", 0),
                                .idle_ms = integer_field(row, "idle", 0),
                                .inactive_ms = integer_field(row, "inactive", -1)});
  }
  return rows;
}

std::vector<ConsumerInfo> idle_consumers_to_delete(const std::vector<ConsumerInfo>& consumers,
                                                   std::string_view self, uint64_t threshold_ms) {
  std::vector<ConsumerInfo> idle;
  if (threshold_ms == 0) return idle;
  for (const ConsumerInfo& c : consumers) {
    if (c.name == self || c.pending != 0 || c.idle_for_ms() < 0) continue;
    if (static_cast<uint64_t>(c.idle_for_ms()) > threshold_ms) idle.push_back(c);
  }
  return idle;
}

IdleConsumers::IdleConsumers(RelayRedis& redis, RelayClock& clock, const RelaySettings& settings,
                             RelayMetrics& metrics)
    : redis_(redis),
      settings_(settings),
      metrics_(metrics),
      timer_(clock.timer([this] { clean(); })) {}

void IdleConsumers::start() {
  if (settings_.consumer_idle_delete_ms == 0) return;
  uint64_t interval = std::min(settings_.lag_interval_ms, kMaxIntervalMs);
  timer_.start(interval, interval);
}

void IdleConsumers::clean() {
  if (closed_ || settings_.consumer_idle_delete_ms == 0) return;
  for (const std::string& stream : settings_.streams) {
    redis_.command({"XINFO", "CONSUMERS", stream, settings_.group},
                   [this, stream](const RedisResult& r) { delete_idle(stream, r); });
  }
}

// A failed look-up (NOGROUP before the group exists, a timeout) waits for
// the next round: nothing depends on it.
void IdleConsumers::delete_idle(const std::string& stream, const RedisResult& r) {
  if (closed_ || r.status != RedisStatus::kOk) return;
  for (const ConsumerInfo& c : idle_consumers_to_delete(
           parse_consumer_infos(r.reply), settings_.consumer, settings_.consumer_idle_delete_ms)) {
    redis_.command({"XGROUP", "DELCONSUMER", stream, settings_.group, c.name},
                   [this, stream, name = c.name, idle = c.idle_for_ms()](const RedisResult& d) {
                     if (d.status != RedisStatus::kOk) {
                       log_line(LogLevel::kWarn, "cannot delete idle consumer",
                                {{"stream", stream}, {"consumer", name}, {"error", describe(d)}});
                       return;
                     }
                     metrics_.consumers_deleted.Increment();
                     log_line(LogLevel::kInfo, "idle consumer deleted",
                              {{"stream", stream},
                               {"group", settings_.group},
                               {"consumer", name},
                               {"idle_ms", idle}});
                   });
  }
}

}  // namespace streamshift
