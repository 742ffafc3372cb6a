// The relay: consumes the event streams in a consumer group and replays
// each entry as the app's original HTTP call to the SignalR internal API,
// at least once, with nothing lost.
//
//   XGROUP CREATE .. MKSTREAM (again on NOGROUP)
//        |
//   XREADGROUP 0 (own pending) .. then > BLOCK --+   XAUTOCLAIM (idle > CLAIM_IDLE_MS)
//        |     XREADGROUP <id> (set-aside, below)  |        |
//        v                                        v        v
//   RoomBudget: room under its share? --no--> set aside: dropped from memory,
//        | yes (held)                           pending in Redis under this consumer
//        |   malformed/                    (its room waits for it: later entries too)
//        |   deleted   MGET dedup marks (one per batch) --marked--> XACK (duplicate)
//        |                  | not marked
//        |                  v
//        |          RoomQueues (per room FIFO, CONCURRENCY rooms at once)
//        |                  |
//        |          replay to target --2xx--> EVAL: SET marks EX ttl; XACK ids
//        |                  |                 (one per stream per loop turn)
//        |                  | 5xx/408/429/timeout: backoff, again (up to MAX_DELIVERIES);
//        |                  |   the room keeps only its head, the rest is set aside
//        |                  v other 4xx, too many attempts
//        +----------> XADD dead-letter stream --written--> XACK (never acked unwritten)
//
// Reads, scans and claims ask for no more entries than the held budget
// (RelaySettings::max_held) has left, and one room holds at most
// RelaySettings::kRoomMaxHeld of them, so a room whose target calls fail
// or hang never stops the others. When a room can move again, its set-aside
// entries come back in order from the own pending list (room_budget.h).
// Held entries are re-claimed by this relay (XCLAIM .. JUSTID) before they
// look idle to the others, and so are set-aside ones (found with XPENDING
// IDLE over their id range), so no other relay takes a room over while
// this one lives. Two Redis clients: one connection blocks in XREADGROUP,
// the other carries everything else. Everything runs on one loop.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/http_client.h"
#include "core/redis_client.h"
#include "relay/relay_entry.h"
#include "relay/relay_metrics.h"
#include "relay/relay_settings.h"
#include "relay/room_budget.h"
#include "relay/room_queues.h"

namespace streamshift {

class Relay {
 public:
  Relay(uv_loop_t* loop, const RelaySettings& settings, RelayMetrics& metrics);
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  /// Connects to Redis; reading starts once the groups exist.
  void start();

  /// SIGTERM: stop reading and claiming, let deliveries in flight finish
  /// (and their acks) within the drain timeout, leave everything else
  /// pending in Redis (never acked), then close every handle. `on_stopped`
  /// runs once all are closed.
  void drain(std::function<void()> on_stopped);

  /// Redis connected, groups in place, not draining.
  bool ready() const;
  /// Why not ready, for /readyz; empty when ready.
  std::string not_ready_reason() const;

 private:
  enum class ReadPhase { kOwnPending, kNew };
  struct Command;

  // Groups and reading.
  void create_groups();
  void on_group_created(bool ok);
  void group_lost(std::string_view where);
  void maybe_read();
  void on_read(const RedisResult& result);
  void schedule_read_retry();
  size_t read_budget() const;
  void recheck_own_pending();

  // Set-aside entries back from the own pending list.
  void maybe_scan();
  void scan_stream(size_t stream_index);
  void on_scanned(size_t stream_index, const RedisResult& result);

  // Claims, idle-time refresh, lag.
  void claim_sweep();
  void claim_stream(size_t stream_index, std::string cursor);
  void on_claimed(size_t stream_index, const RedisResult& result);
  void refresh_held();
  void refresh_set_aside(size_t stream_index, std::string start, std::string end);
  void refresh_lag();

  // Entries.
  void accept(std::vector<std::unique_ptr<RelayEntry>>& entries, bool scanned = false);
  void pump();
  void queue(RelayEntry* e);
  void set_aside(RelayEntry* e);
  void start_entry(RelayEntry* e);
  void drop_duplicate(RelayEntry* e);
  void remember_delivered(std::string_view event_id);
  void flush_acks();
  void deliver(RelayEntry* e);
  void on_delivered(const std::string& key, UpstreamResponse& response);
  void finish_in_room(RelayEntry* e);
  void dead_letter(RelayEntry* e, DeadLetterReason reason, std::string error);
  void finalize(RelayEntry* e, Finalize how);
  void on_dead_lettered(const std::string& key, const RedisResult& result);
  void send_acks(size_t stream_index, std::vector<std::string> keys);
  void on_finalized(const std::string& key, const RedisResult& result);
  void release(RelayEntry* e);
  void forget(RelayEntry* e);
  RelayEntry* find(const std::string& key);
  std::string key_of(const RelayEntry& e) const;
  uint64_t next_random();

  // Timers for retries (deliveries and acks).
  void schedule(RelayEntry* e, uint64_t delay_ms);
  void arm_retry_timer();
  void on_retry_due();

  // Draining and closing.
  void maybe_finish_drain();
  void close_everything();
  void handle_closed();

  // One command on the commands client (deadline: the Redis timeout unless
  // given); `done` runs exactly once.
  void command(const std::vector<std::string>& args, std::function<void(const RedisResult&)> done,
               uint64_t timeout_ms = 0);
  void send(RedisClient& client, const std::vector<std::string>& args,
            std::function<void(const RedisResult&)> done, uint64_t timeout_ms);
  RedisOptions redis_options(std::string name, std::function<void(int)> on_ready_change) const;

  uv_loop_t* loop_;
  const RelaySettings& settings_;
  RelayMetrics& metrics_;
  RedisClient reader_;    // blocking XREADGROUP only
  RedisClient commands_;  // everything else, pipelined
  UpstreamPool target_;
  RoomQueues rooms_;
  RoomBudget budget_;

  std::unordered_map<std::string, std::unique_ptr<RelayEntry>> held_;
  std::multimap<uint64_t, std::string> retries_;  // due time (uv_now) -> entry key
  std::vector<std::vector<std::string>> acks_;    // per stream: entry keys to ack this turn
  std::unordered_map<std::string, DeadLetterReason> dead_letter_reasons_;  // until written
  uv_check_t ack_flush_;
  std::unordered_set<std::string> recently_delivered_;  // event_ids, bounded
  std::deque<std::string> recent_order_;

  bool groups_ready_ = false;
  bool creating_groups_ = false;
  size_t groups_pending_ = 0;
  bool groups_failed_ = false;
  ReadPhase phase_ = ReadPhase::kOwnPending;
  std::vector<std::string> pending_cursors_;
  bool reading_ = false;
  int read_failures_ = 0;
  std::vector<bool> claiming_;
  size_t reserved_ = 0;                             // asked for by reads, scans, claims in flight
  std::vector<std::optional<StreamId>> scan_next_;  // per stream: the running scan reads after
  std::vector<bool> scanning_;                      // per stream: a scan page in flight
  std::vector<bool> refreshing_;                    // per stream: set-aside refresh in flight
  uint64_t random_state_;

  uv_timer_t read_retry_timer_;
  uv_timer_t retry_timer_;
  uv_timer_t claim_timer_;
  uv_timer_t refresh_timer_;
  uv_timer_t lag_timer_;
  uv_timer_t drain_timer_;
  uv_timer_t scan_retry_timer_;
  bool draining_ = false;
  bool closing_ = false;
  int handles_open_ = 0;
  std::function<void()> on_stopped_;
};

}  // namespace streamshift
