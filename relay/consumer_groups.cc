// Creating the consumer groups; see consumer_groups.h.
#include "relay/consumer_groups.h"

#include "core/log.h"

namespace streamshift {

ConsumerGroups::ConsumerGroups(RelayRedis& redis, const RelaySettings& settings,
                               RelayMetrics& metrics, std::function<void(Result)> on_created)
    : redis_(redis), settings_(settings), metrics_(metrics), on_created_(std::move(on_created)) {}

void ConsumerGroups::create() {
  if (creating_ || closed_) return;
  creating_ = true;
  pending_ = settings_.streams.size();
  failed_ = false;
  for (const std::string& stream : settings_.streams) {
    redis_.command(
        {"XGROUP", "CREATE", stream, settings_.group, settings_.group_start_id, "MKSTREAM"},
        [this, stream](const RedisResult& r) {
          bool exists = r.status == RedisStatus::kErrorReply && r.error.rfind("BUSYGROUP", 0) == 0;
          if (r.status == RedisStatus::kOk) {
            metrics_.groups_created.Increment();
            log_line(LogLevel::kInfo, "consumer group created",
                     {{"stream", stream},
                      {"group", settings_.group},
                      {"start", settings_.group_start_id}});
          } else if (!exists) {
            log_line(LogLevel::kWarn, "cannot create consumer group",
                     {{"stream", stream}, {"group", settings_.group}, {"error", describe(r)}});
          }
          answered(r.status == RedisStatus::kOk || exists);
        });
  }
}

void ConsumerGroups::answered(bool ok) {
  if (!ok) failed_ = true;
  if (--pending_ > 0) return;
  creating_ = false;
  if (failed_) {
    on_created_(Result::kFailed);
    return;
  }
  bool was_ready = ready_;
  ready_ = true;
  on_created_(was_ready ? Result::kStillReady : Result::kReady);
}

void ConsumerGroups::lost(std::string_view where) {
  log_line(LogLevel::kWarn, "consumer group missing: creating it again",
           {{"group", settings_.group}, {"during", where}});
  ready_ = false;
  create();
}

}  // namespace streamshift
