// Entries of the stream contract v1 written straight into Redis, as the
// sidecar writes them: where the relay's tests start.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/redis_server.h"

namespace streamshift::testing {

/// XADDs an entry with every field of contract v1 (a chat_message for
/// POST /internal/broadcast/chat, application/json); the body names the
/// event and the room unless given. Returns the entry's id; a refusal fails
/// the test.
/// The same at a chosen id ("*": Redis picks one) with a chosen event_type.
std::string xadd_at(const RedisServer& redis, const std::string& stream, const std::string& id,
                    const std::string& event_id, const std::string& room,
                    const std::string& event_type, std::string body = {},
                    const std::string& ts_ms = "1700000000000");

std::string xadd(const RedisServer& redis, const std::string& event_id,
                 const std::string& room = "r-1", const std::string& stream = "events:chat",
                 std::string body = {}, const std::string& ts_ms = "1700000000000");

/// The same in events:chat, followed by `extra_fields` (name, value) as given:
/// `h:` fields, say, written by hand rather than by the sidecar.
std::string xadd_with(const RedisServer& redis, const std::string& event_id,
                      const std::vector<std::pair<std::string, std::string>>& extra_fields);

/// The XADD command of such an entry, followed by `extra_fields`: for a Redis
/// that is not a RedisServer (a cluster node), or a stream other than events:chat.
std::vector<std::string> entry_xadd_command(
    const std::string& stream, const std::string& id, const std::string& event_id,
    const std::string& room, const std::string& event_type, std::string body = {},
    const std::string& ts_ms = "1700000000000",
    const std::vector<std::pair<std::string, std::string>>& extra_fields = {});

/// The environment of a sidecar storing every event in the redis-server at
/// `redis_url` (the whole path's tests: sidecar -> Redis -> relay).
std::map<std::string, std::string> sidecar_storing_env(const std::string& redis_url);

}  // namespace streamshift::testing
