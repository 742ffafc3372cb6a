// The Redis Streams transport end to end: the real streamshift binary, a
// real redis-server started on a free port, a real upstream HTTP server.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "tests/support/eventually.h"
#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_upstream.h"

namespace streamshift::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string chat_event(const std::string& room, const std::string& event_id = "",
                       const std::string& extra = "") {
  std::string body =
      "{\"event_type\":\"chat_message\",\"room_id\":\"" + room + "\",\"user_id\":\"u-1\"";
  if (!event_id.empty()) body += ",\"event_id\":\"" + event_id + "\"";
  return body + extra + ",\"text\":\"hello\"}";
}

std::string post_event(const std::string& path, const std::string& body) {
  return make_request("POST", path, body, "Content-Type: application/json\r\n");
}

// The number after "key": in the sidecar's "transport totals" log line.
long long total(const std::string& output, const std::string& key) {
  size_t line = output.find("\"msg\":\"transport totals\"");
  if (line == std::string::npos) return -1;
  size_t at = output.find("\"" + key + "\":", line);
  if (at == std::string::npos) return -1;
  return std::stoll(output.substr(at + key.size() + 3));
}

class RedisTransport : public ::testing::Test {
 protected:
  void start(std::map<std::string, std::string> env, std::vector<std::string> redis_args = {}) {
    redis_ = std::make_unique<RedisServer>(redis_args);
    ASSERT_TRUE(redis_->ready());
    env.emplace("REDIS_URL", redis_->url());
    env.emplace("EVENT_TRANSPORT_USE_REDIS_STREAMS", "true");
    // Generous unless a test is about timeouts: a loaded CI machine (two
    // test processes, sanitizers) can take longer than the 100 ms default.
    env.emplace("EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", "2000");
    sidecar_ = std::make_unique<Sidecar>(upstream_.port(), env);
    ASSERT_TRUE(sidecar_->ready()) << sidecar_->process().output();
    ASSERT_TRUE(sidecar_->wait_redis_connected());
  }
  std::string stop() {
    sidecar_->process().signal(SIGTERM);
    EXPECT_EQ(sidecar_->process().wait(seconds(15)), 0);
    return sidecar_->process().output();
  }

  TestUpstream upstream_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<Sidecar> sidecar_;
};

TEST_F(RedisTransport, EntriesLandWithTheDocumentedFields) {
  start({{"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"}});
  std::string body =
      "{\"event_type\":\"chat_message\",\"room_id\":\"r-1\",\"user_id\":\"u-9\",\"event_id\":\"ev-"
      "1\","
      "\"text\":\"caf\xc3\xa9 \\\"quoted\\\" \\u00e9 \\n\",\"n\":[1,2,{\"a\":null}]}";
  timeval tv;
  gettimeofday(&tv, nullptr);
  long long before_ms = tv.tv_sec * 1000LL + tv.tv_usec / 1000;
  TestClient client(sidecar_->port());
  auto response = client.request(post_event("/internal/broadcast/chat?source=app", body));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 202) << response->body;
  EXPECT_EQ(response->header("X-Event-Transport"), "redis_streams");
  EXPECT_EQ(response->header("X-Event-Id"), "ev-1");
  std::regex ack(
      R"(\{"status":"accepted","transport":"redis_streams","stream":"events:chat","id":"\d+-\d+","event_id":"ev-1"\})");
  EXPECT_TRUE(std::regex_match(response->body, ack)) << response->body;

  auto entries = read_stream(*redis_, "events:chat");
  ASSERT_EQ(entries.size(), 1u);
  const StreamEntryView& e = entries[0];
  EXPECT_NE(response->body.find(e.id), std::string::npos);
  std::vector<std::string> names;
  for (const auto& [k, v] : e.fields) names.push_back(k);
  EXPECT_EQ(names, (std::vector<std::string>{"v", "event_id", "event_type", "room_id", "user_id",
                                             "ts_ms", "method", "path", "content_type", "body"}));
  EXPECT_EQ(e.field("v"), "1");
  EXPECT_EQ(e.field("event_id"), "ev-1");
  EXPECT_EQ(e.field("event_type"), "chat_message");
  EXPECT_EQ(e.field("room_id"), "r-1");
  EXPECT_EQ(e.field("user_id"), "u-9");
  EXPECT_EQ(e.field("method"), "POST");
  EXPECT_EQ(e.field("path"), "/internal/broadcast/chat?source=app");
  EXPECT_EQ(e.field("content_type"), "application/json");
  EXPECT_EQ(e.field("body"), body);  // verbatim, byte for byte
  long long ts = std::stoll(e.field("ts_ms"));
  EXPECT_GE(ts, before_ms - 5);
  EXPECT_LE(ts, before_ms + 5000);
  EXPECT_EQ(upstream_.request_count(), 0u);
}

TEST_F(RedisTransport, EventIdComesFromTheHeaderOrIsGenerated) {
  start({{"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"}});
  TestClient client(sidecar_->port());
  auto with_header = client.request(make_request(
      "POST", "/internal/broadcast/ticket", "{\"event_type\":\"ticket_updated\",\"room_id\":7}",
      "X-Event-Id: from-header\r\n"));
  ASSERT_TRUE(with_header);
  EXPECT_EQ(with_header->header("X-Event-Id"), "from-header");
  auto generated = client.request(
      post_event("/internal/broadcast/ticket", "{\"event_type\":\"t\",\"room_id\":7}"));
  ASSERT_TRUE(generated);
  std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  EXPECT_TRUE(std::regex_match(generated->header("X-Event-Id").value_or(""), uuid));
  auto entries = read_stream(*redis_, "events:ticket");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].field("event_id"), "from-header");
  EXPECT_EQ(entries[0].field("room_id"), "7");
  EXPECT_EQ(entries[0].field("user_id"), "<missing>");
}

TEST_F(RedisTransport, MaxLenKeepsTheStreamBounded) {
  start({{"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"},
         {"EVENT_TRANSPORT_STREAM_MAX_LEN", "1000"}});
  TestClient client(sidecar_->port());
  std::string batch;
  for (int i = 0; i < 3000; ++i) {
    batch += post_event("/internal/broadcast/chat", chat_event("r" + std::to_string(i % 10)));
    if (i % 100 == 99) {
      ASSERT_TRUE(client.send(batch));
      batch.clear();
      for (int k = 0; k < 100; ++k) ASSERT_EQ(client.read_response()->status, 202);
    }
  }
  long long len = redis_->command({"XLEN", "events:chat"}).integer;
  EXPECT_GE(len, 1000);
  EXPECT_LE(len, 1100);  // MAXLEN ~ trims whole nodes of 100 entries
}

TEST_F(RedisTransport, ZeroPercentSendsEverythingOverHttpWithTheEventId) {
  start({{"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "0"}});
  TestClient client(sidecar_->port());
  for (int i = 0; i < 20; ++i) {
    auto r =
        client.request(post_event("/internal/broadcast/chat",
                                  chat_event("room" + std::to_string(i), "e" + std::to_string(i))));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("X-Event-Transport"), "http");
    EXPECT_EQ(r->header("X-Event-Id"), "e" + std::to_string(i));
  }
  EXPECT_EQ(redis_->command({"XLEN", "events:chat"}).integer, 0);
  auto got = upstream_.requests();
  ASSERT_EQ(got.size(), 20u);
  EXPECT_EQ(got[3].header("X-Event-Id"), "e3");
}

TEST_F(RedisTransport, FiftyPercentRandomIsWithinBinomialTolerance) {
  start({{"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "50"},
         {"EVENT_TRANSPORT_ROLLOUT_KEY", "random"}});
  TestClient client(sidecar_->port());
  int redis_count = 0;
  for (int i = 0; i < 400; ++i) {
    auto r = client.request(post_event("/internal/broadcast/chat", chat_event("one-room")));
    ASSERT_TRUE(r);
    redis_count += r->header("X-Event-Transport") == "redis_streams" ? 1 : 0;
  }
  // n=400, p=0.5: mean 200, sd 10; 4 sd either way.
  EXPECT_GE(redis_count, 160);
  EXPECT_LE(redis_count, 240);
  EXPECT_EQ(redis_->command({"XLEN", "events:chat"}).integer, redis_count);
  EXPECT_EQ(upstream_.request_count(), static_cast<size_t>(400 - redis_count));
}

TEST_F(RedisTransport, RoomKeyKeepsEachRoomOnOneTransport) {
  start({{"EVENT_TRANSPORT_REDIS_PERCENTAGE", "50"}});  // the quickstart's spelling
  TestClient client(sidecar_->port());
  int rooms_on_redis = 0;
  for (int room = 0; room < 60; ++room) {
    std::set<std::string> transports;
    for (int i = 0; i < 5; ++i) {
      auto r = client.request(
          post_event("/internal/broadcast/chat", chat_event("room-" + std::to_string(room))));
      ASSERT_TRUE(r);
      transports.insert(r->header("X-Event-Transport").value_or("?"));
    }
    ASSERT_EQ(transports.size(), 1u) << "room-" << room << " split across transports";
    rooms_on_redis += transports.count("redis_streams");
  }
  EXPECT_GT(rooms_on_redis, 10);
  EXPECT_LT(rooms_on_redis, 50);
}

TEST_F(RedisTransport, StalledRedisTimesOutAndFallsBackToHttp) {
  start({{"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"},
         {"EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", "50"},
         {"STREAMSHIFT_CIRCUIT_FAILURES", "1000"}});
  redis_->pause();
  TestClient client(sidecar_->port());
  for (int i = 0; i < 5; ++i) {
    auto started = std::chrono::steady_clock::now();
    auto r = client.request(
        post_event("/internal/broadcast/chat", chat_event("r", "stall-" + std::to_string(i))));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("X-Event-Transport"), "http");
    EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(1000));
  }
  redis_->resume();
  ASSERT_EQ(upstream_.request_count(), 5u);
  EXPECT_EQ(upstream_.requests()[4].header("X-Event-Id"), "stall-4");
  std::string out = stop();
  EXPECT_EQ(total(out, "timeout"), 5) << out;
}

TEST_F(RedisTransport, DebugSleepTimesOutToo) {
  start({{"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"},
         {"EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", "300"}});
  std::thread sleeper([&] { redis_->command({"DEBUG", "SLEEP", "1"}); });
  // DEBUG SLEEP has reached the server once a PING goes unanswered (not
  // ASSERT: the sleeper must be joined).
  EXPECT_TRUE(eventually(
      [&] { return redis_->command({"PING"}, milliseconds(100)).type == REDIS_REPLY_ERROR; },
      seconds(5), "redis-server busy in DEBUG SLEEP"));
  TestClient client(sidecar_->port());
  auto r = client.request(post_event("/internal/broadcast/chat", chat_event("r")));
  sleeper.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("X-Event-Transport"), "http");
  auto after = client.request(post_event("/internal/broadcast/chat", chat_event("r")));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 202);
}

// Load while redis-server is killed: with fallback every request gets a 2xx
// and every event ends up in the stream (AOF, fsync always) or upstream.
TEST_F(RedisTransport, RedisKilledUnderLoadWithFallbackLosesNothing) {
  start(
      {{"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"}, {"STREAMSHIFT_CIRCUIT_OPEN_MS", "200"}},
      {"--appendonly", "yes", "--appendfsync", "always"});
  std::atomic<bool> stop_load{false};
  std::mutex mu;
  std::vector<std::string> sent;
  std::atomic<int> non_2xx{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      TestClient client(sidecar_->port());
      for (int i = 0; !stop_load; ++i) {
        std::string id = "k" + std::to_string(t) + "-" + std::to_string(i);
        auto r = client.request(
            post_event("/internal/broadcast/chat", chat_event("room" + std::to_string(i % 7), id)));
        if (!r || r->status < 200 || r->status > 299) {
          ++non_2xx;
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        sent.push_back(id);
      }
    });
  }
  auto wait_sent = [&](size_t n) {
    return eventually(
        [&] {
          std::lock_guard<std::mutex> lock(mu);
          return sent.size() >= n;
        },
        seconds(20), std::to_string(n) + " events acknowledged");
  };
  ASSERT_TRUE(wait_sent(300));
  redis_->kill_hard();
  ASSERT_TRUE(wait_sent(600));
  ASSERT_TRUE(redis_->restart());
  // Reconnection: events go to Redis again.
  ASSERT_TRUE(wait_sent(900));
  stop_load = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(non_2xx.load(), 0);
  std::set<std::string> delivered;
  for (const auto& e : read_stream(*redis_, "events:chat")) delivered.insert(e.field("event_id"));
  size_t in_stream = delivered.size();
  for (const auto& r : upstream_.requests()) delivered.insert(r.header("X-Event-Id").value_or(""));
  for (const std::string& id : sent)
    EXPECT_TRUE(delivered.count(id)) << id << " was acknowledged but is lost";
  EXPECT_GT(in_stream, 0u);
  EXPECT_GT(upstream_.request_count(), 0u);
  TestClient client(sidecar_->port());
  EXPECT_TRUE(eventually(
      [&] {
        auto r = client.request(post_event("/internal/broadcast/chat", chat_event("after")));
        return r && r->status == 202;
      },
      seconds(10), "an event stored in Redis again (202)"));
}

TEST_F(RedisTransport, WithoutFallbackEveryEventIsStoredOrRefused) {
  start({{"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"},
         {"EVENT_TRANSPORT_FALLBACK_TO_HTTP", "false"}},
        {"--appendonly", "yes", "--appendfsync", "always"});
  std::vector<std::pair<std::string, int>> answers;
  TestClient client(sidecar_->port());
  for (int i = 0; i < 300; ++i) {
    if (i == 150) redis_->kill_hard();
    if (i == 250) {
      ASSERT_TRUE(redis_->restart());
    }
    std::string id = "nf-" + std::to_string(i);
    auto r = client.request(post_event("/internal/broadcast/chat", chat_event("r", id)));
    ASSERT_TRUE(r);
    answers.emplace_back(id, r->status);
    if (r->status == 503) {
      EXPECT_NE(r->body.find("\"error\":\"redis_unavailable\""), std::string::npos) << r->body;
    } else {
      EXPECT_EQ(r->status, 202) << r->body;
    }
  }
  std::set<std::string> stored;
  for (const auto& e : read_stream(*redis_, "events:chat")) stored.insert(e.field("event_id"));
  int refused = 0;
  for (const auto& [id, status] : answers) {
    if (status == 202) {
      EXPECT_TRUE(stored.count(id)) << id << " was acknowledged but is not in the stream";
    }
    refused += status == 503 ? 1 : 0;
  }
  EXPECT_GT(refused, 0);
  EXPECT_EQ(upstream_.request_count(), 0u);
}

TEST_F(RedisTransport, CircuitOpensThenAProbeClosesIt) {
  start({{"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"},
         {"STREAMSHIFT_CIRCUIT_FAILURES", "3"},
         {"STREAMSHIFT_CIRCUIT_OPEN_MS", "300"}});
  redis_->kill_hard();
  TestClient client(sidecar_->port());
  for (int i = 0; i < 10; ++i) {
    auto r = client.request(post_event("/internal/broadcast/chat", chat_event("r")));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header("X-Event-Transport"), "http");
  }
  ASSERT_TRUE(redis_->restart());
  EXPECT_TRUE(eventually(
      [&] {
        auto r = client.request(post_event("/internal/broadcast/chat", chat_event("r")));
        return r && r->status == 202;
      },
      seconds(10), "the circuit closed: an event stored in Redis (202)"));
  std::string out = stop();
  EXPECT_GE(total(out, "circuit_open"), 5) << out;
  EXPECT_GE(total(out, "connection_lost"), 3) << out;
}

// EVENT_TRANSPORT_MIN_REPLICAS=1: 202 only once the replica has the entry;
// a replica that does not answer makes the event fall back to HTTP, with
// the reason replication_timeout, before the publish timeout.
TEST_F(RedisTransport, WithMinReplicasAnEventIsAcknowledgedOnlyOnceAReplicaHasIt) {
  start({{"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"},
         {"EVENT_TRANSPORT_MIN_REPLICAS", "1"},
         {"EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", "1000"}},
        {"--repl-diskless-sync-delay", "0"});
  RedisServer replica({"--replicaof", "127.0.0.1", std::to_string(redis_->port())});
  ASSERT_TRUE(eventually([&] { return redis_->replica_acknowledges_all(); }, seconds(10),
                         "the replica in sync"));
  TestClient client(sidecar_->port());
  auto stored = client.request(post_event("/internal/broadcast/chat", chat_event("r", "ev-d1")));
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->status, 202) << stored->body;
  auto on_replica = read_stream(replica, "events:chat");  // no waiting: WAIT said it is there
  ASSERT_EQ(on_replica.size(), 1u);
  EXPECT_EQ(on_replica[0].field("event_id"), "ev-d1");

  replica.pause();
  auto started = std::chrono::steady_clock::now();
  auto fell_back = client.request(post_event("/internal/broadcast/chat", chat_event("r", "ev-d2")));
  auto took = std::chrono::steady_clock::now() - started;
  replica.resume();
  ASSERT_TRUE(fell_back);
  EXPECT_EQ(fell_back->header("X-Event-Transport"), "http");
  EXPECT_EQ(upstream_.request_count(), 1u);
  EXPECT_LT(took, milliseconds(1000)) << "Redis said too few replicas before our deadline";
  std::string out = stop();
  EXPECT_EQ(total(out, "replication_timeout"), 1) << out;
}

TEST_F(RedisTransport, DualWriteAnswersFromHttpAndShadowsIntoTheStream) {
  start({{"EVENT_TRANSPORT_DUAL_WRITE", "true"},
         {"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"}});
  TestClient client(sidecar_->port());
  for (int i = 0; i < 10; ++i) {
    auto r = client.request(
        post_event("/internal/broadcast/chat", chat_event("r", "dw-" + std::to_string(i))));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "ok");
    EXPECT_EQ(r->header("X-Event-Transport"), "http");
  }
  EXPECT_EQ(upstream_.request_count(), 10u);
  // The shadow copy is asynchronous: the app's answer does not wait for it.
  eventually([&] { return redis_->command({"XLEN", "events:chat"}).integer >= 10; }, seconds(5));
  auto entries = read_stream(*redis_, "events:chat");
  ASSERT_EQ(entries.size(), 10u);
  // Shadow copies ride several pipelined connections: any order, all there.
  std::set<std::string> ids;
  for (const auto& e : entries) ids.insert(e.field("event_id"));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(ids.count("dw-" + std::to_string(i)), 1u) << i;
  std::string out = stop();
  EXPECT_EQ(total(out, "dual_write_success"), 10) << out;
}

TEST_F(RedisTransport, BadEventBodiesGet400NamingTheField) {
  start({{"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"}});
  struct Case {
    std::string body;
    std::string field;
  };
  for (const Case& c :
       {Case{"not json", "body"}, Case{"[1]", "body"}, Case{"{\"room_id\":\"r\"}", "event_type"},
        Case{"{\"event_type\":\"t\"}", "room_id"},
        Case{"{\"event_type\":{},\"room_id\":1}", "event_type"}}) {
    TestClient client(sidecar_->port());
    auto r = client.request(post_event("/internal/broadcast/chat", c.body));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << c.body;
    EXPECT_NE(r->body.find("\"field\":\"" + c.field + "\""), std::string::npos) << r->body;
    EXPECT_EQ(r->header("Content-Type"), "application/json");
  }
  EXPECT_EQ(redis_->command({"XLEN", "events:chat"}).integer, 0);
  EXPECT_EQ(upstream_.request_count(), 0u);
  // Unrouted requests are bridged unchanged, whatever their body.
  TestClient client(sidecar_->port());
  auto passthrough = client.request(make_request("POST", "/internal/other", "not json"));
  ASSERT_TRUE(passthrough);
  EXPECT_EQ(passthrough->status, 200);
  EXPECT_FALSE(passthrough->header("X-Event-Transport"));
}

// simdjson on-demand used to skip what it did not read: these bodies were
// answered 202 and stored, though they are not JSON.
TEST_F(RedisTransport, BodiesThatAreNotValidJsonGet400) {
  start({{"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"}});
  for (const std::string body :
       {R"({"event_type":"m","room_id":"c9","x":tru})", R"({"room_id":12abc,"event_type":"m"})",
        R"({"event_type":"m","room_id":"c9"}{"event_type":"m","room_id":"c9"})"}) {
    TestClient client(sidecar_->port());
    auto r = client.request(post_event("/internal/broadcast/chat", body));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << body;
    EXPECT_EQ(r->body,
              R"({"error":"invalid_event","field":"body","detail":"the body is not valid JSON"})")
        << body;
  }
  EXPECT_EQ(redis_->command({"XLEN", "events:chat"}).integer, 0);
  EXPECT_EQ(upstream_.request_count(), 0u);
}

// What the relay would dead-letter as malformed is refused at the door, with
// the field and the bytes it allows; nothing is stored.
TEST_F(RedisTransport, WhatTheRelayWouldRefuseGets400AndIsNotStored) {
  start({{"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"}});
  struct Case {
    const char* name;
    std::string request;
    std::string field;  // empty: the ingress's HTTP parser refuses it already
  };
  auto with_header_id = [](const std::string& id) {
    return make_request("POST", "/internal/broadcast/chat", chat_event("r"),
                        "Content-Type: application/json\r\nX-Event-Id: " + id + "\r\n");
  };
  const Case cases[] = {
      {"tab in the body's event_id",
       post_event("/internal/broadcast/chat", chat_event("r", "a\\tb")), "event_id"},
      {"0x01 in the body's event_id",
       post_event("/internal/broadcast/chat", chat_event("r", "a\\u0001b")), "event_id"},
      {"0x7f in the body's event_id",
       post_event("/internal/broadcast/chat", chat_event("r", "a\x7f-b")), "event_id"},
      {"tab in X-Event-Id", with_header_id("a\tb"), "event_id"},
      {"0x01 in X-Event-Id", with_header_id("a\x01-b"), ""},
      {"0x7f in X-Event-Id", with_header_id("a\x7f-b"), ""},
      // Refused by the ingress itself (400 invalid_target), before routing.
      {"tab in the query", post_event("/internal/broadcast/chat?a=\tb", chat_event("r")), ""},
      {"form feed in the query", post_event("/internal/broadcast/chat?a=\fb", chat_event("r")), ""},
  };

  for (const Case& c : cases) {
    TestClient client(sidecar_->port());
    auto r = client.request(c.request);
    ASSERT_TRUE(r) << c.name;
    EXPECT_EQ(r->status, 400) << c.name << ": " << r->body;
    if (c.field.empty()) continue;
    EXPECT_EQ(r->body.rfind("{\"error\":\"invalid_event\",\"field\":\"" + c.field +
                                "\",\"detail\":\"" + c.field + " must ",
                            0),
              0u)
        << c.name << ": " << r->body;
  }
  EXPECT_EQ(redis_->command({"XLEN", "events:chat"}).integer, 0);
  EXPECT_EQ(upstream_.request_count(), 0u);
  // A tab inside a header value is legal HTTP, and the relay replays it.
  TestClient client(sidecar_->port());
  auto tab = client.request(make_request("POST", "/internal/broadcast/chat", chat_event("r"),
                                         "Content-Type: application/json;\tcharset=utf-8\r\n"));
  ASSERT_TRUE(tab);
  EXPECT_EQ(tab->status, 202) << tab->body;
  auto entries = read_stream(*redis_, "events:chat");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].field("content_type"), "application/json;\tcharset=utf-8");
}

TEST_F(RedisTransport, AuthenticatesWithPasswordAndAclUserFromRedisUrl) {
  redis_ = std::make_unique<RedisServer>(std::vector<std::string>{"--requirepass", "app-secret"});
  ASSERT_TRUE(redis_->ready());
  redis_->set_password("", "app-secret");
  ASSERT_EQ(redis_
                ->command({"ACL", "SETUSER", "sidecar", "on", ">side-pass", "~events:*", "+xadd",
                           "+ping", "+select"})
                .str,
            "OK");
  for (const std::string& userinfo :
       {std::string(":app-secret"), std::string("sidecar:side-pass")}) {
    Sidecar sidecar(upstream_.port(), {{"REDIS_URL", redis_->url(userinfo) + "/0"},
                                       {"EVENT_TRANSPORT_USE_REDIS_STREAMS", "true"},
                                       {"EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", "2000"},
                                       {"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"}});
    ASSERT_TRUE(sidecar.ready());
    ASSERT_TRUE(sidecar.wait_redis_connected());
    TestClient client(sidecar.port());
    auto r = client.request(post_event("/internal/broadcast/chat", chat_event("r")));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 202) << userinfo << ": " << r->body;
    EXPECT_EQ(sidecar.process().output().find("side-pass"), std::string::npos);
    EXPECT_EQ(sidecar.process().output().find("app-secret"), std::string::npos);
  }
  EXPECT_EQ(redis_->command({"XLEN", "events:chat"}).integer, 2);
}

TEST_F(RedisTransport, RoutesFileCapturesTheRoomFromThePath) {
  char path[] = "/tmp/streamshift-routes-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  std::ofstream(path)
      << "routes:\n  - path: /internal/rooms/{room_id}/typing\n    stream: events:typing\n"
         "    event_type: typing_start\n";
  start({{"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"}, {"STREAMSHIFT_ROUTES_FILE", path}});
  TestClient client(sidecar_->port());
  auto r = client.request(post_event("/internal/rooms/r-77/typing", "{\"user_id\":\"u\"}"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202) << r->body;
  auto entries = read_stream(*redis_, "events:typing");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].field("room_id"), "r-77");
  EXPECT_EQ(entries[0].field("event_type"), "typing_start");
  auto old_route = client.request(post_event("/internal/broadcast/chat", "not json"));
  ASSERT_TRUE(old_route);
  EXPECT_EQ(old_route->status, 200);  // the file replaced the defaults
  unlink(path);
}

TEST(RedisTransportConfig, CheckConfigShowsTheDecisionAndRefusesBadValues) {
  ChildProcess ok({streamshift_binary(), "check-config"},
                  {{"EVENT_TRANSPORT_USE_REDIS_STREAMS", "true"},
                   {"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "25"},
                   {"REDIS_URL", "redis://:pw@redis:6379/1"}});
  EXPECT_EQ(ok.wait(seconds(10)), 0);
  std::string out = ok.output();
  EXPECT_NE(out.find("decision: Redis Streams for 25% of events by room, HTTP fallback on failure"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("REDIS_URL=redis://:****@redis:6379/1"), std::string::npos) << out;
  EXPECT_NE(out.find("POST /internal/broadcast/typing -> events:chat"), std::string::npos) << out;
  ChildProcess bad({streamshift_binary(), "check-config"},
                   {{"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "150"},
                    {"EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", "5"},
                    {"EVENT_TRANSPORT_STREAM_MAX_LEN", "200000"},
                    {"EVENT_TRANSPORT_REDIS_PERCENTAGE", "10"}});
  EXPECT_EQ(bad.wait(seconds(10)), 2);
  std::string report = bad.output();
  for (const char* name :
       {"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE=\"150\"",
        "EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS=\"5\"", "EVENT_TRANSPORT_STREAM_MAX_LEN=\"200000\"",
        "EVENT_TRANSPORT_REDIS_PERCENTAGE=\"10\""}) {
    EXPECT_NE(report.find(name), std::string::npos) << name << "\n" << report;
  }
}

}  // namespace
}  // namespace streamshift::testing
