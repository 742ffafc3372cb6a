// The Redis Cluster client of one event loop (redis[s]-cluster://): a
// RedisCommands routing each command by its key's slot to the primary
// serving it, over one RedisClient per primary (the same pipelined
// connections, AUTH, TLS, deadlines and durable WAITs as standalone).
// Modelled on h2o's Redis client and Envoy's redis_proxy.
//
// A command's record (its arguments copied, except borrowed ones, which
// stay valid until the caller's callback, after any resend):
//
//   command() --no slot map yet, or shutting down--> kNotConnected now
//      |
//      +-- its slot has commands waiting to be resent: behind them -------+
//      v                                                                  |
//   route: the key's slot (redis_command_keys.h, redis_key_slot.h) -> route_[slot]
//      |   (O(1)); keyless: any primary, a ready one first                |
//      v                                                                  |
//   send to that primary's RedisClient, with the time left <--------+     |
//      |                                                            |     |
//      +-- MOVED: the map moves the slot, a refresh is asked for, --+     |
//      |   sent to the node named                           at most |     |
//      +-- ASK: sent there once, with ASKING before it -------------+     |
//      |                                              kMaxRedirects       |
//      +-- TRYAGAIN, CLUSTERDOWN, a bad redirect ----+                    |
//      +-- kNotConnected (never sent; refresh) ------+-> waits_[slot] <---+
//      |                                                 | its slot's line,
//      |                                                 | oldest first: all
//      |                                                 | resent in order
//      |                                                 | after the slot's
//      |                      route <--------------------+ backoff (one timer)
//      v
//   answered, exactly once: the node's own result (kOk, an error reply,
//   kTimeout, kNotReplicated, kOverloaded, kConnectionLost: it may have run,
//   so it is not resent; a refresh is asked for), or kTimeout when the
//   command's deadline passes while it waits (it leaves the line, the
//   others keep their places).
//
// A slot's commands thus reach Redis in arrival order (a room's events in
// its stream), except that those in flight together on one connection are
// answered independently (one TRYAGAIN'd, the next one not).
//
// Topology: a seed client (a RedisClient over the URL's seeds, one
// connection, moving to the next seed after a failure) or any ready primary
// is asked CLUSTER SLOTS (redis_cluster_slots.h): when the seed client
// first connects, after a MOVED, when a node's connection drops or a
// command to it finds none, and every kClusterRefreshMs; at most one
// reading in flight, and not more often than kMinRefreshGapMs. A new map
// starts a client for every primary serving slots; one that no longer
// serves any is shut down gracefully, freed once closed, unless commands
// are in flight to it or it was an ASK target within kClusterRefreshMs (a
// migration to a node serving no slot yet goes on).
//
// Readiness: ready_connections() counts the connections of the primaries
// serving slots (0 until the first map); the node clients report to the
// options' on_ready_change (and primary_status' ready count) as their
// connections come and go; its redirects, retries and slot-map readings
// are counted there too (streamshift_redis_cluster_* metrics). Not kept:
// which primary (a cluster has several; its failovers are not counted as
// streamshift_redis_failovers_total, they show as MOVED redirects).
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/redis_client.h"
#include "core/redis_cluster_slots.h"

namespace streamshift {

class RedisClusterClient final : public RedisCommands {
 public:
  /// Redirects one command follows before its last answer is returned.
  static constexpr int kMaxRedirects = 5;
  static constexpr uint64_t kClusterRefreshMs = 5000;
  static constexpr uint64_t kMinRefreshGapMs = 100;
  /// No map yet: how often the seeds are asked again.
  static constexpr uint64_t kSeedRefreshMs = 200;

  /// `options.endpoint` in cluster mode (its cluster_seeds).
  RedisClusterClient(uv_loop_t* loop, RedisOptions options);
  /// After shutdown's on_closed has run (or after the loop was closed).
  ~RedisClusterClient();
  RedisClusterClient(const RedisClusterClient&) = delete;
  RedisClusterClient& operator=(const RedisClusterClient&) = delete;

  void start() override;
  using RedisCommands::command;
  void command(const RedisCommandArgs& args, uint64_t timeout_ms, RedisCallback callback,
               void* data) override;
  size_t ready_connections() const override;
  const std::string& last_error() const override;
  uint64_t connects() const override;
  void shutdown(std::function<void()> on_closed) override;
  void close_now() override;

  /// Counters (tests, metrics): MOVED and ASK followed, resends after a
  /// backoff, slot maps read.
  uint64_t redirects_moved() const { return moved_; }
  uint64_t redirects_ask() const { return asked_; }
  uint64_t retries() const { return retries_; }
  uint64_t topology_refreshes() const { return refreshes_; }

 private:
  struct Node {
    RedisHost address;
    std::unique_ptr<RedisClient> client;
    bool serves = false;       // owns slots in the current map
    size_t in_flight = 0;      // commands sent, not yet answered
    uint64_t asked_until = 0;  // an ASK target: kept until then
  };
  struct Request;
  // The commands of one slot waiting to be resent, oldest first.
  struct Wait {
    Request* head = nullptr;
    Request* tail = nullptr;
    uint64_t due = 0;  // when the head is resent (its backoff)
  };

  static void on_node_reply(void* data, const RedisResult& result);
  static void on_slots(void* data, const RedisResult& result);
  static void on_retry_timer(uv_timer_t* timer);
  static void on_refresh_timer(uv_timer_t* timer);

  void dispatch(Request* r);
  void send(Request* r, Node* node, bool asking);
  void redirected(Request* r, const RedisResult& result);
  // Into its slot's line (first again when it is the one being resent).
  // Shutting down: answered `status` at once.
  void retry_later(Request* r, RedisStatus status = RedisStatus::kNotConnected);
  void wait_behind(Wait& w, Request* r);
  static void append(Wait& w, Request* r);
  void finish(Request* r, const RedisResult& result);
  void finish(Request* r, RedisStatus status);
  void arm_retry_timer(uint64_t due);
  void resend_due();
  std::vector<Request*> take_waiting();

  Node* route(const Request& r);
  // The node client at `address`; started now when `create` and not there.
  Node* node_at(const RedisHost& address, bool create);
  void retire(Node* node);
  void node_closed(Node* node);
  void part_closed();

  void request_refresh();
  void schedule_refresh(uint64_t in_ms);
  void refresh_now();
  void apply(RedisClusterSlots map);

  uv_loop_t* loop_;
  RedisOptions options_;
  std::unique_ptr<RedisClient> seeds_;
  std::vector<std::unique_ptr<Node>> nodes_;    // live, each address once
  std::vector<std::unique_ptr<Node>> closing_;  // shut down, not yet closed
  std::vector<std::unique_ptr<Node>> closed_;   // freed on the next timer turn
  std::optional<RedisClusterSlots> map_;
  std::vector<Node*> route_;             // kRedisClusterSlots entries, null: unserved
  std::unordered_map<int, Wait> waits_;  // by slot (or keyless), each non-empty
  Request* resending_ = nullptr;         // taken out of its line, being resent
  uv_timer_t retry_timer_;
  uv_timer_t refresh_timer_;
  uint64_t retry_due_ = 0;  // retry_timer_'s due time, when active
  bool refresh_in_flight_ = false;
  bool refresh_again_ = false;
  bool refreshed_ = false;  // a reading was started once
  uint64_t last_refresh_ = 0;
  RedisHost refresh_asked_;
  std::string topology_error_;
  mutable std::string last_error_;
  // Its own counts (for tests), and the process's (primary_status, metrics).
  void count(RedisClusterEvent event, uint64_t& counter);
  uint64_t moved_ = 0, asked_ = 0, retries_ = 0, refreshes_ = 0;
  uint64_t closed_connects_ = 0;  // connects() of node clients freed
  size_t open_parts_ = 0;         // node clients, the seed client, the timers
  bool started_ = false;
  bool shutting_down_ = false;
  std::vector<std::function<void()>> on_closed_;
};

}  // namespace streamshift
