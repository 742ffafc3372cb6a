// What a RedisSentinelLocator believes about the primary: the address the
// Sentinels named last, and a generation that tells an answer to a query
// sent before the latest +switch-master (or the latest new subscription,
// which may have missed one) from a fresh one. Pure logic, no I/O.
//
//   token = asked()            a query leaves; its answer comes with token
//   switched(new)              +switch-master: generation + 1
//   resubscribed()             the watch subscribed again: generation + 1
//   answered(token, named):
//     token < generation       kStale: ignored (the Sentinel may have
//                              answered before it learnt of the switch)
//     no primary known yet,
//     or named == the known    kTaken
//     named != the known       kMoved (missed +switch-master, or the
//                              Sentinels changed their mind)
#pragma once

#include <cstdint>

#include "core/redis_url.h"

namespace streamshift {

class RedisSentinelPrimary {
 public:
  enum class Answer { kStale, kTaken, kMoved };

  /// A query is sent: its answer is passed back with this token.
  uint64_t asked() const { return generation_; }
  Answer answered(uint64_t token, const RedisHost& named);
  /// +switch-master named `next`: true when that is another primary.
  bool switched(const RedisHost& next);
  void resubscribed() { ++generation_; }
  /// Empty host before the first answer or switch.
  const RedisHost& host() const { return host_; }

 private:
  RedisHost host_;
  uint64_t generation_ = 0;
};

}  // namespace streamshift
