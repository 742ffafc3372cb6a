// Redis high availability for tests: a primary, one replica (--replicaof)
// and three Sentinels (redis-server <conf> --sentinel), each a RedisServer
// on free ports in its own temporary directory. The fault: SIGKILL the
// primary, then wait for Sentinel to promote the replica.
//
//   constructed ──> ready ──kill_primary()──> primary dead ──wait_for_promotion()──> promoted
//   (replica in sync, every Sentinel      (time noted)          (a Sentinel names the
//    knows the primary, the replica                              former replica, whose
//    and the two other Sentinels)                                ROLE says master)
//                                                                   │ rejoin()
//                                                                   v
//                                             the killed node back, a replica in sync
//
// With ReplicationLink::kRelayed the replica replicates through a TcpRelay
// (--replicaof 127.0.0.1 <relay port>): freeze_replication() stalls the
// link, so whatever the primary acknowledges from then on is on the primary
// only, deterministically. The Sentinels still talk to the replica directly
// (they find it in the primary's INFO at its own port) and promote it as
// usual.
//
// Everything is SIGKILLed and its directory removed when the set is
// destroyed (also when a test fails midway); the processes die with the test
// process when it crashes (parent-death signal).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/redis_server.h"
#include "tests/support/tcp_relay.h"

namespace streamshift::testing {

/// How the Sentinels watch the primary (the values are why failover is fast;
/// see redis_sentinel.cc).
struct SentinelSettings {
  std::string master_name = "mymaster";
  int quorum = 2;
  int down_after_ms = 1000;
  int failover_timeout_ms = 3000;
};

/// scheme://127.0.0.1:p1,127.0.0.1:p2,.../db#master_name
std::string sentinel_url(const std::vector<uint16_t>& sentinel_ports, int db,
                         std::string_view master_name, std::string_view scheme = "redis-sentinel");

/// What wait_for_promotion() saw; times are from the kill.
struct Promotion {
  bool promoted = false;
  uint16_t port = 0;  // the new primary's
  /// Until the first Sentinel named the new primary and its ROLE said master:
  /// from then on a client asking the Sentinels in turn can find it.
  std::chrono::milliseconds first_sentinel{0};
  /// Until every Sentinel named it.
  std::chrono::milliseconds all_sentinels{0};
  explicit operator bool() const { return promoted; }
};

/// How the replica reaches the primary.
enum class ReplicationLink { kDirect, kRelayed };

class RedisFailoverSet {
 public:
  explicit RedisFailoverSet(SentinelSettings settings = {},
                            ReplicationLink link = ReplicationLink::kDirect);
  ~RedisFailoverSet();
  RedisFailoverSet(const RedisFailoverSet&) = delete;
  RedisFailoverSet& operator=(const RedisFailoverSet&) = delete;

  bool ready() const { return ready_; }
  const std::string& master_name() const { return settings_.master_name; }
  std::vector<uint16_t> sentinel_ports() const;
  std::string sentinel_url(int db = 0, std::string_view scheme = "redis-sentinel") const;

  /// The data nodes as this set last knew them: after a successful
  /// wait_for_promotion(), primary() is the promoted node and replica() the
  /// killed one.
  RedisServer& primary() { return *nodes_[primary_]; }
  RedisServer& replica() { return *nodes_[1 - primary_]; }
  RedisServer& sentinel(size_t i) { return *sentinels_.at(i); }

  /// kRelayed only: from the return on, nothing the primary writes reaches
  /// the replica (the replica's link stays up, just quiet), until thawed.
  void freeze_replication();
  void thaw_replication();

  /// SIGKILLs the primary (returns once it is reaped) and notes the time.
  void kill_primary();
  /// Polls the Sentinels' SENTINEL get-master-addr-by-name until they name
  /// the replica and its ROLE says master (then primary() is that node), or
  /// `timeout` has passed since the kill.
  Promotion wait_for_promotion(std::chrono::milliseconds timeout);
  /// After a promotion: starts the killed node again (same port and dir) as
  /// a replica of the new primary, as its pod would come back, and waits
  /// until it is in sync. False (and a test failure) when it does not.
  bool rejoin();
  /// The primary's port according to the first Sentinel that answers; 0 when
  /// none does.
  uint16_t current_primary_port() const;

 private:
  bool settled(std::string* why) const;
  SentinelSettings settings_;
  std::unique_ptr<RedisServer> nodes_[2];        // declared first: destroyed after the Sentinels
  std::unique_ptr<TcpRelay> replication_relay_;  // kRelayed: the replica's way to the primary
  size_t primary_ = 0;
  std::vector<std::unique_ptr<RedisServer>> sentinels_;
  std::chrono::steady_clock::time_point killed_at_{};
  bool ready_ = false;
};

}  // namespace streamshift::testing
