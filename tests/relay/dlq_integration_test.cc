// `streamshift dlq` through the real binary, against a real redis-server,
// with the real relay delivering to a recording target: dead letters of a
// target that answered 400 are listed, shown, and redriven once the target
// is fixed: each delivered once, the DLQ empty; --reason, a missing id, a
// source stream nobody consumes, usage errors, and Redis Cluster.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <utility>

#include "core/stream_id.h"
#include "relay/dlq_redrive.h"
#include "tests/support/delivery_target.h"
#include "tests/support/eventually.h"
#include "tests/support/process.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"
#include "tests/support/stream_entries.h"

namespace streamshift::testing {
namespace {

using std::chrono::seconds;

struct DlqRun {
  int status = -1;
  std::string output;  // stdout and stderr
};

class Dlq : public ::testing::Test {
 protected:
  std::map<std::string, std::string> env() const {
    return {{"REDIS_URL", redis_.url()}, {"STREAMSHIFT_STREAMS", "events:chat,events:ticket"}};
  }
  DlqRun dlq(std::vector<std::string> args, std::map<std::string, std::string> extra = {}) {
    args.insert(args.begin(), {streamshift_binary(), "dlq"});
    std::map<std::string, std::string> e = env();
    for (auto& [k, v] : extra) e[k] = v;
    ChildProcess p(args, e);
    DlqRun r;
    r.status = p.wait(std::chrono::milliseconds(20000));
    r.output = p.output();
    return r;
  }
  // Dead letters of a target answering 400, written by the real relay.
  std::unique_ptr<RelayProcess> dead_letter_through_relay(const std::vector<std::string>& ids) {
    target_.set_policy([this](const ReceivedRequest&) {
      UpstreamReply r;
      if (broken_) r.status = 400;
      return r;
    });
    auto env = this->env();
    env.erase("REDIS_URL");
    auto relay = std::make_unique<RelayProcess>(redis_.url(), target_.port(), env);
    EXPECT_TRUE(relay->ready()) << relay->process().output();
    for (size_t i = 0; i < ids.size(); ++i)
      xadd(redis_, ids[i], "room-" + std::to_string(i % 3),
           i % 2 ? "events:ticket" : "events:chat");
    EXPECT_TRUE(eventually([&] { return read_stream(redis_, "events:dlq").size() == ids.size(); },
                           seconds(15)))
        << relay->process().output();
    return relay;
  }

  RedisServer redis_;
  DeliveryTarget target_;
  std::atomic<bool> broken_{true};
};

TEST_F(Dlq, RedriveAllAfterTheTargetIsFixedDeliversEachDeadLetterOnceAndEmptiesTheDlq) {
  std::vector<std::string> ids = {"ev-0", "ev-1", "ev-2", "ev-3", "ev-4", "ev-5"};
  auto relay = dead_letter_through_relay(ids);
  std::map<std::string, std::string> dead_ids;  // event_id -> dead letter id
  for (const StreamEntryView& d : read_stream(redis_, "events:dlq")) {
    EXPECT_EQ(d.field("dlq_reason"), "permanent_status");
    EXPECT_EQ(d.field("dlq_error"), "HTTP 400");
    dead_ids[d.field("event_id")] = d.id;
  }
  ASSERT_EQ(dead_ids.size(), ids.size());
  EXPECT_EQ(target_.delivered_count(), 0u);

  broken_ = false;
  DlqRun run = dlq({"redrive", "--all"});
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("redriven 6, skipped 0, failed 0"), std::string::npos) << run.output;
  ASSERT_TRUE(eventually([&] { return target_.delivered_count() == ids.size(); }, seconds(15)))
      << relay->process().output();
  for (const std::string& id : ids) EXPECT_EQ(target_.delivered()[id], 1) << id;
  EXPECT_TRUE(read_stream(redis_, "events:dlq").empty());

  // Back in its source stream: the original fields, no dlq_*, redriven_from.
  size_t redriven = 0;
  for (const char* stream : {"events:chat", "events:ticket"}) {
    for (const StreamEntryView& e : read_stream(redis_, stream)) {
      if (e.field("redriven_from") == "<missing>") continue;
      ++redriven;
      EXPECT_EQ(e.field("redriven_from"), dead_ids[e.field("event_id")]);
      EXPECT_EQ(e.field("event_type"), "chat_message");
      EXPECT_EQ(e.field("room_id").rfind("room-", 0), 0u);
      for (const auto& [name, value] : e.fields) EXPECT_NE(name.rfind("dlq_", 0), 0u) << name;
    }
  }
  EXPECT_EQ(redriven, ids.size());

  // The same id again: already gone, nothing written twice.
  run = dlq({"redrive", "--id", dead_ids["ev-0"]});
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("redriven 0, skipped 1, failed 0"), std::string::npos) << run.output;
  EXPECT_EQ(read_stream(redis_, "events:chat").size() + read_stream(redis_, "events:ticket").size(),
            2 * ids.size());
  // Still once, after the relay had time to deliver anything doubled.
  xadd(redis_, "after");
  ASSERT_TRUE(eventually([&] { return target_.delivered().count("after") == 1; }, seconds(10)));
  EXPECT_EQ(target_.delivered()["ev-0"], 1);
}

TEST_F(Dlq, ReasonFilterAndSelectedIds) {
  std::vector<std::string> ids = {"ev-0", "ev-1", "ev-2"};
  auto relay = dead_letter_through_relay(ids);
  std::vector<StreamEntryView> dead = read_stream(redis_, "events:dlq");
  broken_ = false;

  DlqRun run = dlq({"redrive", "--all", "--reason", "malformed"});
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("redriven 0, skipped 3, failed 0"), std::string::npos) << run.output;
  EXPECT_EQ(read_stream(redis_, "events:dlq").size(), 3u);

  run = dlq({"redrive", "--id", dead[1].id, "--id", "1-1", "--reason", "permanent_status"});
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("redriven 1, skipped 1, failed 0"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("skipped 1-1: not in events:dlq"), std::string::npos) << run.output;
  std::string event_id = dead[1].field("event_id");
  ASSERT_TRUE(eventually([&] { return target_.delivered_count() == 1; }, seconds(10)));
  EXPECT_EQ(target_.delivered()[event_id], 1);
  EXPECT_EQ(read_stream(redis_, "events:dlq").size(), 2u);
}

TEST_F(Dlq, ListAndShow) {
  auto relay = dead_letter_through_relay({"ev-0", "ev-1"});
  std::vector<StreamEntryView> dead = read_stream(redis_, "events:dlq");

  DlqRun run = dlq({"list"});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(
      run.output.find("id\treason\tsource_stream\tsource_id\tevent_id\troom\tdeliveries\terror"),
      std::string::npos)
      << run.output;
  for (const StreamEntryView& d : dead) {
    std::string line = d.id + "\tpermanent_status\t" + d.field("dlq_source_stream") + "\t" +
                       d.field("dlq_source_id") + "\t" + d.field("event_id") + "\t" +
                       d.field("room_id") + "\t1\tHTTP 400\n";
    EXPECT_NE(run.output.find(line), std::string::npos) << line << run.output;
  }
  run = dlq({"list", "--count", "1"});
  EXPECT_NE(run.output.find(dead[0].id), std::string::npos);
  EXPECT_EQ(run.output.find(dead[1].id), std::string::npos) << run.output;

  run = dlq({"show", dead[1].id});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("id: " + dead[1].id + "\n"), std::string::npos) << run.output;
  for (const auto& [name, value] : dead[1].fields)
    EXPECT_NE(run.output.find(name + ": " + value + "\n"), std::string::npos) << name;

  run = dlq({"show", "1-1"});
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("no dead letter 1-1 in events:dlq"), std::string::npos) << run.output;
}

TEST_F(Dlq, ADeadLetterFromAStreamNobodyConsumesIsRefusedAndKept) {
  std::string id = redis_
                       .command({"XADD", "events:dlq", "*", "event_id", "ev-x", "dlq_reason",
                                 "malformed", "dlq_source_stream", "events:gone"})
                       .str;
  DlqRun run = dlq({"redrive", "--all"});
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("redriven 0, skipped 0, failed 1"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("events:gone is not one the relays consume"), std::string::npos)
      << run.output;
  EXPECT_EQ(read_stream(redis_, "events:dlq").size(), 1u);
  EXPECT_EQ(redis_.command({"EXISTS", "events:gone"}).integer, 0);
}

// The script alone, twice on one dead letter (as when two redrives both
// read it before either moved it): the second finds it gone and writes
// nothing.
TEST_F(Dlq, TheRedriveScriptRunTwiceMovesTheDeadLetterOnce) {
  std::string id =
      redis_
          .command({"XADD", "events:dlq", "*", "event_id", "ev-1", "dlq_reason", "malformed",
                    "dlq_source_stream", "events:chat", "dlq_source_id", "1-1"})
          .str;
  RedisValue first = redis_.command({"EVAL", kRedriveScript, "2", "events:dlq", "events:chat", id});
  EXPECT_EQ(first.type, REDIS_REPLY_STRING) << first.str;
  EXPECT_EQ(redis_.command({"XLEN", "events:chat"}).integer, 1);
  RedisValue second =
      redis_.command({"EVAL", kRedriveScript, "2", "events:dlq", "events:chat", id});
  EXPECT_EQ(second.type, REDIS_REPLY_NIL) << second.str;
  EXPECT_EQ(redis_.command({"XLEN", "events:chat"}).integer, 1);
  EXPECT_EQ(redis_.command({"XLEN", "events:dlq"}).integer, 0);
}

// A relay that crashed between the dead letter's XADD and its XACK wrote
// two for one source entry: one run redrives it once, the other is skipped
// and kept.
TEST_F(Dlq, TwoDeadLettersOfOneSourceEntryAreRedrivenOnce) {
  auto dead = [&](const std::string& event_id, const std::string& source_id) {
    return redis_
        .command({"XADD", "events:dlq", "*", "event_id", event_id, "dlq_reason", "malformed",
                  "dlq_source_stream", "events:chat", "dlq_source_id", source_id})
        .str;
  };
  // With --all, then naming the ids.
  for (bool all : {true, false}) {
    redis_.command({"DEL", "events:chat", "events:dlq"});
    std::string first = dead("ev-1", "5-0");
    std::string twin = dead("ev-1", "5-0");
    std::string other = dead("ev-2", "6-0");
    DlqRun run =
        dlq(all ? std::vector<std::string>{"redrive", "--all"}
                : std::vector<std::string>{"redrive", "--id", first, "--id", twin, "--id", other});
    EXPECT_EQ(run.status, 0) << run.output;
    EXPECT_NE(run.output.find("redriven 2, skipped 1, failed 0"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("skipped " + twin + ": duplicate of " + first), std::string::npos)
        << run.output;
    std::vector<StreamEntryView> left = read_stream(redis_, "events:dlq");
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0].id, twin);
    std::multiset<std::string> back;
    for (const StreamEntryView& e : read_stream(redis_, "events:chat"))
      back.insert(e.field("event_id"));
    EXPECT_EQ(back, (std::multiset<std::string>{"ev-1", "ev-2"}));
  }
}

// More fields than the script's unpack() takes (about 8000 values): the
// redrive fails before anything is written, and the dead letter stays.
TEST_F(Dlq, ADeadLetterTooWideForTheScriptFailsAndIsKept) {
  std::vector<std::string> args = {"XADD", "events:dlq",        "*",          "event_id",
                                   "wide", "dlq_source_stream", "events:chat"};
  for (int i = 0; i < 4500; ++i) {
    args.push_back("f" + std::to_string(i));
    args.push_back("v");
  }
  ASSERT_FALSE(redis_.command(args).str.empty());
  DlqRun run = dlq({"redrive", "--all"});
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("redriven 0, skipped 0, failed 1"), std::string::npos) << run.output;
  EXPECT_EQ(read_stream(redis_, "events:dlq").size(), 1u);
  EXPECT_EQ(redis_.command({"EXISTS", "events:chat"}).integer, 0);
}

// list reads a page of 100 at a time (Redis never builds, nor the command
// holds, more dead letters with their bodies than that): 250 dead letters
// come out all and in order, and --count stops inside a page.
TEST_F(Dlq, ListReadsPageByPage) {
  std::vector<std::string> ids;
  for (int i = 0; i < 250; ++i) {
    ids.push_back(redis_
                      .command({"XADD", "events:dlq", "*", "event_id", "d-" + std::to_string(i),
                                "body", "{}", "dlq_reason", "permanent_status"})
                      .str);
  }
  redis_.command({"CONFIG", "SET", "slowlog-log-slower-than", "0"});
  redis_.command({"CONFIG", "SET", "slowlog-max-len", "1000"});
  auto listed = [](const std::string& output) {
    std::vector<std::string> out;
    size_t at = output.find('\n');  // after the header
    while (at != std::string::npos && at + 1 < output.size()) {
      size_t end = output.find('\n', at + 1);
      std::string line = output.substr(at + 1, end - at - 1);
      out.push_back(line.substr(0, line.find('\t')));
      at = end;
    }
    return out;
  };
  // The largest COUNT of the XRANGEs list sent, and how many it sent.
  auto xranges = [&] {
    std::pair<int, int> seen{0, 0};
    for (const RedisValue& item : redis_.command({"SLOWLOG", "GET", "1000"}).elements) {
      const std::vector<RedisValue>& args = item.elements.at(3).elements;
      if (args.size() == 6 && args[0].str == "XRANGE") {
        seen.first = std::max(seen.first, std::stoi(args[5].str));
        ++seen.second;
      }
    }
    return seen;
  };

  redis_.command({"SLOWLOG", "RESET"});
  DlqRun run = dlq({"list", "--count", "10000"});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(listed(run.output), ids);
  EXPECT_EQ(xranges(), std::make_pair(100, 3));

  redis_.command({"SLOWLOG", "RESET"});
  run = dlq({"list", "--count", "230"});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(listed(run.output), std::vector<std::string>(ids.begin(), ids.begin() + 230));
  EXPECT_EQ(xranges(), std::make_pair(100, 3));

  // A full page ending at the largest id (hand-written) ends the walk: "("
  // cannot exclude it.
  for (int i = 250; i < 299; ++i)
    ids.push_back(redis_.command({"XADD", "events:dlq", "*", "event_id", "d"}).str);
  ids.push_back(
      redis_.command({"XADD", "events:dlq", std::string(kLargestStreamId), "event_id", "d"}).str);
  run = dlq({"list", "--count", "10000"});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(listed(run.output), ids);

  // A read that fails prints no header: stdout stays empty.
  redis_.command({"DEL", "events:dlq"});
  redis_.command({"SET", "events:dlq", "not a stream"});
  run = dlq({"list"});
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_EQ(run.output.find("id\treason"), std::string::npos) << run.output;
}

TEST_F(Dlq, UsageAndConfigurationErrorsExit2) {
  for (std::vector<std::string> args : {std::vector<std::string>{},
                                        {"purge"},
                                        {"redrive"},
                                        {"redrive", "--all", "--reason", "nope"},
                                        {"show", "x"},
                                        {"list", "--count", "0"}}) {
    DlqRun run = dlq(args);
    EXPECT_EQ(run.status, 2) << run.output;
    EXPECT_NE(run.output.find("usage: streamshift dlq"), std::string::npos) << run.output;
  }
  DlqRun run = dlq({"list"}, {{"STREAMSHIFT_DLQ_MAX_LEN", "-1"}});
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("STREAMSHIFT_DLQ_MAX_LEN"), std::string::npos) << run.output;
}

// Redis Cluster: one script cannot span two slots, so redrive is refused
// (the dead letter kept) unless the DLQ shares the source stream's hash tag.
TEST(DlqCluster, RedriveNeedsTheDlqInTheSourcesSlot) {
  RedisClusterSet cluster(ClusterShape{.primaries = 3, .replicas_per_primary = 0});
  ASSERT_TRUE(cluster.ready());
  auto on_owner = [&](const std::vector<std::string>& args) {
    return cluster.command_on(cluster.node_for_slot(slot_of(args[1])), args);
  };
  auto dlq = [&](const std::string& dlq_stream, std::vector<std::string> args) {
    args.insert(args.begin(), {streamshift_binary(), "dlq"});
    ChildProcess p(args, {{"REDIS_URL", cluster.seed_url()},
                          {"STREAMSHIFT_STREAMS", "events:{chat}"},
                          {"STREAMSHIFT_DLQ_STREAM", dlq_stream}});
    DlqRun r;
    r.status = p.wait(std::chrono::milliseconds(30000));
    r.output = p.output();
    return r;
  };
  ASSERT_NE(slot_of("events:dlq"), slot_of("events:{chat}"));
  std::string apart =
      on_owner({"XADD", "events:dlq", "*", "event_id", "ev-a", "room_id", "r-1", "dlq_reason",
                "permanent_status", "dlq_source_stream", "events:{chat}"})
          .str;
  DlqRun run = dlq("events:dlq", {"redrive", "--all"});
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("different slots"), std::string::npos) << run.output;
  EXPECT_EQ(cluster.read_stream("events:dlq").size(), 1u);
  EXPECT_TRUE(cluster.read_stream("events:{chat}").empty());
  run = dlq("events:dlq", {"show", apart});
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("event_id: ev-a"), std::string::npos) << run.output;

  std::string together =
      on_owner({"XADD", "events:{chat}:dlq", "*", "event_id", "ev-b", "room_id", "r-1",
                "dlq_reason", "permanent_status", "dlq_source_stream", "events:{chat}"})
          .str;
  run = dlq("events:{chat}:dlq", {"redrive", "--all"});
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("redriven 1, skipped 0, failed 0"), std::string::npos) << run.output;
  EXPECT_TRUE(cluster.read_stream("events:{chat}:dlq").empty());
  std::vector<StreamEntryView> back = cluster.read_stream("events:{chat}");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].field("event_id"), "ev-b");
  EXPECT_EQ(back[0].field("redriven_from"), together);
  EXPECT_EQ(back[0].field("dlq_reason"), "<missing>");
}

}  // namespace
}  // namespace streamshift::testing
