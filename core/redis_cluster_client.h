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
//      v
//   route: the key's slot (redis_command_keys.h, redis_key_slot.h) -> route_[slot]
//      |   (O(1)); keyless: any primary, a ready one first
//      v
//   send to that primary's RedisClient, with the time left <--------------+
//      |                                                                  |
//      +-- MOVED: the map moves the slot, a refresh is asked for, resend -+ at most
//      +-- ASK: resend there once, with ASKING before it ----------------+ kMaxRedirects
//      +-- TRYAGAIN, CLUSTERDOWN, a bad redirect ----+                    |
//      +-- kNotConnected, kConnectionLost (refresh) -+-> waiting_: due    |
//      |                                             after a backoff -----+
//      v                                             (one timer for all)
//   answered, exactly once: the node's own result (kOk, an error reply,
//   kTimeout, kNotReplicated, kOverloaded), or kTimeout when the command's
//   deadline passes while it waits to be resent.
//
// Topology: a seed client (a RedisClient over the URL's seeds, one
// connection, moving to the next seed after a failure) or any ready primary
// is asked CLUSTER SLOTS (redis_cluster_slots.h): when the seed client
// first connects, after a MOVED, when a node's connection drops or a
// command to it finds none, and every kClusterRefreshMs; at most one
// reading in flight, and not more often than kMinRefreshGapMs. A new map
// starts a client for every primary serving slots; one that no longer
// serves any is shut down gracefully, freed once closed.
//
// Readiness: ready_connections() counts the connections of the primaries
// serving slots (0 until the first map); the node clients report to the
// options' on_ready_change (and primary_status' ready count) as their
// connections come and go. Not kept: which primary, for primary_status
// (a cluster has several; its failovers are not counted there).
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
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
    bool serves = false;  // owns slots in the current map
  };
  struct Request;

  static void on_node_reply(void* data, const RedisResult& result);
  static void on_slots(void* data, const RedisResult& result);
  static void on_retry_timer(uv_timer_t* timer);
  static void on_refresh_timer(uv_timer_t* timer);

  void dispatch(Request* r);
  void redirected(Request* r, const RedisResult& result);
  // Shutting down: answered `status` at once.
  void retry_later(Request* r, RedisStatus status = RedisStatus::kNotConnected);
  void finish(Request* r, const RedisResult& result);
  void finish(Request* r, RedisStatus status);
  void arm_retry_timer(uint64_t due);
  void resend_due();

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
  std::vector<Node*> route_;       // kRedisClusterSlots entries, null: unserved
  std::vector<Request*> waiting_;  // due to be resent
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
  uint64_t moved_ = 0, asked_ = 0, retries_ = 0, refreshes_ = 0;
  uint64_t closed_connects_ = 0;  // connects() of node clients freed
  size_t open_parts_ = 0;         // node clients, the seed client, the timers
  bool started_ = false;
  bool shutting_down_ = false;
  std::vector<std::function<void()>> on_closed_;
};

}  // namespace streamshift
