// The consumer group on every stream. Created (XGROUP CREATE .. MKSTREAM)
// at start and on every (re)connect of the commands connection, as the
// server may be a fresh one (a restart without persistence); created again
// whenever a command finds it gone (NOGROUP).
//
//   create() --XGROUP CREATE per stream--> every one OK or BUSYGROUP: kReady
//      ^                                   (kStillReady when it already was)
//      |                                   any other answer: kFailed (the
//      |                                   reader calls create() again later)
//   lost(where): NOGROUP; not ready until created again
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

#include "relay/relay_metrics.h"
#include "relay/relay_redis.h"
#include "relay/relay_settings.h"

namespace streamshift {

class ConsumerGroups {
 public:
  enum class Result { kReady, kStillReady, kFailed };

  ConsumerGroups(RelayRedis& redis, const RelaySettings& settings, RelayMetrics& metrics,
                 std::function<void(Result)> on_created);

  /// One round of XGROUP CREATE, unless one is running or closed.
  void create();
  /// A command answered NOGROUP during `where`: log, create again.
  void lost(std::string_view where);
  bool ready() const { return ready_; }
  /// No more rounds (the relay is closing).
  void close() { closed_ = true; }

 private:
  void answered(bool ok);

  RelayRedis& redis_;
  const RelaySettings& settings_;
  RelayMetrics& metrics_;
  std::function<void(Result)> on_created_;
  bool ready_ = false;
  bool creating_ = false;
  bool closed_ = false;
  size_t pending_ = 0;
  bool failed_ = false;
};

}  // namespace streamshift
