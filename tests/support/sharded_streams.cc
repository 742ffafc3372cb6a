// Sharded streams read back from a cluster; see sharded_streams.h.
#include "tests/support/sharded_streams.h"

#include <charconv>
#include <memory>
#include <optional>
#include <sstream>

#include "tests/support/eventually.h"
#include "tests/support/net.h"

namespace streamshift::testing {

std::string shard_stream(std::string_view logical, int shards, int k) {
  if (shards <= 1) return std::string(logical);
  return std::string(logical) + ":{s" + std::to_string(k) + "}";
}

int documented_shard(std::string_view room_id, int shards) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : room_id) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ULL;
  }
  return static_cast<int>(h % static_cast<uint64_t>(shards));
}

ShardEntries read_shards(const RedisClusterSet& cluster, std::string_view logical, int shards) {
  ShardEntries out;
  for (int k = 0; k < shards; ++k) {
    std::string stream = shard_stream(logical, shards, k);
    std::vector<StreamEntryView> entries = cluster.read_stream(stream);
    if (!entries.empty()) out[stream] = std::move(entries);
  }
  return out;
}

ShardContents check_shards(const ShardEntries& entries, int shards) {
  ShardContents c;
  for (const auto& [stream, list] : entries) {
    // (room, sender) -> the last sequence number and event id seen.
    std::map<std::pair<std::string, std::string>, std::pair<long, std::string>> last;
    for (const StreamEntryView& e : list) {
      const std::string room = e.field("room_id"), id = e.field("event_id");
      c.streams_of_room[room].insert(stream);
      ++c.copies[id];
      if (stream != shard_stream(stream.substr(0, stream.find(":{s")), shards,
                                 documented_shard(room, shards)))
        c.misplaced.push_back(room + " in " + stream);
      size_t dash = id.rfind('-');
      long seq = 0;
      if (dash == std::string::npos ||
          std::from_chars(id.data() + dash + 1, id.data() + id.size(), seq).ec != std::errc())
        continue;  // not sent by EventLoad or wait_accepting: no order to check
      auto [it, first] = last.try_emplace({room, id.substr(0, dash)}, seq, id);
      if (!first) {
        if (seq <= it->second.first)
          c.out_of_order.push_back("room " + room + " in " + stream + ": " + it->second.second +
                                   " before " + id);
        it->second = {seq, id};
      }
    }
  }
  return c;
}

::testing::AssertionResult wait_accepting(uint16_t port, int rooms,
                                          std::chrono::milliseconds timeout) {
  std::unique_ptr<TestClient> client;
  int pass = 0;
  std::string last;
  auto all = eventually(
      [&] {
        for (int room = 0; room < rooms; ++room) {
          if (!client || !client->connected()) client = std::make_unique<TestClient>(port);
          const std::string id = "probe-" + std::to_string(room) + "-" + std::to_string(pass);
          const std::string body = "{\"event_type\":\"chat_message\",\"room_id\":\"probe-" +
                                   std::to_string(room) + "\",\"event_id\":\"" + id + "\"}";
          std::optional<ParsedResponse> r = client->request(make_request(
              "POST", "/internal/broadcast/chat", body, "Content-Type: application/json\r\n"));
          if (!r || r->status != 202) {
            last = id + ": " + (r ? std::to_string(r->status) + " " + r->body : "no answer");
            client.reset();
            ++pass;
            return false;
          }
        }
        return true;
      },
      timeout, "a pass of probe events all answered 202");
  if (!all) all << "; last refusal " << last;
  return all;
}

std::string first_few(const std::vector<std::string>& items, size_t n) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < n; ++i) out += (i ? "; " : "") + items[i];
  return out;
}

long long info_stat(const RedisServer& node, const std::string& section, const std::string& line,
                    const std::string& field) {
  std::istringstream info(node.command({"INFO", section}).str);
  for (std::string l; std::getline(info, l);) {
    if (l.rfind(line + ":", 0) != 0) continue;
    size_t at = l.find(field + "=");
    if (at == std::string::npos) return 0;
    return std::strtoll(l.c_str() + at + field.size() + 1, nullptr, 10);
  }
  return 0;
}

}  // namespace streamshift::testing
