// Redis Cluster for tests: by default three primaries and three replicas
// (ClusterShape chooses others, e.g. one primary alone), each a RedisServer
// (--cluster-enabled yes) on a free port, with its cluster bus on a second
// free port (--cluster-port, instead of redis' port + 10000, which may be
// taken or in the kernel's ephemeral range), in its own temporary directory;
// joined by `redis-cli --cluster create ... --cluster-replicas R` (which
// wants three primaries at least; fewer are joined by hand: ADDSLOTSRANGE,
// MEET, REPLICATE).
//
//   constructed ──> settled <────────────────────────────────────────────┐
//                    │  │ begin_migration(slot, from, to)                │
//                    │  v                                                │ finish_migration(slot)
//                    │  slot migrating: `from` serves the keys it still ─┘
//                    │  has and answers ASK for the others; `to` serves
//                    │  them after ASKING, MOVED without; migrate_keys(slot)
//                    │  moves them over
//                    ├─ reshard(from, to, n): redis-cli --cluster reshard ──> settled
//                    ├─ failover(replica): CLUSTER FAILOVER, roles swap ───> settled
//                    └─ kill_primary(i) ──> primary dead ──wait_for_promotion()──> its replica
//                                           (time noted)                owns the slots, settled
//                                                                              │ rejoin()
//                                                                              v
//                                                    the killed node back as its replica, settled
//
// Settled: every live node says cluster_state:ok, all agree on the slot map
// and the roles, and each replica is online and acknowledging its primary's
// writes.
//
// Every operation that changes the cluster returns once it has settled
// again, or fails the test saying what was still unsettled. Nodes are named
// by their index (the first `primaries` start as the primaries, the slots
// split evenly in that order); roles are read from the cluster, never
// assumed. Everything is SIGKILLed and its directory removed
// with the set (and with the test process when it crashes: parent-death
// signal).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/support/redis_server.h"

namespace streamshift::testing {

constexpr uint16_t kClusterSlots = 16384;

/// The key's hash slot: CRC16 (XMODEM) of its hash tag (what is between the
/// first '{' and the next '}', when that is not empty) or of the whole key,
/// mod 16384. What CLUSTER KEYSLOT answers.
uint16_t slot_of(std::string_view key);

/// A key in `slot`: "<prefix>{<tag>}". Every key_in_slot(slot, ...) has the
/// same tag, so keys made for one slot can go in one command.
std::string key_in_slot(uint16_t slot, std::string_view prefix = "k");
/// The same for any slot of first..last (cheaper for a wide range).
std::string key_in_slots(uint16_t first, uint16_t last, std::string_view prefix = "k");

/// scheme://127.0.0.1:p1,127.0.0.1:p2,... (the seed list of REDIS_URL).
std::string cluster_url(const std::vector<uint16_t>& ports,
                        std::string_view scheme = "redis-cluster");

/// One node as another one sees it (a line of CLUSTER NODES).
struct ClusterNodeView {
  std::string id;
  uint16_t port = 0;
  bool primary = false;
  bool failing = false;                              // flagged fail or fail? (unreachable)
  std::string primary_id;                            // a replica's primary
  std::vector<std::pair<uint16_t, uint16_t>> slots;  // owned ranges, inclusive
};
/// CLUSTER NODES' answer, parsed (migration markers "[slot->-id]" skipped).
std::vector<ClusterNodeView> parse_cluster_nodes(std::string_view text);

/// What a failover took; times are from the kill or the CLUSTER FAILOVER.
struct ClusterPromotion {
  bool promoted = false;
  size_t node = 0;  // the former replica, now the primary
  /// Until the replica's ROLE said master.
  std::chrono::milliseconds replica_master{0};
  /// Until the cluster settled: every live node says cluster_state:ok and
  /// routes the slots to the new primary.
  std::chrono::milliseconds settled{0};
  explicit operator bool() const { return promoted; }
};

/// How many nodes of which role a RedisClusterSet starts with.
struct ClusterShape {
  size_t primaries = 3;
  size_t replicas_per_primary = 1;
  constexpr size_t nodes() const { return primaries * (1 + replicas_per_primary); }
};

class RedisClusterSet {
 public:
  static constexpr size_t kNone = static_cast<size_t>(-1);
  /// The default shape's node count (3 + 3); size() is any set's.
  static constexpr size_t kNodes = ClusterShape{}.nodes();
  /// CLUSTER NODE TIMEOUT: a primary silent this long is suspected, and
  /// failed once the other primaries agree.
  static constexpr int kNodeTimeoutMs = 1000;

  explicit RedisClusterSet(ClusterShape shape = {});
  ~RedisClusterSet();
  RedisClusterSet(const RedisClusterSet&) = delete;
  RedisClusterSet& operator=(const RedisClusterSet&) = delete;

  bool ready() const { return ready_; }
  /// How many nodes the set started with (killed ones included).
  size_t size() const { return nodes_.size(); }
  RedisServer& node(size_t i) { return *nodes_.at(i); }
  const std::string& node_id(size_t i) const { return ids_.at(i); }
  std::vector<uint16_t> ports() const;
  /// Every node as a seed: redis-cluster://127.0.0.1:p0,...,127.0.0.1:pN.
  std::string seed_url(std::string_view scheme = "redis-cluster") const;

  /// The cluster as the first live node sees it (after an operation here
  /// returned, every live node sees the same).
  std::vector<ClusterNodeView> topology() const;
  /// The live primaries owning slots, by their first slot.
  std::vector<size_t> primaries() const;
  /// The live replica of `primary`; kNone when it has none.
  size_t replica_of(size_t primary) const;
  /// The primary `replica` follows; kNone when it is no replica.
  size_t primary_of(size_t replica) const;
  /// The node owning `slot` (during a migration: the source); kNone if none.
  size_t node_for_slot(uint16_t slot) const;
  /// The node at 127.0.0.1:<port>; kNone for another port.
  size_t node_at(uint16_t port) const;

  RedisValue command_on(size_t node, const std::vector<std::string>& args) const {
    return nodes_.at(node)->command(args);
  }
  /// XRANGE <stream> - + on the primary owning the stream's slot.
  std::vector<StreamEntryView> read_stream(const std::string& stream) const;
  /// ASKING then `args` on one connection to `node`: the command's reply.
  RedisValue command_asking(size_t node, const std::vector<std::string>& args) const;

  /// `slots` slots moved from one primary to another, with their keys, by
  /// `redis-cli --cluster reshard`. False (and a test failure) if not done.
  bool reshard(size_t from, size_t to, int slots);
  /// The steps of one slot's move, by hand, so a test can act between them:
  /// IMPORTING on `to`, MIGRATING on `from`.
  bool begin_migration(uint16_t slot, size_t from, size_t to);
  /// MIGRATEs every key `from` still has in the slot to `to`.
  bool migrate_keys(uint16_t slot);
  /// Migrates what is left, then CLUSTER SETSLOT <slot> NODE <to> on `to`,
  /// `from` and the other primaries; returns once every node agrees.
  bool finish_migration(uint16_t slot);

  /// CLUSTER FAILOVER on `replica`: it and its primary swap roles.
  ClusterPromotion failover(size_t replica, std::chrono::milliseconds timeout);
  /// SIGKILLs `primary` (returns once it is reaped) and notes the time and
  /// which replica should take over.
  void kill_primary(size_t primary);
  /// Waits until the killed primary's replica owns its slots and the
  /// cluster settled, or `timeout` has passed since the kill.
  ClusterPromotion wait_for_promotion(std::chrono::milliseconds timeout);
  /// Starts the killed node again (same port, directory, nodes.conf) and
  /// waits until it is back as a replica of its successor, in sync.
  bool rejoin();

 private:
  /// Fewer than three primaries, which redis-cli will not create: each
  /// primary adds its share of the slots, every node meets node 0, and the
  /// replicas follow primary (i - primaries) % primaries.
  bool join_by_hand(const ClusterShape& shape);
  struct Migration {
    size_t from, to;
  };
  /// Polls settled() (and `and_then`, which may say why not) until it holds;
  /// a test failure naming `what` and the last reason when it does not.
  bool wait_settled(std::chrono::milliseconds timeout, const std::string& what,
                    const std::function<bool(std::string*)>& and_then = {});
  /// Every live node says cluster_state:ok and sees the same roles and slots
  /// (no live node failing, no dead one owning slots), and each live replica
  /// is online and acknowledging its primary's writes. Else false, with the
  /// first reason found.
  bool settled(std::string* why) const;
  /// The live nodes in one node's view as sorted lines ("node 3 replica of
  /// node 1 (port p)", "node 0 primary 0-5460"): equal strings mean the
  /// views agree. "" (and `why`) when a live node is missing or failing.
  std::string describe_live(const std::vector<ClusterNodeView>& views, std::string* why) const;
  size_t replica_of_in(const std::vector<ClusterNodeView>& views,
                       const std::string& primary_id) const;
  ClusterPromotion await_promotion(size_t candidate, size_t former,
                                   std::chrono::steady_clock::time_point from,
                                   std::chrono::milliseconds timeout);
  bool live(size_t i) const { return live_.at(i); }
  /// The first live node's index; kNone when every node is down.
  size_t first_live() const;
  size_t node_with_id(const std::string& id) const;
  std::string role_of(size_t i) const;
  /// "node 2 (port 21234)", for messages.
  std::string name(size_t i) const;

  std::vector<std::unique_ptr<RedisServer>> nodes_;
  std::vector<std::string> ids_;
  std::vector<uint16_t> bus_ports_;
  std::vector<bool> live_;
  std::map<uint16_t, Migration> migrations_;
  size_t killed_ = kNone;
  size_t successor_ = kNone;  // the killed primary's replica
  std::chrono::steady_clock::time_point killed_at_{};
  bool ready_ = false;
};

}  // namespace streamshift::testing
