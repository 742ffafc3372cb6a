// Acks and dead letters; see finalizer.h.
#include "relay/finalizer.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "core/log.h"
#include "core/loop.h"

namespace streamshift {
namespace {

// Acks a batch of one stream's entries: KEYS[1] the stream, KEYS[2..] the
// delivered marks to set; ARGV[1] group, ARGV[2] mark TTL in seconds,
// ARGV[3..] the entry ids.
constexpr const char* kAckScript =
    "for i = 2, #KEYS do redis.call('SET', KEYS[i], '1', 'EX', ARGV[2]) end "
    "return redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 3))";

std::string_view finalize_name(Finalize how) {
  return how == Finalize::kDeadLetter ? "dead-letter" : "ack";
}

}  // namespace

Finalizer::Finalizer(RelayRedis& redis, RelayClock& clock, const RelaySettings& settings,
                     RelayMetrics& metrics, HeldEntries& held, const Dedup& dedup,
                     ConsumerGroups& groups, Done done)
    : redis_(redis),
      settings_(settings),
      metrics_(metrics),
      held_(held),
      dedup_(dedup),
      groups_(groups),
      done_(std::move(done)),
      flush_task_(clock.turn_end_task([this] { flush(); })),
      acks_(settings.streams.size()) {}

void Finalizer::finalize(RelayEntry* e) {
  if (e->finalize == Finalize::kDeadLetter) {
    dead_letter(e);
    return;
  }
  // Acks wait for the end of the loop turn and leave in one command per
  // stream; the Redis adapter writes them before the loop blocks again.
  acks_[e->stream_index].push_back(HeldEntries::key_of(*e));
  flush_task_.arm();
}

// The dead letter first, the ack once it is written. A plain XADD, not a
// script: an entry may have more fields than Lua can pass to one call
// (unpack stops near 8000 values).
void Finalizer::dead_letter(RelayEntry* e) {
  const std::string& stream = settings_.streams[e->stream_index];
  RedisArgs args = {
      "XADD", settings_.dlq_stream, "MAXLEN", "~", std::to_string(settings_.dlq_max_len), "*"};
  args.reserve(args.size() + 2 * e->fields.size() + 14);
  for (const auto& [name, value] : e->fields) {
    args.push_back(name);
    args.push_back(value);
  }
  for (auto [name, value] :
       {std::pair<std::string, std::string>{"dlq_error", e->last_error},
        {"dlq_reason", std::string(dead_letter_reason_name(e->dead_letter_reason))},
        {"dlq_deliveries", std::to_string(e->attempts)},
        {"dlq_source_stream", stream},
        {"dlq_source_id", e->id},
        {"dlq_consumer", settings_.consumer},
        {"dlq_ts_ms", std::to_string(wall_clock_ms())}}) {
    args.push_back(std::move(name));
    args.push_back(std::move(value));
  }
  redis_.command(args, [this, key = HeldEntries::key_of(*e)](const RedisResult& r) {
    on_dead_lettered(key, r);
  });
}

void Finalizer::on_dead_lettered(const std::string& key, const RedisResult& r) {
  RelayEntry* e = held_.find(key);
  if (e == nullptr) return;
  if (r.status != RedisStatus::kOk) {
    answered(key, r);  // retried as a dead letter
    return;
  }
  // Counted once, when the dead letter exists; a failed ack is retried
  // alone, without a second dead letter.
  metrics_.dead_lettered(e->dead_letter_reason).Increment();
  log_line(LogLevel::kWarn, "entry dead-lettered",
           {{"stream", settings_.streams[e->stream_index]},
            {"id", e->id},
            {"event_id", e->event.event_id},
            {"error", e->last_error},
            {"deliveries", e->attempts},
            {"dead_letter_stream", settings_.dlq_stream},
            {"dead_letter_id", reply_text(r.reply)}});
  e->finalize = Finalize::kAckOnly;
  finalize(e);
}

void Finalizer::flush() {
  flush_task_.disarm();
  for (size_t s = 0; s < acks_.size(); ++s) {
    if (acks_[s].empty()) continue;
    std::vector<std::string> all = std::move(acks_[s]);
    acks_[s].clear();
    for (size_t from = 0; from < all.size(); from += kMaxIdsPerAck) {
      size_t to = std::min(all.size(), from + kMaxIdsPerAck);
      send_acks(s, std::vector<std::string>(std::make_move_iterator(all.begin() + from),
                                            std::make_move_iterator(all.begin() + to)));
    }
  }
}

void Finalizer::send_acks(size_t s, std::vector<std::string> keys) {
  std::vector<std::string> marks, ids;
  for (const std::string& key : keys) {
    RelayEntry* e = held_.find(key);
    if (e == nullptr) continue;
    ids.push_back(e->id);
    if (e->finalize == Finalize::kAckDelivered && dedup_.enabled())
      marks.push_back(dedup_.mark_key(s, e->event.event_id));
  }
  if (ids.empty()) return;
  RedisArgs args;
  if (marks.empty()) {
    args = {"XACK", settings_.streams[s], settings_.group};
  } else {
    args = {"EVAL", kAckScript, std::to_string(marks.size() + 1), settings_.streams[s]};
    for (std::string& m : marks) args.push_back(std::move(m));
    args.push_back(settings_.group);
    args.push_back(std::to_string(settings_.dedup_ttl_s));
  }
  for (std::string& id : ids) args.push_back(std::move(id));
  redis_.command(args, [this, keys = std::move(keys)](const RedisResult& r) {
    for (const std::string& key : keys) answered(key, r);
  });
}

void Finalizer::answered(const std::string& key, const RedisResult& r) {
  RelayEntry* e = held_.find(key);
  if (e == nullptr) return;
  if (r.status == RedisStatus::kOk) {
    done_(e, true);
    return;
  }
  if (is_nogroup(r)) {
    // The group (and its pending list) is gone: nothing is left to ack.
    // The recreated group starts from STREAMSHIFT_RELAY_GROUP_START; the
    // delivered mark, when written, keeps a re-read from a second delivery.
    done_(e, true);
    if (groups_.ready()) groups_.lost("XACK");
    return;
  }
  log_line(LogLevel::kWarn, "cannot finalize entry; will retry",
           {{"stream", settings_.streams[e->stream_index]},
            {"id", e->id},
            {"action", finalize_name(e->finalize)},
            {"error", describe(r)}});
  done_(e, false);
}

}  // namespace streamshift
