// Everything the event path talks to, behind one small interface so that the router and
// the sender are unit-tested without a network: Redis (XADD), the upstream (the HTTP
// bridge) and the client waiting for its answer. LiveLinks is the real thing.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "core/http_server.h"
#include "core/redis_commands.h"
#include "proxy/event.h"
#include "proxy/event_accounting.h"
#include "proxy/event_answers.h"
#include "proxy/http_bridge.h"
#include "proxy/stream_entry.h"
#include "proxy/transport_settings.h"

namespace streamshift {

class EventLinks {
 public:
  virtual ~EventLinks() = default;

  /// A Redis client exists (the settings need Redis).
  virtual bool has_redis() const = 0;
  /// Redis connections ready now.
  virtual size_t redis_ready() const = 0;
  /// XADD of `entry` (copied before this returns); `done(data, result)` runs exactly once,
  /// maybe before this returns.
  virtual void xadd(const StreamEntry& entry, RedisCallback done, void* data) = 0;

  /// Forwards the client's request upstream (with `event_id`, as its X-Event-Id); the
  /// answer goes back to the client with `extra_headers`.
  virtual void forward(Exchange& client, std::string extra_headers, std::string_view event_id,
                       HttpTally tally) = 0;
  /// Sends a held event upstream; nobody waits: `done(ok)` when it has been answered.
  virtual void send_held(Event& event, HttpTally tally, std::function<void(bool ok)> done) = 0;
  /// The sidecar's own answer to the client.
  virtual void respond(Exchange& client, Answer answer) = 0;
};

class LiveLinks final : public EventLinks {
 public:
  /// `redis` is null when the settings need no Redis.
  LiveLinks(RedisCommands* redis, HttpBridge& bridge, const TransportSettings& settings)
      : redis_(redis), bridge_(bridge), settings_(&settings) {}
  /// The settings in force from now on (issue 19).
  void use(const TransportSettings& settings) { settings_ = &settings; }
  /// Redis from now on (created when a runtime change first needs it).
  void use_redis(RedisCommands* redis) { redis_ = redis; }

  bool has_redis() const override { return redis_ != nullptr; }
  size_t redis_ready() const override { return redis_ ? redis_->ready_connections() : 0; }
  void xadd(const StreamEntry& entry, RedisCallback done, void* data) override;
  void forward(Exchange& client, std::string extra_headers, std::string_view event_id,
               HttpTally tally) override;
  void send_held(Event& event, HttpTally tally, std::function<void(bool ok)> done) override;
  void respond(Exchange& client, Answer answer) override;

 private:
  RedisCommands* redis_;
  HttpBridge& bridge_;
  const TransportSettings* settings_;
};

}  // namespace streamshift
