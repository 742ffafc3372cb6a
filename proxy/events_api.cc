// The events API; see events_api.h.
#include "proxy/events_api.h"

#include <algorithm>
#include <utility>

#include "core/admin_auth.h"
#include "core/json.h"
#include "core/json_writer.h"
#include "proxy/inspection_query.h"

namespace streamshift {
namespace {

constexpr int64_t kDegradedLag = 100;    // from here on a stream is degraded
constexpr int64_t kUnhealthyLag = 1000;  // above it, unhealthy

std::string_view stream_status(const StreamLag& s) {
  if (s.failed) return "unhealthy";
  if (!s.lag) return "degraded";  // unknown lag: never reported as healthy
  if (*s.lag > kUnhealthyLag) return "unhealthy";
  if (*s.lag >= kDegradedLag || s.trimmed_unread) return "degraded";
  return "healthy";
}

struct LagTotals {
  int64_t total = 0;
  int64_t max = 0;
};

LagTotals lag_totals(const LagSnapshot& snapshot) {
  LagTotals t;
  for (const StreamLag& s : snapshot.streams) {
    if (s.lag && *s.lag > 0) {
      t.total += *s.lag;
      t.max = std::max(t.max, *s.lag);
    }
  }
  return t;
}

void write_lag(JsonWriter& json, const StreamLag& s) {
  json.key("lag");
  if (s.failed) {
    json.number(-1).key("error").string(s.error);
  } else if (!s.lag) {
    json.null().key("lag_unknown").string(s.lag_unknown_reason);
  } else {
    json.number(*s.lag);
  }
}

// One stream's members of the consumer-lag document; a sharded stream's
// shards each the same way, under "shards".
void write_stream_lag(JsonWriter& json, const StreamLag& s) {
  json.key(s.name).begin_object();
  write_lag(json, s);
  json.key("consumers").begin_array();
  for (const std::string& consumer : s.consumers) json.string(consumer);
  json.end_array().key("trimmed_unread").boolean(s.trimmed_unread);
  if (!s.shards.empty()) {
    json.key("shards").begin_object();
    for (const StreamLag& shard : s.shards) write_stream_lag(json, shard);
    json.end_object();
  }
  json.end_object();
}

void write_stream_row(JsonWriter& json, const StreamLag& s, std::string_view group) {
  json.begin_object().key("name").string(s.name);
  json.key("length").number(s.length).key("groups").number(s.groups);
  json.key("consumer_group").string(group);
  if (s.failed) json.key("error").string(s.error);
  if (!s.shards.empty()) {
    json.key("shards").begin_array();
    for (const StreamLag& shard : s.shards) write_stream_row(json, shard, group);
    json.end_array();
  }
  json.end_object();
}

}  // namespace

std::string consumer_lag_document(const LagSnapshot& snapshot) {
  JsonWriter json;
  json.begin_object().key("streams").begin_object();
  for (const StreamLag& s : snapshot.streams) write_stream_lag(json, s);
  json.end_object();
  json.key("total_lag").number(lag_totals(snapshot).total);
  json.key("stream_count").number(snapshot.streams.size());
  return json.end_object().take();
}

std::string streams_document(const LagSnapshot& snapshot, std::string_view group) {
  JsonWriter json;
  json.begin_object().key("streams").begin_array();
  for (const StreamLag& s : snapshot.streams) write_stream_row(json, s, group);
  return json.end_array().end_object().take();
}

std::string health_document(const LagSnapshot& snapshot, std::string_view group,
                            std::string_view transport_mode,
                            const RedisPrimaryStatus::View* redis) {
  int healthy = 0, degraded = 0, unhealthy = 0;
  for (const StreamLag& s : snapshot.streams) {
    std::string_view status = stream_status(s);
    healthy += status == "healthy";
    degraded += status == "degraded";
    unhealthy += status == "unhealthy";
  }
  LagTotals totals = lag_totals(snapshot);
  JsonWriter json;
  json.begin_object();
  json.key("status").string(unhealthy > 0 ? "unhealthy" : degraded > 0 ? "degraded" : "healthy");
  json.key("redis_connected").boolean(snapshot.redis_connected);
  if (!snapshot.redis_connected) json.key("redis_error").string(snapshot.redis_error);
  json.key("transport_mode").string(transport_mode);
  json.key("streams").begin_object();
  json.key("healthy").number(healthy).key("degraded").number(degraded);
  json.key("unhealthy").number(unhealthy).end_object();
  json.key("max_lag").number(totals.max).key("total_lag").number(totals.total);
  json.key("consumer_group").string(group);
  if (redis != nullptr) {
    json.key("redis").begin_object().key("primary");
    if (redis->primary.empty()) {
      json.null();
    } else {
      json.string(redis->primary);
    }
    json.key("failovers").number(redis->failovers);
    json.key("seconds_without_primary")
        .number(static_cast<int64_t>(redis->seconds_without_primary))  // whole seconds
        .end_object();
  }
  return json.end_object().take();
}

std::string transport_mode(const TransportSettings& t) {
  if (!t.use_redis_streams) return "http";
  if (t.dual_write) return "dual_write";
  if (t.redis_percentage >= 100) return "redis_streams";
  if (t.redis_percentage <= 0) return "http";
  return "mixed";
}

EventsApi::EventsApi(std::string token, std::string transport_mode, LagMonitor& lag,
                     std::shared_ptr<const RedisPrimaryStatus> redis_primary,
                     StreamInspection* inspection)
    : token_(std::move(token)),
      transport_mode_(std::move(transport_mode)),
      lag_(lag),
      redis_primary_(std::move(redis_primary)),
      inspection_(inspection) {}

void EventsApi::serve(Exchange& exchange, std::string_view endpoint) {
  if (!admin_authorized(exchange, token_,
                        "STREAMSHIFT_ADMIN_TOKEN is not set: the events API is off"))
    return;
  using Document = std::string (*)(const EventsApi&, const LagSnapshot&);
  Document document;
  if (endpoint == "consumer-lag") {
    document = [](const EventsApi&, const LagSnapshot& s) { return consumer_lag_document(s); };
  } else if (endpoint == "streams") {
    document = [](const EventsApi& api, const LagSnapshot& s) {
      return streams_document(s, api.lag_.group());
    };
  } else if (endpoint == "health") {
    document = [](const EventsApi& api, const LagSnapshot& s) {
      if (!api.redis_primary_) return health_document(s, api.lag_.group(), api.transport_mode_);
      RedisPrimaryStatus::View redis = api.redis_primary_->view();
      return health_document(s, api.lag_.group(), api.transport_mode_, &redis);
    };
  } else if (inspection_ != nullptr && is_inspection_endpoint(endpoint)) {
    inspection_->serve(exchange, endpoint);
    return;
  } else {
    exchange.respond_json(404, json_error_body("not_found", "no such events endpoint"));
    return;
  }
  Exchange* ex = &exchange;
  lag_.get([this, ex, document](const LagSnapshot& snapshot) {
    ex->respond_json(200, document(*this, snapshot));
  });
}

}  // namespace streamshift
