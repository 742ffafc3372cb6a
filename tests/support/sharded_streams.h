// Issue 18's sharded streams as end-to-end tests read them back from a
// Redis Cluster: shard k of the logical stream L is the stream `L:{s<k>}`
// (L itself when there is one shard), and a room's shard is FNV-1a (64 bit)
// of its room_id mod the shard count (docs/event-entry.md). Each shard
// stream is read from the primary owning its slot.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"

namespace streamshift::testing {

std::string shard_stream(std::string_view logical, int shards, int k);
/// The shard a room's events go to, as documented.
int documented_shard(std::string_view room_id, int shards);

/// Stream name -> its entries in order, for every shard of `logical` that
/// exists.
using ShardEntries = std::map<std::string, std::vector<StreamEntryView>>;
ShardEntries read_shards(const RedisClusterSet& cluster, std::string_view logical, int shards);

/// What the shard streams hold, checked against issue 18's promises.
struct ShardContents {
  std::map<std::string, std::set<std::string>> streams_of_room;  // room -> streams with its entries
  std::map<std::string, int> copies;                             // event_id -> entries carrying it
  /// "room r: a before b": entries of one room and one sender (event ids
  /// <prefix>-<sender>-<seq>, what EventLoad sends) whose order in the
  /// stream is not the order they were sent in.
  std::vector<std::string> out_of_order;
  /// Rooms found in another shard than documented_shard() says.
  std::vector<std::string> misplaced;
};
ShardContents check_shards(const ShardEntries& entries, int shards);

/// Posts a chat event to each of `rooms` rooms (probe-0, probe-1...) in
/// turn, until one whole pass is answered 202: the sidecar then writes to
/// every primary those rooms' shards are on. The probes' event ids are
/// probe-<room>-<pass>.
::testing::AssertionResult wait_accepting(uint16_t port, int rooms,
                                          std::chrono::milliseconds timeout);

/// Up to `n` of `items`, "; "-separated, for failure messages.
std::string first_few(const std::vector<std::string>& items, size_t n = 5);

/// `field`'s value in the `section` line of INFO <section> (for instance
/// INFO errorstats, "errorstat_MOVED", "count"; INFO commandstats,
/// "cmdstat_asking", "calls"); 0 when the line is absent.
long long info_stat(const RedisServer& node, const std::string& section, const std::string& line,
                    const std::string& field);

}  // namespace streamshift::testing
