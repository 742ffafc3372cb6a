// Reading the streams in the consumer group; what is read goes to the
// delivery lifecycle by callback.
//
// One such read runs per read group (RelaySettings::read_groups(): the
// streams of one shard index, which share a slot), each on its own
// connection, each with its own phase, cursor and backoff:
//
//   groups ready --> XREADGROUP .. STREAMS <s..> <cursor..>   own pending, paged by cursor
//                      | an empty page                  ^
//                      v                                | a reply that never came (it may
//                    XREADGROUP .. BLOCK .. STREAMS <s..> >   have handed us entries)
//
//   a failed read: again after a backoff (50 ms doubling to 2 s, jittered);
//   NOGROUP: ConsumerGroups::lost(), reading resumes once it is created.
//
// Entries set aside (room_budget.h) come back from the own pending list:
// XREADGROUP .. STREAMS <s> <id> on the commands connection (it never
// blocks), one scan per stream at a time, paged by the read budget. Reads,
// scans and claims ask for no more than HeldEntries::read_budget(); a read
// asks for its share of the read count (READ_COUNT / read groups, at least
// 1), so no group takes the whole budget from the others.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/backoff.h"
#include "core/stream_id.h"
#include "relay/consumer_groups.h"
#include "relay/held_entries.h"
#include "relay/relay_clock.h"
#include "relay/relay_redis.h"
#include "relay/relay_settings.h"
#include "relay/room_budget.h"

namespace streamshift {

class StreamReader {
 public:
  using Entries = std::vector<std::unique_ptr<RelayEntry>>;
  /// Entries read; `scanned` when a scan of set-aside entries returned them.
  using OnEntries = std::function<void(Entries& entries, bool scanned)>;

  StreamReader(RelayRedis& redis, RelayClock& clock, const RelaySettings& settings,
               HeldEntries& held, RoomBudget& budget, ConsumerGroups& groups, OnEntries on_entries);

  /// A round of group creation ended: read (the own pending list first when
  /// the groups are new), or try again after a backoff.
  void on_groups(ConsumerGroups::Result result);
  /// Reads when the groups exist, the reading connection is up, the budget
  /// has room and no read or retry is pending.
  void maybe_read();
  /// Reads the own pending lists again before new entries (every group).
  void recheck_own_pending();
  /// Starts a scan of every stream whose spilled rooms can move.
  void maybe_scan();
  /// Draining: nothing more is read; what comes back stays pending in Redis.
  void stop();

 private:
  enum class Phase { kOwnPending, kNew };
  struct ReadGroup {
    std::vector<size_t> streams;  // physical stream indexes
    RelayTimer* retry_timer = nullptr;
    Phase phase = Phase::kOwnPending;
    bool reading = false;
    int failures = 0;
  };

  void read(size_t group);
  void recheck_own_pending(ReadGroup& group);
  void on_read(size_t group, const RedisResult& result, Phase sent_in);
  void schedule_retry(ReadGroup& group);
  void scan(size_t stream);
  void on_scanned(size_t stream, const RedisResult& result);

  RelayRedis& redis_;
  const RelaySettings& settings_;
  HeldEntries& held_;
  RoomBudget& budget_;
  ConsumerGroups& groups_;
  OnEntries on_entries_;
  RelayTimer& scan_retry_timer_;
  JitterRandom random_;

  bool stopped_ = false;
  std::vector<ReadGroup> groups_read_;
  size_t read_share_ = 1;                           // COUNT of one read at most
  size_t next_group_ = 0;                           // maybe_read starts here, in turn
  std::vector<std::string> pending_cursors_;        // per stream, in the kOwnPending phase
  std::vector<std::optional<StreamId>> scan_next_;  // per stream: the running scan reads after
  std::vector<bool> scanning_;                      // per stream: a scan page in flight
};

}  // namespace streamshift
