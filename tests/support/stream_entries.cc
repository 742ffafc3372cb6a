// Contract v1 entries for tests; see stream_entries.h.
#include "tests/support/stream_entries.h"

#include <gtest/gtest.h>

namespace streamshift::testing {

std::string xadd(const RedisServer& redis, const std::string& event_id, const std::string& room,
                 const std::string& stream, std::string body, const std::string& ts_ms) {
  return xadd_at(redis, stream, "*", event_id, room, "chat_message", std::move(body), ts_ms);
}

std::string xadd_at(const RedisServer& redis, const std::string& stream, const std::string& id,
                    const std::string& event_id, const std::string& room,
                    const std::string& event_type, std::string body, const std::string& ts_ms) {
  if (body.empty()) body = "{\"event_id\":\"" + event_id + "\",\"room_id\":\"" + room + "\"}";
  RedisValue r = redis.command({"XADD",
                                stream,
                                id,
                                "v",
                                "1",
                                "event_id",
                                event_id,
                                "event_type",
                                event_type,
                                "room_id",
                                room,
                                "ts_ms",
                                ts_ms,
                                "method",
                                "POST",
                                "path",
                                "/internal/broadcast/chat",
                                "content_type",
                                "application/json",
                                "body",
                                body});
  EXPECT_EQ(r.type, REDIS_REPLY_STRING) << r.str;
  return r.str;
}

std::map<std::string, std::string> sidecar_storing_env(const std::string& redis_url) {
  return {{"REDIS_URL", redis_url},
          {"EVENT_TRANSPORT_USE_REDIS_STREAMS", "true"},
          {"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"},
          {"EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", "2000"}};
}

}  // namespace streamshift::testing
