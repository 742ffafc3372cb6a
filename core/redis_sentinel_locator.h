// Where the Redis primary is, asked of the Sentinels, for the connections
// of one RedisClient whose endpoint is a sentinel one (it owns this).
//
// Two small RedisClients to the Sentinels, each starting at a random
// Sentinel and going to the next one after every failure
// (RedisOptions::hosts), authenticating with REDIS_SENTINEL_USERNAME /
// REDIS_SENTINEL_PASSWORD, and dropping a connection at its first
// timed-out command (max_late_replies 0: a hung Sentinel is left at once):
//   - query_: SENTINEL get-master-addr-by-name <name>, one in flight,
//     shared by every connection waiting for it;
//   - watch_: SUBSCRIBE +switch-master, again after every reconnect, and
//     a PING every second with the connect timeout as its deadline, so that
//     a silently dead subscription is noticed and moved to the next
//     Sentinel. After each subscription a fresh query is run: a
//     +switch-master may have been missed meanwhile.
//
//   locate(w) --> waiters_ += w --no query out--> query_ ready? --no--> asked
//                                                    |               when it is
//                                                    v yes
//                                     SENTINEL get-master-addr-by-name
//                                                    |
//        [host, port], sent before the latest switch or subscription
//                      (RedisSentinelPrimary says stale): ignored, asked
//                      again if connections wait or a fresh one is wanted
//        [host, port]: the primary; another one than known is a move (as
//                      below); every waiter located(host:port)
//        nil:          every waiter not_located("sentinel: no master named ...")
//        error reply:  every waiter not_located("sentinel: <error>")
//        lost, timeout: asked again once query_ is ready (a timeout closes
//                      its connection, so that is on the next Sentinel)
//
//   +switch-master <name> <old ip> <old port> <new ip> <new port>, our name:
//   the primary is the new one; a move: on_switch(new) (the client moves
//   its connections).
//
// A waiter that gives up (its connect timer) calls cancel(w). shutdown()
// closes both clients and the PING timer; its callback runs once all three
// have closed. Nothing here blocks: every command has the connect timeout
// as its deadline.
#pragma once

#include <hiredis/hiredis.h>
#include <uv.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/redis_client.h"
#include "core/redis_sentinel_primary.h"

namespace streamshift {

/// ROLE's first element ("master", "slave", "sentinel"); empty when the
/// reply is not a ROLE reply.
std::string redis_role(const redisReply* reply);

/// SENTINEL get-master-addr-by-name's answer; nullopt with `*why` set when
/// it names none (nil: the Sentinel monitors no master of that name) or is
/// malformed.
std::optional<RedisHost> parse_master_addr(const redisReply* reply, std::string_view master_name,
                                           std::string* why);

/// A +switch-master message's payload "<name> <old ip> <old port> <new ip>
/// <new port>": the new primary when it is about `master_name`.
std::optional<RedisHost> parse_switch_master(std::string_view payload,
                                             std::string_view master_name);

class RedisSentinelLocator {
 public:
  /// A connection waiting for the primary's address.
  class Waiter {
   public:
    virtual void located(const RedisHost& primary) = 0;
    virtual void not_located(std::string_view reason) = 0;

   protected:
    ~Waiter() = default;
  };

  /// `data` are the options of the client whose primary is looked up (its
  /// endpoint's sentinels, master name and sentinel credentials, its
  /// timeouts and backoff).
  RedisSentinelLocator(uv_loop_t* loop, const RedisOptions& data,
                       std::function<void(const RedisHost&)> on_switch);
  ~RedisSentinelLocator();
  RedisSentinelLocator(const RedisSentinelLocator&) = delete;
  RedisSentinelLocator& operator=(const RedisSentinelLocator&) = delete;

  void start();
  /// `w` is answered later (never before locate() returns), once.
  void locate(Waiter* w);
  void cancel(Waiter* w);
  /// Why the Sentinels gave no primary lately (empty when they did).
  std::string last_error() const;
  /// The primary the Sentinels named last (empty host before the first).
  const RedisHost& primary() const { return primary_.host(); }

  void shutdown(std::function<void()> on_closed);
  void close_now();

 private:
  static RedisOptions sentinel_options(const RedisOptions& data, std::string suffix);
  // The PING timer, owned apart: freed in its close callback.
  struct PingTimer {
    uv_timer_t handle;
    RedisSentinelLocator* owner;
    std::function<void()> on_closed;
  };
  // A query is owed: connections wait, or a subscription wants a fresh one.
  bool wanted() const { return !waiters_.empty() || fresh_wanted_; }
  void ask();
  void answer_all(const RedisHost* primary, std::string_view why);
  void subscribe();
  void on_message(const redisReply& message);
  // The primary is another one than `from`: told to health and the client.
  void moved(const RedisHost& from);
  static void on_master_addr(void* data, const RedisResult& result);
  static void on_subscribed(void* data, const RedisResult& result);
  static void on_ping_due(uv_timer_t* timer);
  static void on_pong(void* data, const RedisResult& result);

  std::string name_;         // the client's, for logs
  std::string master_name_;  // what the Sentinels monitor
  uint64_t timeout_ms_;
  std::shared_ptr<RedisPrimaryStatus> status_;
  std::function<void(const RedisHost&)> on_switch_;
  std::unique_ptr<RedisClient> query_;
  std::unique_ptr<RedisClient> watch_;
  std::vector<Waiter*> waiters_;
  bool asking_ = false;        // a query is in flight
  uint64_t query_token_ = 0;   // its RedisSentinelPrimary token
  bool fresh_wanted_ = false;  // subscribed again: an answer from after that is wanted
  bool ping_out_ = false;      // a PING on watch_ is in flight
  PingTimer* ping_ = nullptr;  // null once closing
  RedisSentinelPrimary primary_;
  std::string error_;
};

}  // namespace streamshift
