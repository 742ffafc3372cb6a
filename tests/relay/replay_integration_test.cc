// `streamshift replay` through the real binary, against a real
// redis-server and a recording HTTP target: exact time ranges in order with
// the relay's request, filters, dry run, delivered marks, failures and
// retries, sharded streams, the consumer group left alone, the rate bound,
// and its refusals (exit 2) and an unreachable Redis (exit 3).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/stream_id.h"
#include "tests/support/delivery_target.h"
#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"
#include "tests/support/stream_entries.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_upstream.h"

namespace streamshift::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr long long kT0 = 1796040000000;  // 2026-11-30T12:00:00Z

// A contract v1 entry with a chosen id (so its time is known); the body
// names the event.
void add_entry(const RedisServer& redis, const std::string& id, const std::string& event_id,
               const std::string& room, const std::string& event_type = "chat_message",
               const std::string& stream = "events:chat") {
  ASSERT_EQ(xadd_at(redis, stream, id, event_id, room, event_type, "{\"id\":\"" + event_id + "\"}"),
            id);
}

std::string id_at(long long ms, int seq = 0) {
  return std::to_string(ms) + "-" + std::to_string(seq);
}

struct ReplayRun {
  int status = -1;
  std::string output;  // stdout and stderr
  milliseconds took{0};
};

class Replay : public ::testing::Test {
 protected:
  std::map<std::string, std::string> env() const {
    return {{"REDIS_URL", redis_.url()},
            {"STREAMSHIFT_RELAY_TARGET_URL", "http://127.0.0.1:" + std::to_string(target_.port())},
            {"STREAMSHIFT_STREAMS", "events:chat,events:ticket"},
            // Pages of 2 entries: every range here spans several pages.
            {"STREAMSHIFT_RELAY_READ_COUNT", "2"},
            {"STREAMSHIFT_RELAY_RETRY_INITIAL_MS", "20"},
            {"STREAMSHIFT_RELAY_RETRY_MAX_MS", "50"},
            {"LOG_LEVEL", "warn"}};
  }
  ReplayRun replay(std::vector<std::string> args, std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> e = env();
    for (auto& [k, v] : extra) e[k] = v;
    args.insert(args.begin(), {streamshift_binary(), "replay"});
    auto started = std::chrono::steady_clock::now();
    ChildProcess p(args, e);
    ReplayRun run;
    run.status = p.wait(seconds(60));
    run.took = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
    run.output = p.output();
    return run;
  }
  // Event ids in the order the target received them, from its `from`th request.
  std::vector<std::string> received(size_t from = 0) {
    std::vector<std::string> ids;
    std::vector<ReceivedRequest> all = target_.upstream().requests();
    for (size_t i = from; i < all.size(); ++i)
      ids.push_back(all[i].header("X-Event-Id").value_or("?"));
    return ids;
  }
  // Ten entries a second apart from kT0, rooms r-0..r-2; ev-4b shares ev-4's millisecond.
  void ten_entries() {
    for (int i = 0; i < 10; ++i) {
      add_entry(redis_, id_at(kT0 + i * 1000), "ev-" + std::to_string(i),
                "r-" + std::to_string(i % 3), i % 2 == 0 ? "chat_message" : "typing");
      if (i == 4) add_entry(redis_, id_at(kT0 + i * 1000, 1), "ev-4b", "r-1");
    }
  }

  RedisServer redis_;
  DeliveryTarget target_;
};

TEST_F(Replay, ATimeRangeDeliversExactlyItsEntriesInOrderWithTheRelaysRequest) {
  ten_entries();
  add_entry(redis_, id_at(kT0 + 3000), "other-stream", "r-0", "chat_message", "events:ticket");
  // 12:00:02 to 12:00:07 inclusive (12:00:07.000 as 13:00:07+01:00): ev-2..ev-7 and ev-4b.
  // The relay's request includes its headers file (STREAMSHIFT_RELAY_HEADERS_FILE).
  TempDir dir("replay-headers");
  write_file_atomically(dir.file("headers"), "X-Api-Key: replay-key\n");
  ReplayRun run = replay({"--stream", "events:chat", "--from", "2026-11-30T12:00:02Z", "--to",
                          "2026-11-30T13:00:07+01:00"},
                         {{"STREAMSHIFT_RELAY_CONCURRENCY", "1"},
                          {"STREAMSHIFT_RELAY_HEADERS_FILE", dir.file("headers")}});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("delivered 7, failed 0, skipped 0"), std::string::npos) << run.output;
  EXPECT_EQ(received(),
            (std::vector<std::string>{"ev-2", "ev-3", "ev-4", "ev-4b", "ev-5", "ev-6", "ev-7"}));
  EXPECT_EQ(run.output.find("\rreplay:"), std::string::npos) << "progress only on a terminal";
  for (const ReceivedRequest& r : target_.upstream().requests()) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/internal/broadcast/chat");
    EXPECT_EQ(r.header("Content-Type").value_or(""), "application/json");
    EXPECT_EQ(r.header("X-Event-Transport").value_or(""), "redis_streams");
    EXPECT_EQ(r.header("X-Api-Key").value_or(""), "replay-key");
    EXPECT_EQ(r.body, "{\"id\":\"" + r.header("X-Event-Id").value_or("") + "\"}");
    EXPECT_EQ(r.header("Content-Length").value_or(""), std::to_string(r.body.size()));
  }
  // Ids as bounds: 12:00:04.000-1 (ev-4b) to the whole millisecond 12:00:05.
  size_t seen = target_.upstream().request_count();
  run = replay({"--stream", "events:chat", "--from", id_at(kT0 + 4000, 1), "--to",
                std::to_string(kT0 + 5000)},
               {{"STREAMSHIFT_RELAY_CONCURRENCY", "1"}});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(received(seen), (std::vector<std::string>{"ev-4b", "ev-5"}));
}

TEST_F(Replay, RoomsKeepStreamOrderWhenDeliveredInParallel) {
  for (int i = 0; i < 60; ++i)
    add_entry(redis_, id_at(kT0 + i), "ev-" + std::to_string(i), "r-" + std::to_string(i % 4));
  target_.set_policy([](const ReceivedRequest& r) {
    UpstreamReply reply;
    // Room r-0 answers slowly: the others overtake it, never their own.
    if (r.body.find("ev-0") != std::string::npos || r.body.find("ev-4\"") != std::string::npos)
      reply.delay = milliseconds(50);
    return reply;
  });
  ReplayRun run =
      replay({"--stream", "events:chat", "--from", std::to_string(kT0)},
             {{"STREAMSHIFT_RELAY_CONCURRENCY", "4"}, {"STREAMSHIFT_RELAY_READ_COUNT", "20"}});
  ASSERT_EQ(run.status, 0) << run.output;
  std::map<int, std::vector<int>> by_room;
  for (const std::string& id : received()) {
    int n = std::stoi(id.substr(3));
    by_room[n % 4].push_back(n);
  }
  ASSERT_EQ(by_room.size(), 4u);
  for (auto& [room, seen] : by_room) {
    EXPECT_EQ(seen.size(), 15u);
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end())) << "room r-" << room;
  }
  EXPECT_GT(target_.max_concurrent(), 1);
}

// STREAMSHIFT_RELAY_ORDERING=none: one room's entries are in flight together.
TEST_F(Replay, OrderingNoneDeliversOneRoomsEntriesInParallel) {
  for (int i = 0; i < 8; ++i) add_entry(redis_, id_at(kT0 + i), "ev-" + std::to_string(i), "r-0");
  target_.set_policy([](const ReceivedRequest&) {
    UpstreamReply reply;
    reply.delay = milliseconds(100);
    return reply;
  });
  ReplayRun run = replay({"--stream", "events:chat", "--from", std::to_string(kT0)},
                         {{"STREAMSHIFT_RELAY_CONCURRENCY", "8"},
                          {"STREAMSHIFT_RELAY_READ_COUNT", "8"},
                          {"STREAMSHIFT_RELAY_ORDERING", "none"}});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("delivered 8, failed 0, skipped 0"), std::string::npos) << run.output;
  EXPECT_GT(target_.max_concurrent(), 1);
}

TEST_F(Replay, FiltersOnRoomAndEventType) {
  ten_entries();
  ReplayRun run = replay({"--stream", "events:chat", "--from", "2026-11-30T12:00:00Z", "--to",
                          "2026-11-30T12:00:10Z", "--room", "r-1"});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(received(), (std::vector<std::string>{"ev-1", "ev-4", "ev-4b", "ev-7"}));
  EXPECT_NE(run.output.find("delivered 4, failed 0, skipped 0"), std::string::npos) << run.output;

  size_t seen = target_.upstream().request_count();
  run = replay({"--stream", "events:chat", "--from", "2026-11-30T12:00:00Z", "--to",
                "2026-11-30T12:00:10Z", "--room", "r-1", "--event-type", "typing"},
               {{"STREAMSHIFT_RELAY_CONCURRENCY", "1"}});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(received(seen), (std::vector<std::string>{"ev-1", "ev-7"}));
}

// Pages of two (STREAMSHIFT_RELAY_READ_COUNT) move on by exclusive starts,
// which the largest id cannot have: a full page ending there ends the range.
TEST_F(Replay, AStreamEndingAtTheLargestIdReplaysToItsEnd) {
  add_entry(redis_, "5-0", "ev-a", "r-0");
  add_entry(redis_, std::string(kLargestStreamId), "ev-z", "r-0");
  ReplayRun run =
      replay({"--stream", "events:chat", "--from", "1-0", "--to", std::string(kLargestStreamId)});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("delivered 2, failed 0, skipped 0"), std::string::npos) << run.output;
  EXPECT_EQ(received(), (std::vector<std::string>{"ev-a", "ev-z"}));
}

TEST_F(Replay, DryRunListsWhatWouldBeDeliveredAndSendsNothing) {
  ten_entries();
  ReplayRun run =
      replay({"--stream", "events:chat", "--from", "2026-11-30T12:00:08Z", "--dry-run"});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(
      run.output.find("events:chat " + id_at(kT0 + 8000) + " room=r-2 event_type=chat_message"),
      std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("events:chat " + id_at(kT0 + 9000) + " room=r-0 event_type=typing"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("delivered 0, failed 0, skipped 0"), std::string::npos);
  EXPECT_NE(run.output.find("dry run: 2 would be delivered"), std::string::npos);
  EXPECT_EQ(target_.upstream().requests().size(), 0u);
}

TEST_F(Replay, StreamTextReachesTheTerminalEscaped) {
  // Whoever can write the stream cannot drive the on-call's terminal.
  add_entry(redis_, id_at(kT0), "ev-1", "r-\x1b[2J", "chat\x1b[31m");
  ReplayRun run = replay({"--stream", "events:chat", "--from", std::to_string(kT0), "--dry-run"});
  EXPECT_EQ(run.output.find('\x1b'), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("\\x1b"), std::string::npos) << run.output;
}

TEST_F(Replay, MarksAreIgnoredUnlessSkipDeliveredAndNeverSet) {
  ten_entries();
  redis_.command({"SET", "streamshift:delivered:ev-1", "1"});
  redis_.command({"SET", "streamshift:delivered:ev-3", "1"});
  std::vector<std::string> from = {
      "--stream", "events:chat", "--from", "2026-11-30T12:00:00Z", "--to", "2026-11-30T12:00:03Z"};
  ReplayRun run = replay(from);
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(received().size(), 4u);
  size_t seen = target_.upstream().request_count();

  from.push_back("--skip-delivered");
  run = replay(from, {{"STREAMSHIFT_RELAY_CONCURRENCY", "1"}});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(received(seen), (std::vector<std::string>{"ev-0", "ev-2"}));
  EXPECT_NE(run.output.find("delivered 2, failed 0, skipped 2"), std::string::npos) << run.output;
  // Replay sets no marks.
  EXPECT_EQ(redis_.command({"EXISTS", "streamshift:delivered:ev-0"}).integer, 0);
}

TEST_F(Replay, SkipDeliveredReadsTaggedMarksOfAShardedStream) {
  std::string shard = "events:chat:{s1}";
  add_entry(redis_, id_at(kT0), "ev-a", "r-1", "chat_message", shard);
  add_entry(redis_, id_at(kT0 + 1), "ev-b", "r-1", "chat_message", shard);
  redis_.command({"SET", "streamshift:delivered:{s1}:ev-a", "1"});
  redis_.command(
      {"SET", "streamshift:delivered:ev-b", "1"});  // an untagged mark: not this stream's
  ReplayRun run = replay({"--stream", shard, "--from", "0", "--skip-delivered"},
                         {{"EVENT_TRANSPORT_STREAM_SHARDS", "4"}});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(received(), (std::vector<std::string>{"ev-b"}));
}

TEST_F(Replay, APermanentRefusalFailsTheRunWithExit1) {
  ten_entries();
  target_.set_policy([](const ReceivedRequest& r) {
    UpstreamReply reply;
    if (r.header("X-Event-Id") == "ev-2") reply.status = 400;
    return reply;
  });
  ReplayRun run = replay({"--stream", "events:chat", "--from", "2026-11-30T12:00:00Z", "--to",
                          "2026-11-30T12:00:03Z"});
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("delivered 3, failed 1, skipped 0"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("(event_id ev-2): HTTP 400 after 1 attempt"), std::string::npos)
      << run.output;
  // Permanent: tried once.
  std::vector<std::string> got = received();
  EXPECT_EQ(std::count(got.begin(), got.end(), "ev-2"), 1);
}

TEST_F(Replay, RetryableAnswersAreRetriedUpToMaxDeliveries) {
  ten_entries();
  std::atomic<int> ev1_calls{0};
  target_.set_policy([&](const ReceivedRequest& r) {
    UpstreamReply reply;
    if (r.header("X-Event-Id") == "ev-1" && ++ev1_calls < 3) reply.status = 503;
    if (r.header("X-Event-Id") == "ev-2") reply.status = 429;
    return reply;
  });
  ReplayRun run = replay(
      {"--stream", "events:chat", "--from", "2026-11-30T12:00:01Z", "--to", "2026-11-30T12:00:02Z"},
      {{"STREAMSHIFT_MAX_DELIVERIES", "4"}});
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_EQ(ev1_calls.load(), 3);
  std::vector<std::string> got = received();
  EXPECT_EQ(std::count(got.begin(), got.end(), "ev-2"), 4);
  EXPECT_NE(run.output.find("delivered 1, failed 1, skipped 0"), std::string::npos) << run.output;
}

TEST_F(Replay, MalformedEntriesAreSkippedWithTheirReason) {
  add_entry(redis_, id_at(kT0), "ev-0", "r-0");
  redis_.command({"XADD", "events:chat", id_at(kT0 + 1), "v", "1", "event_id", "ev-bad"});
  add_entry(redis_, id_at(kT0 + 2), "ev-2", "r-0");
  ReplayRun run = replay({"--stream", "events:chat", "--from", "0"});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(received(), (std::vector<std::string>{"ev-0", "ev-2"}));
  EXPECT_NE(run.output.find("skipped events:chat " + id_at(kT0 + 1) + ": malformed: missing field"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("delivered 2, failed 0, skipped 1"), std::string::npos) << run.output;
}

TEST_F(Replay, ALogicalStreamReplaysEveryShard) {
  std::set<std::string> all;
  for (int k = 0; k < 4; ++k) {
    for (int i = 0; i < 3; ++i) {
      std::string id = "s" + std::to_string(k) + "-" + std::to_string(i);
      add_entry(redis_, id_at(kT0 + i), id, "r-" + std::to_string(k), "chat_message",
                "events:chat:{s" + std::to_string(k) + "}");
      all.insert(id);
    }
  }
  std::map<std::string, std::string> sharded = {{"EVENT_TRANSPORT_STREAM_SHARDS", "4"}};
  ReplayRun run = replay({"--stream", "events:chat", "--from", "0"}, sharded);
  ASSERT_EQ(run.status, 0) << run.output;
  std::vector<std::string> got = received();
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), all);
  EXPECT_EQ(got.size(), all.size());

  size_t seen = target_.upstream().request_count();
  run = replay({"--stream", "events:chat:{s2}", "--from", "0"}, sharded);
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(received(seen), (std::vector<std::string>{"s2-0", "s2-1", "s2-2"}));
}

TEST_F(Replay, LeavesTheConsumerGroupAsItWas) {
  ten_entries();
  redis_.command({"XGROUP", "CREATE", "events:chat", "signalr-consumers", "0"});
  redis_.command({"XREADGROUP", "GROUP", "signalr-consumers", "relay-a", "COUNT", "3", "STREAMS",
                  "events:chat", ">"});
  auto group_state = [&] {
    RedisValue groups = redis_.command({"XINFO", "GROUPS", "events:chat"});
    RedisValue pending = redis_.command({"XPENDING", "events:chat", "signalr-consumers"});
    std::string state;
    for (const RedisValue& g : groups.elements)
      for (const RedisValue& v : g.elements) state += v.str + std::to_string(v.integer) + " ";
    for (const RedisValue& v : pending.elements) state += v.str + std::to_string(v.integer) + " ";
    return state;
  };
  std::string before = group_state();
  ASSERT_NE(before.find("last-delivered-id"), std::string::npos) << before;
  ReplayRun run = replay({"--stream", "events:chat", "--from", "0"});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(received().size(), 11u);
  EXPECT_EQ(group_state(), before);
}

TEST_F(Replay, RateBoundsDeliveryStarts) {
  for (int i = 0; i < 20; ++i)
    add_entry(redis_, id_at(kT0 + i), "ev-" + std::to_string(i), "r-" + std::to_string(i));
  ReplayRun run = replay({"--stream", "events:chat", "--from", "0", "--rate", "10"},
                         {{"STREAMSHIFT_RELAY_READ_COUNT", "100"}});
  ASSERT_EQ(run.status, 0) << run.output;
  auto deliveries = target_.deliveries();
  ASSERT_EQ(deliveries.size(), 20u);
  auto first = std::chrono::steady_clock::time_point::max();
  auto last = std::chrono::steady_clock::time_point::min();
  for (const auto& [id, list] : deliveries) {
    first = std::min(first, list.front().at);
    last = std::max(last, list.front().at);
  }
  // 20 starts at 10/s with a burst of one: 19 intervals of 100 ms.
  auto spread = std::chrono::duration_cast<milliseconds>(last - first);
  EXPECT_GE(spread.count(), 1700) << run.output;  // the first may wait for its connection
  EXPECT_GE(run.took.count(), 1800);
}

TEST_F(Replay, ShowsProgressOnATerminal) {
  for (int i = 0; i < 6; ++i)
    add_entry(redis_, id_at(kT0 + i), "ev-" + std::to_string(i), "r-" + std::to_string(i));
  // script(1) (util-linux) runs the command on a pseudo-terminal; 6 starts
  // at 5/s take over a second: several progress rewrites.
  std::string command = streamshift_binary() + " replay --stream events:chat --from 0 --rate 5";
  ASSERT_EQ(access("/usr/bin/script", X_OK), 0) << "script(1) is missing: apt-get install bsdutils";
  ChildProcess p({"/usr/bin/script", "-qec", command, "/dev/null"}, env());
  ASSERT_EQ(p.wait(seconds(60)), 0) << p.output();
  std::string out = p.output();
  EXPECT_NE(out.find("\rreplay: read 6, delivered "), std::string::npos) << out;
  EXPECT_NE(out.find("delivered 6, failed 0, skipped 0"), std::string::npos) << out;
}

TEST_F(Replay, RefusesBadArgumentsAndUnknownStreamsWithExit2) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"--stream", "events:chat"},
           {"--stream", "events:chat", "--from", "yesterday"},
           {"--stream", "events:chat", "--from", "0", "--rate", "fast"},
           {"--stream", "events:chat", "--from", "0", "--bogus"}}) {
    ReplayRun run = replay(args);
    EXPECT_EQ(run.status, 2) << run.output;
    EXPECT_NE(run.output.find("usage: streamshift replay"), std::string::npos) << run.output;
  }
  ReplayRun run = replay({"--stream", "events:nope", "--from", "0"});
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("stream 'events:nope' is neither a stream of STREAMSHIFT_STREAMS "
                            "(events:chat, events:ticket)"),
            std::string::npos)
      << run.output;
  run = replay({"--stream", "events:chat", "--from", "0"},
               {{"STREAMSHIFT_RELAY_CONCURRENCY", "lots"}});
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("STREAMSHIFT_RELAY_CONCURRENCY"), std::string::npos) << run.output;
  run = replay({"--help"});
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("--skip-delivered"), std::string::npos);
  EXPECT_EQ(target_.upstream().requests().size(), 0u);
}

TEST_F(Replay, AnUnreachableRedisEndsTheRunWithExit3) {
  ReplayRun run = replay({"--stream", "events:chat", "--from", "0"},
                         {{"REDIS_URL", "redis://127.0.0.1:" + std::to_string(free_port())},
                          {"STREAMSHIFT_RELAY_REDIS_TIMEOUT_MS", "500"}});
  EXPECT_EQ(run.status, 3) << run.output;
  EXPECT_NE(run.output.find("streamshift replay: cannot reach Redis at redis://127.0.0.1:"),
            std::string::npos)
      << run.output;
  EXPECT_LT(run.took.count(), 20000);
}

// On Redis Cluster: every shard of the logical stream read from the primary
// owning it, the tagged marks looked up in the shard's slot.
TEST(ReplayCluster, ReplaysEveryShardFromItsPrimaryAndReadsItsTaggedMarks) {
  RedisClusterSet cluster(ClusterShape{.primaries = 3, .replicas_per_primary = 0});
  ASSERT_TRUE(cluster.ready());
  DeliveryTarget target;
  std::set<std::string> expected;
  std::set<size_t> owners;
  for (int k = 0; k < 4; ++k) {
    std::string stream = "events:chat:{s" + std::to_string(k) + "}";
    RedisValue slot = cluster.command_on(0, {"CLUSTER", "KEYSLOT", stream});
    size_t owner = cluster.node_for_slot(static_cast<uint16_t>(slot.integer));
    ASSERT_NE(owner, RedisClusterSet::kNone);
    owners.insert(owner);
    for (int i = 0; i < 3; ++i) {
      std::string event_id = "s" + std::to_string(k) + "-" + std::to_string(i);
      RedisValue r = cluster.command_on(
          owner, entry_xadd_command(stream, id_at(kT0 + i), event_id, "r-" + std::to_string(k),
                                    "chat_message", "{}", "1796040000000"));
      ASSERT_EQ(r.type, REDIS_REPLY_STRING) << r.str;
      if (i != 1) expected.insert(event_id);
    }
    // Each shard's middle entry was delivered by the relay already.
    cluster.command_on(
        owner,
        {"SET", "streamshift:delivered:{s" + std::to_string(k) + "}:s" + std::to_string(k) + "-1",
         "1"});
  }
  ASSERT_GT(owners.size(), 1u) << "the shards should spread over primaries";
  ChildProcess p(
      {streamshift_binary(), "replay", "--stream", "events:chat", "--from", "0",
       "--skip-delivered"},
      {{"REDIS_URL", cluster.seed_url()},
       {"STREAMSHIFT_RELAY_TARGET_URL", "http://127.0.0.1:" + std::to_string(target.port())},
       {"STREAMSHIFT_STREAMS", "events:chat"},
       {"EVENT_TRANSPORT_STREAM_SHARDS", "4"},
       {"STREAMSHIFT_RELAY_READ_COUNT", "2"}});
  ASSERT_EQ(p.wait(seconds(60)), 0) << p.output();
  EXPECT_NE(p.output().find("delivered 8, failed 0, skipped 4"), std::string::npos) << p.output();
  std::set<std::string> got;
  for (const auto& [id, count] : target.delivered()) {
    got.insert(id);
    EXPECT_EQ(count, 1) << id;
  }
  EXPECT_EQ(got, expected);
}

}  // namespace
}  // namespace streamshift::testing
