// The one home of every count on the event path: one block per worker, written only by its
// worker's thread (a relaxed load and store, no lock), read by /metrics (EventCounts sums
// the blocks) and by the shutdown's "transport totals" line (main sums them).
//
//   EventAccounting::count(outcome) --> this worker's TransportStats
//                                          |  per event type: published, coalesced
//                                          |  per worker: fallbacks, 503s, dual write, ...
//                         /metrics <-------+-------> "transport totals" log line
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace streamshift {

enum class FallbackReason {
  kRedisError,
  kTimeout,
  kConnectionLost,
  kCircuitOpen,
  kReplicationTimeout,  // stored, but fewer replicas than EVENT_TRANSPORT_MIN_REPLICAS had it
  kCount
};
std::string_view fallback_reason_name(FallbackReason reason);

/// Why an acknowledged (202 coalesced) event never reached SignalR.
enum class LostReason { kRedisFailed, kHttpFailed, kCount };
std::string_view lost_reason_name(LostReason reason);

/// What became of an event, or of a request on an event route. Each value is one counter.
enum class Outcome : uint8_t {
  // Counted per event type (events_published_total, events_coalesced_total).
  kStored,           // XADD answered with the entry id
  kXaddFailed,       // XADD failed: error or other reply, timeout, connection lost, refused
  kCircuitRejected,  // the open circuit kept the event from Redis
  kHttpDelivered,    // the upstream answered 2xx
  kHttpFailed,       // the upstream answered otherwise, or not at all
  kCoalesced,        // dropped by coalescing: a later event of its key says more
  // Counted per worker.
  kHttpRouted,          // the rollout (or dual write) sent the event over HTTP
  kFallbackRedisError,  // kFallback* in FallbackReason's order
  kFallbackTimeout,
  kFallbackConnectionLost,
  kFallbackCircuitOpen,
  kFallbackReplicationTimeout,
  kRefused,                 // 503: Redis failed and the fallback is off
  kShadowStored,            // dual write: the Redis copy was stored
  kShadowFailed,            //   ... or not
  kDualWriteHttpDelivered,  // dual write: the upstream answered 2xx
  kDualWriteHttpFailed,     //   ... or not
  kInvalid,                 // 400 on an event route
  kPassthrough,             // no route matched: bridged unchanged
  kCoalescerOverflow,       // passed through uncoalesced: the key cap was reached
  kLostRedisFailed,         // kLost* in LostReason's order
  kLostHttpFailed,
  kCount
};

inline constexpr size_t kTypeOutcomes = static_cast<size_t>(Outcome::kHttpRouted);
inline constexpr size_t kOutcomes = static_cast<size_t>(Outcome::kCount);

inline Outcome fallback_outcome(FallbackReason reason) {
  return static_cast<Outcome>(static_cast<int>(Outcome::kFallbackRedisError) +
                              static_cast<int>(reason));
}
inline Outcome lost_outcome(LostReason reason) {
  return static_cast<Outcome>(static_cast<int>(Outcome::kLostRedisFailed) +
                              static_cast<int>(reason));
}

class TransportStats {
 public:
  /// Event types with their own series (the rest share "other"), and "other" itself.
  static constexpr size_t kMaxEventTypes = 64;
  static constexpr size_t kTypeSlots = kMaxEventTypes + 1;

  TransportStats() = default;
  TransportStats(const TransportStats&) = delete;
  TransportStats& operator=(const TransportStats&) = delete;

  /// A per-worker outcome (below kTypeOutcomes: use count_type).
  void count(Outcome outcome) { bump(worker_[static_cast<size_t>(outcome) - kTypeOutcomes]); }
  /// A per-type outcome for the event type in `slot` (EventCounts::slot).
  void count_type(size_t slot, Outcome outcome) {
    bump(types_[slot][static_cast<size_t>(outcome)]);
  }

  uint64_t get(Outcome outcome) const;  // per-type outcomes: summed over the types
  uint64_t get_type(size_t slot, Outcome outcome) const {
    return types_[slot][static_cast<size_t>(outcome)].load(std::memory_order_relaxed);
  }

  /// Adds another block's counts (the shutdown's totals over the workers).
  void add(const TransportStats& o);
  /// JSON object text for the shutdown log line.
  std::string to_json() const;

 private:
  using Cell = std::atomic<uint64_t>;
  static void bump(Cell& c, uint64_t n = 1) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  alignas(64) Cell worker_[kOutcomes - kTypeOutcomes] = {};
  Cell types_[kTypeSlots][kTypeOutcomes] = {};
};

}  // namespace streamshift
