// Contract v1 entries for tests; see stream_entries.h.
#include "tests/support/stream_entries.h"

#include <gtest/gtest.h>

namespace streamshift::testing {

std::string xadd(const RedisServer& redis, const std::string& event_id, const std::string& room,
                 const std::string& stream, std::string body, const std::string& ts_ms) {
  return xadd_at(redis, stream, "*", event_id, room, "chat_message", std::move(body), ts_ms);
}

std::vector<std::string> entry_xadd_command(
    const std::string& stream, const std::string& id, const std::string& event_id,
    const std::string& room, const std::string& event_type, std::string body,
    const std::string& ts_ms, const std::vector<std::pair<std::string, std::string>>& extra) {
  if (body.empty()) body = "{\"event_id\":\"" + event_id + "\",\"room_id\":\"" + room + "\"}";
  std::vector<std::string> command = {"XADD",
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
                                      std::move(body)};
  for (const auto& [name, value] : extra) {
    command.push_back(name);
    command.push_back(value);
  }
  return command;
}

namespace {

std::string xadd_entry(const RedisServer& redis, const std::string& stream, const std::string& id,
                       const std::string& event_id, const std::string& room,
                       const std::string& event_type, std::string body, const std::string& ts_ms,
                       const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> command =
      entry_xadd_command(stream, id, event_id, room, event_type, std::move(body), ts_ms, extra);
  RedisValue r = redis.command(command);
  EXPECT_EQ(r.type, REDIS_REPLY_STRING) << r.str;
  return r.str;
}

}  // namespace

std::string xadd_at(const RedisServer& redis, const std::string& stream, const std::string& id,
                    const std::string& event_id, const std::string& room,
                    const std::string& event_type, std::string body, const std::string& ts_ms) {
  return xadd_entry(redis, stream, id, event_id, room, event_type, std::move(body), ts_ms, {});
}

std::string xadd_with(const RedisServer& redis, const std::string& event_id,
                      const std::vector<std::pair<std::string, std::string>>& extra_fields) {
  return xadd_entry(redis, "events:chat", "*", event_id, "r-1", "chat_message", {}, "1700000000000",
                    extra_fields);
}

std::map<std::string, std::string> sidecar_storing_env(const std::string& redis_url) {
  return {{"REDIS_URL", redis_url},
          {"EVENT_TRANSPORT_USE_REDIS_STREAMS", "true"},
          {"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"},
          {"EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", "2000"}};
}

}  // namespace streamshift::testing
