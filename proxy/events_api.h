// The events API of the consumer-lag monitoring document, on the admin
// listener behind Authorization: Bearer STREAMSHIFT_ADMIN_TOKEN (no token
// configured: 403; missing or wrong: 401 with WWW-Authenticate):
//   /api/v1/events/consumer-lag   per stream: lag, consumers, trimmed_unread
//   /api/v1/events/streams        per stream: length, groups, consumer_group
//   /api/v1/events/health         healthy / degraded / unhealthy by lag
// Each answer is built from one LagMonitor snapshot by a pure function.
// Under the same token, the stream inspection API (stream_inspection.h):
//   /api/v1/events/streams/{stream}/entries, .../pending, /api/v1/events/dlq
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/admin_auth.h"
#include "core/http_server.h"
#include "core/redis_primary_status.h"
#include "proxy/lag_monitor.h"
#include "proxy/stream_inspection.h"
#include "proxy/transport_settings.h"

namespace streamshift {

class EventsApi {
 public:
  /// `token` empty: the API answers 403.
  /// `redis_primary`: the process's (null: the health answer has no "redis").
  /// `inspection`: null, the inspection endpoints are 404.
  EventsApi(std::string token, std::string transport_mode, LagMonitor& lag,
            std::shared_ptr<const RedisPrimaryStatus> redis_primary = nullptr,
            StreamInspection* inspection = nullptr);

  /// Answers `endpoint` (the path after /api/v1/events/), after the
  /// look-up when authorized.
  void serve(Exchange& exchange, std::string_view endpoint);
  /// A runtime change of the rollout (issue 19), on the admin loop.
  void set_transport_mode(std::string mode) { transport_mode_ = std::move(mode); }

 private:
  std::string token_;
  std::string transport_mode_;
  LagMonitor& lag_;
  std::shared_ptr<const RedisPrimaryStatus> redis_primary_;
  StreamInspection* inspection_;
};

/// {"streams":{"<name>":{"lag":..,"consumers":[..],"trimmed_unread":..},..},
///  "total_lag":..,"stream_count":..}; a failed look-up is lag -1 with
/// "error", an unknown lag null with "lag_unknown".
std::string consumer_lag_document(const LagSnapshot& snapshot);
/// {"streams":[{"name":..,"length":..,"groups":..,"consumer_group":..},..]}
std::string streams_document(const LagSnapshot& snapshot, std::string_view group);
/// {"status":..,"redis_connected":..,"transport_mode":..,"streams":{"healthy":..,
///  "degraded":..,"unhealthy":..},"max_lag":..,"total_lag":..,"consumer_group":..},
/// the consumer-lag document's shape; while Redis is not connected, with
/// "redis_error" after "redis_connected" (why: a TLS failure, a refusal).
/// With `redis`, last: "redis":{"primary":"host:port" (null before the first),
/// "failovers":..,"seconds_without_primary":..}.
std::string health_document(const LagSnapshot& snapshot, std::string_view group,
                            std::string_view transport_mode,
                            const RedisPrimaryStatus::View* redis = nullptr);

/// "http", "redis_streams", "dual_write" or "mixed": what the rollout sends where.
std::string transport_mode(const TransportSettings& transport);

}  // namespace streamshift
