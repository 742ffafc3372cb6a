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

const char* const kDeleteIdleConsumerScript =
    "if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) > 0 then return -1 end "
    "return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])";

std::vector<ConsumerInfo> parse_consumer_infos(const redisReply* reply) {
  std::vector<ConsumerInfo> rows;
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return rows;
  for (size_t i = 0; i < reply->elements; ++i) {
    const redisReply* row = reply->element[i];
    const redisReply* name = xinfo_field(row, "name");
    if (name == nullptr || name->str == nullptr) continue;
    rows.push_back(ConsumerInfo{.name = std::string(name->str, name->len),
                                .pending = integer_field(row, "pending", 0),
                                .idle_ms = integer_field(row, "idle", 0)});
  }
  return rows;
}

std::vector<ConsumerInfo> idle_consumers_to_delete(const std::vector<ConsumerInfo>& consumers,
                                                   std::string_view self, uint64_t threshold_ms) {
  std::vector<ConsumerInfo> idle;
  if (threshold_ms == 0) return idle;
  for (const ConsumerInfo& c : consumers) {
    if (c.name == self || c.pending != 0 || c.idle_ms < 0) continue;
    if (static_cast<uint64_t>(c.idle_ms) > threshold_ms) idle.push_back(c);
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
    redis_.command({"EVAL", kDeleteIdleConsumerScript, "1", stream, settings_.group, c.name},
                   [this, stream, name = c.name, idle = c.idle_ms](const RedisResult& d) {
                     deleted(stream, name, idle, d);
                   });
  }
}

void IdleConsumers::deleted(const std::string& stream, const std::string& name, int64_t idle_ms,
                            const RedisResult& d) {
  const std::string& group = settings_.group;
  if (d.status != RedisStatus::kOk || d.reply == nullptr || d.reply->type != REDIS_REPLY_INTEGER) {
    std::string error = d.status == RedisStatus::kOk ? "unexpected reply" : describe(d);
    log_line(LogLevel::kWarn, "cannot delete idle consumer",
             {{"stream", stream}, {"group", group}, {"consumer", name}, {"error", error}});
    return;
  }
  long long dropped = d.reply->integer;
  if (dropped < 0) {
    log_line(LogLevel::kInfo, "idle consumer kept: it holds pending entries now",
             {{"stream", stream}, {"group", group}, {"consumer", name}});
    return;
  }
  metrics_.consumers_deleted.Increment();
  if (dropped > 0) {
    metrics_.consumer_pending_dropped.Increment(static_cast<double>(dropped));
    log_line(
        LogLevel::kError, "idle consumer deleted with pending entries: they are lost",
        {{"stream", stream}, {"group", group}, {"consumer", name}, {"pending_dropped", dropped}});
    return;
  }
  log_line(LogLevel::kInfo, "idle consumer deleted",
           {{"stream", stream}, {"group", group}, {"consumer", name}, {"idle_ms", idle_ms}});
}

}  // namespace streamshift
