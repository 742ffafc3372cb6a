// Keeping what this relay holds its own, and taking over what another
// relay left behind:
//
//   every CLAIM_IDLE_MS/2   XAUTOCLAIM <s> <group> <me> CLAIM_IDLE_MS <cursor> COUNT <budget>
//   (take-over)             per stream, paged while the read budget has room: entries
//                           idle that long (a dead relay's, or ours whose read reply was
//                           lost). Pending ids whose entries are gone (trimmed or
//                           deleted; Redis 7 lists them) are counted lost.
//   every CLAIM_IDLE_MS/3   XCLAIM <s> <group> <me> 0 <ids> JUSTID for held entries not
//   (idle refresh)          touched for a third of the limit; for set-aside ones, found
//                           with XPENDING .. IDLE over their id range, XCLAIM .. <idle>
//                           <ids> JUSTID: their idle time restarts, so no other relay
//                           takes them over while this one lives. Then rooms that can
//                           move are scanned (StreamReader::maybe_scan).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "relay/consumer_groups.h"
#include "relay/held_entries.h"
#include "relay/relay_clock.h"
#include "relay/relay_metrics.h"
#include "relay/relay_redis.h"
#include "relay/relay_settings.h"
#include "relay/room_budget.h"
#include "relay/stream_reader.h"

namespace streamshift {

class PendingClaims {
 public:
  PendingClaims(RelayRedis& redis, RelayClock& clock, const RelaySettings& settings,
                RelayMetrics& metrics, HeldEntries& held, RoomBudget& budget,
                ConsumerGroups& groups, StreamReader& reader, StreamReader::OnEntries on_entries);

  /// Starts both periodic timers.
  void start();
  /// Draining: no more take-overs, nor refreshes of set-aside entries;
  /// held entries keep being refreshed until close().
  void stop();
  void close() { closed_ = true; }

  /// One take-over sweep over every stream (the claim timer's work).
  void sweep();
  /// One idle refresh (the refresh timer's work).
  void refresh();

 private:
  void claim(size_t stream, std::string cursor);
  void on_claimed(size_t stream, const RedisResult& result);
  void count_lost(size_t stream, const redisReply* deleted_ids);
  void refresh_set_aside(size_t stream, std::string start, std::string end);
  void reclaim(RedisArgs args);

  RelayRedis& redis_;
  RelayClock& clock_;
  const RelaySettings& settings_;
  RelayMetrics& metrics_;
  HeldEntries& held_;
  RoomBudget& budget_;
  ConsumerGroups& groups_;
  StreamReader& reader_;
  StreamReader::OnEntries on_entries_;
  RelayTimer& claim_timer_;
  RelayTimer& refresh_timer_;
  bool stopped_ = false;
  bool closed_ = false;
  std::vector<bool> claiming_;    // per stream: an XAUTOCLAIM page in flight
  std::vector<bool> refreshing_;  // per stream: a set-aside refresh in flight
};

}  // namespace streamshift
