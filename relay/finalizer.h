// The end of an entry's stay in the relay, in Redis: acks (with the
// delivered marks), dead letters, and what a lost group means for them.
//
//   kAckDelivered, kAckOnly    batched per stream until the end of the loop turn (after the
//                              I/O callbacks), then one command per stream and kMaxIdsPerAck
//                              ids: XACK <s> <group> <ids..>, or with delivered marks to set
//                              EVAL kAckScript (SET <mark> 1 EX <ttl> for each; XACK), atomic
//   kDeadLetter                XADD <dlq> MAXLEN ~ <n> * <the entry's fields> dlq_error ..
//                              dlq_reason .. dlq_deliveries .. dlq_source_stream .. dlq_source_id ..
//                              dlq_consumer .. dlq_ts_ms ..; once written (counted and
//                              logged then), acked as kAckOnly: never acked unwritten
//
// Each answer goes to the lifecycle: done (acked, or NOGROUP: the group and
// its pending list are gone, nothing is left to ack; the group is created
// again), or failed (the lifecycle retries or releases it).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "relay/consumer_groups.h"
#include "relay/dedup.h"
#include "relay/held_entries.h"
#include "relay/relay_clock.h"
#include "relay/relay_metrics.h"
#include "relay/relay_redis.h"
#include "relay/relay_settings.h"

namespace streamshift {

/// What the delivery lifecycle asks of the finalizer (a fake in its tests).
class EntryFinalizer {
 public:
  virtual ~EntryFinalizer() = default;
  /// Does in Redis what e->finalize says; the answer comes back through the
  /// lifecycle's on_finalized().
  virtual void finalize(RelayEntry* e) = 0;
  /// Sends the acks batched so far now (before the connection closes).
  virtual void flush() = 0;
};

class Finalizer final : public EntryFinalizer {
 public:
  /// Entry ids per ack command: Lua's unpack() takes about 8000 values at
  /// most, and one command stays small.
  static constexpr size_t kMaxIdsPerAck = 1000;
  /// `done(e, true)`: e is finished in Redis; `done(e, false)`: it failed.
  using Done = std::function<void(RelayEntry* e, bool finished)>;

  Finalizer(RelayRedis& redis, RelayClock& clock, const RelaySettings& settings,
            RelayMetrics& metrics, HeldEntries& held, const Dedup& dedup, ConsumerGroups& groups,
            Done done);

  void finalize(RelayEntry* e) override;
  void flush() override;

 private:
  void dead_letter(RelayEntry* e);
  void on_dead_lettered(const std::string& key, const RedisResult& result);
  void send_acks(size_t stream, std::vector<std::string> keys);
  void answered(const std::string& key, const RedisResult& result);

  RelayRedis& redis_;
  const RelaySettings& settings_;
  RelayMetrics& metrics_;
  HeldEntries& held_;
  const Dedup& dedup_;
  ConsumerGroups& groups_;
  Done done_;
  TurnEndTask& flush_task_;
  std::vector<std::vector<std::string>> acks_;  // per stream: entry keys to ack this turn
};

}  // namespace streamshift
