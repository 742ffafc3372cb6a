// Typing-indicator coalescing through the real binary, a real redis-server
// and a real upstream.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
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

std::string typing(const std::string& type, const std::string& room, const std::string& user,
                   int n) {
  std::string body = "{\"event_type\":\"" + type + "\",\"room_id\":\"" + room +
                     "\",\"user_id\":\"" + user + "\",\"event_id\":\"" + user + "-" +
                     std::to_string(n) + "\"}";
  return make_request("POST", "/internal/broadcast/typing", body,
                      "Content-Type: application/json\r\n");
}

::testing::AssertionResult wait_xlen(const RedisServer& redis, const std::string& stream,
                                     long long n) {
  return eventually(
      [&] {
        return redis.command({"XLEN", stream}).integer >= n;
      },
      seconds(5), "XLEN " + stream + " >= " + std::to_string(n));
}

class Coalescing : public ::testing::Test {
 protected:
  void start(std::map<std::string, std::string> env) {
    ASSERT_TRUE(redis_.ready());
    env.emplace("REDIS_URL", redis_.url());
    env.emplace("EVENT_TRANSPORT_USE_REDIS_STREAMS", "true");
    env.emplace("EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100");
    env.emplace("EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", "2000");
    sidecar_ = std::make_unique<Sidecar>(upstream_.port(), env);
    ASSERT_TRUE(sidecar_->ready()) << sidecar_->process().output();
    ASSERT_TRUE(sidecar_->wait_redis_connected());
  }
  TestUpstream upstream_;
  RedisServer redis_;
  std::unique_ptr<Sidecar> sidecar_;
};

TEST_F(Coalescing, ABurstInOneWindowBecomesTheFirstAndTheLastState) {
  start({{"EVENT_COALESCING_WINDOW_MS", "300"}});
  TestClient client(sidecar_->port());
  int accepted = 0, coalesced = 0;
  for (int i = 0; i < 10; ++i) {
    auto r = client.request(typing(i == 9 ? "typing_stop" : "typing_start", "room-1", "u1", i));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 202);
    EXPECT_EQ(r->header("X-Event-Id"), "u1-" + std::to_string(i));
    if (r->body.find("\"status\":\"coalesced\"") != std::string::npos)
      ++coalesced;
    else if (r->body.find("\"status\":\"accepted\"") != std::string::npos)
      ++accepted;
  }
  EXPECT_EQ(accepted, 1);
  EXPECT_EQ(coalesced, 9);
  ASSERT_TRUE(wait_xlen(redis_, "events:chat", 2));
  auto entries = read_stream(redis_, "events:chat");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].field("event_id"), "u1-0");
  EXPECT_EQ(entries[1].field("event_id"), "u1-9");
  EXPECT_EQ(entries[1].field("event_type"), "typing_stop");
  EXPECT_EQ(upstream_.request_count(), 0u);
  auto metrics = TestClient(sidecar_->admin_port()).request(make_request("GET", "/metrics"));
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("events_coalesced_total{event_type=\"typing_start\"} 8\n"),
            std::string::npos)
      << metrics->body;
}

TEST_F(Coalescing, RoomsAndUsersNeverSwallowEachOther) {
  start({{"EVENT_COALESCING_WINDOW_MS", "300"}});
  TestClient client(sidecar_->port());
  for (const auto& [room, user] : std::vector<std::pair<std::string, std::string>>{
           {"r1", "a"}, {"r1", "b"}, {"r2", "a"}, {"r1", "a"}, {"r2", "a"}}) {
    ASSERT_TRUE(client.request(typing("typing_start", room, user, 0)));
  }
  ASSERT_TRUE(wait_xlen(redis_, "events:chat", 3));
  std::this_thread::sleep_for(milliseconds(400));  // let every window close: nothing more may come
  auto entries = read_stream(redis_, "events:chat");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].field("room_id") + entries[0].field("user_id"), "r1a");
  EXPECT_EQ(entries[1].field("room_id") + entries[1].field("user_id"), "r1b");
  EXPECT_EQ(entries[2].field("room_id") + entries[2].field("user_id"), "r2a");
}

TEST_F(Coalescing, OtherEventTypesAreNeverCoalesced) {
  start({});
  TestClient client(sidecar_->port());
  for (int i = 0; i < 5; ++i) {
    auto r = client.request(
        make_request("POST", "/internal/broadcast/chat",
                     "{\"event_type\":\"chat_message\",\"room_id\":\"r\",\"user_id\":\"u\"}"));
    ASSERT_TRUE(r);
    EXPECT_NE(r->body.find("\"status\":\"accepted\""), std::string::npos);
  }
  EXPECT_EQ(redis_.command({"XLEN", "events:chat"}).integer, 5);
}

TEST_F(Coalescing, SigtermSendsTheHeldStateBeforeExit) {
  start({{"EVENT_COALESCING_WINDOW_MS", "10000"}, {"EVENT_COALESCING_REFRESH_MS", "20000"}});
  TestClient client(sidecar_->port());
  ASSERT_TRUE(client.request(typing("typing_start", "r", "u", 0)));
  auto held = client.request(typing("typing_stop", "r", "u", 1));
  ASSERT_TRUE(held);
  EXPECT_NE(held->body.find("coalesced"), std::string::npos);
  EXPECT_EQ(redis_.command({"XLEN", "events:chat"}).integer, 1);
  sidecar_->process().signal(SIGTERM);
  EXPECT_EQ(sidecar_->process().wait(seconds(10)), 0) << sidecar_->process().output();
  auto entries = read_stream(redis_, "events:chat");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].field("event_type"), "typing_stop");
}

TEST_F(Coalescing, DisabledMeansEveryEventIsPublished) {
  start({{"EVENT_COALESCING_ENABLED", "false"}});
  TestClient client(sidecar_->port());
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(client.request(typing("typing_start", "r", "u", i)));
  EXPECT_EQ(redis_.command({"XLEN", "events:chat"}).integer, 6);
}

TEST_F(Coalescing, HttpTransportCarriesLessToo) {
  ASSERT_TRUE(redis_.ready());
  // Master switch off (the default): coalescing still applies, over HTTP.
  sidecar_ = std::make_unique<Sidecar>(
      upstream_.port(), std::map<std::string, std::string>{{"EVENT_COALESCING_WINDOW_MS", "300"}});
  ASSERT_TRUE(sidecar_->ready());
  TestClient client(sidecar_->port());
  for (int i = 0; i < 8; ++i) {
    auto r = client.request(typing(i == 7 ? "typing_stop" : "typing_start", "r", "u", i));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, i == 0 ? 200 : 202) << r->body;
  }
  ASSERT_TRUE(upstream_.wait_for_requests(2, seconds(5)));
  std::this_thread::sleep_for(milliseconds(400));  // nothing more may arrive
  auto got = upstream_.requests();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].header("X-Event-Id"), "u-0");
  EXPECT_EQ(got[1].header("X-Event-Id"), "u-7");
  EXPECT_NE(got[1].body.find("typing_stop"), std::string::npos);
  // A body the sidecar cannot read still reaches SignalR untouched while the switch is off.
  auto odd = client.request(make_request("POST", "/internal/broadcast/typing", "not json"));
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->status, 200);
}

// With the master switch off the sidecar must never start refusing bodies
// the app always sent: what the strict checks (whole-body JSON, the entry
// contract) refuse on the Redis path is forwarded as it is.
TEST_F(Coalescing, WithTheSwitchOffWhatTheStrictChecksRefuseStillReachesSignalR) {
  ASSERT_TRUE(redis_.ready());
  sidecar_ = std::make_unique<Sidecar>(upstream_.port(), std::map<std::string, std::string>{});
  ASSERT_TRUE(sidecar_->ready());
  struct Case {
    std::string target, body, headers;
  };
  const Case cases[] = {
      {"/internal/broadcast/typing", R"({"event_type":"typing_start","room_id":"c9","x":tru})", ""},
      {"/internal/broadcast/typing",
       R"({"event_type":"typing_start","room_id":"c9"}{"event_type":"typing_start"})", ""},
      {"/internal/broadcast/typing",
       R"({"event_type":"typing_start","room_id":"c9","user_id":"u","event_id":"a\tb"})", ""},
      {"/internal/broadcast/typing", R"({"event_type":"typing_start","room_id":"c9"})",
       "X-Event-Id: a\tz\r\n"},
  };
  for (const Case& c : cases) {
    size_t before = upstream_.request_count();
    TestClient client(sidecar_->port());
    auto r = client.request(make_request("POST", c.target, c.body, c.headers));
    ASSERT_TRUE(r) << c.body;
    EXPECT_EQ(r->status, 200) << c.body << ": " << r->body;
    ASSERT_TRUE(upstream_.wait_for_requests(before + 1, seconds(5))) << c.body;
    EXPECT_EQ(upstream_.requests().back().body, c.body);
  }
}

// Users typing in bursts at about 8 keystroke events a second, then
// stopping: at least 30% fewer typing events (we expect far more), and the
// last state of every key arrives.
TEST_F(Coalescing, RealisticTypingWorkloadIsReducedAndEveryFinalStateArrives) {
  start({});
  constexpr int kUsers = 12;
  std::vector<std::thread> users;
  std::atomic<int> sent{0};
  for (int u = 0; u < kUsers; ++u) {
    users.emplace_back([&, u] {
      TestClient client(sidecar_->port());
      std::string room = "room-" + std::to_string(u % 4), user = "user-" + std::to_string(u);
      int n = 0;
      for (int burst = 0; burst < 2; ++burst) {
        for (int k = 0; k < 10; ++k) {  // ~1.25 s of keystrokes at 8/s: the workload's own pace
          if (client.request(typing("typing_start", room, user, n++))) ++sent;
          std::this_thread::sleep_for(milliseconds(125));
        }
        if (client.request(typing("typing_stop", room, user, n++))) ++sent;
        std::this_thread::sleep_for(milliseconds(200));
      }
    });
  }
  for (auto& t : users) t.join();
  // Every key's final typing_stop must land; wait for it.
  std::map<std::string, std::string> last;
  std::vector<StreamEntryView> entries;
  eventually(
      [&] {
        entries = read_stream(redis_, "events:chat");
        last.clear();
        for (const auto& e : entries)
          last[e.field("room_id") + "/" + e.field("user_id")] = e.field("event_type");
        return last.size() == kUsers && std::all_of(last.begin(), last.end(), [](const auto& kv) {
                 return kv.second == "typing_stop";
               });
      },
      seconds(5));
  ASSERT_EQ(sent.load(), kUsers * 22);
  ASSERT_EQ(last.size(), static_cast<size_t>(kUsers));
  for (const auto& [key, state] : last) EXPECT_EQ(state, "typing_stop") << key;
  double reduction = 1.0 - static_cast<double>(entries.size()) / sent.load();
  std::printf("typing workload: %d events in, %zu published, reduction %.1f%%\n", sent.load(),
              entries.size(), reduction * 100);
  EXPECT_GE(reduction, 0.30);
}

// Under concurrent load windows close late (the loop is busy), and events
// arrive with random states at random times around the window's end: the
// state of every key's last event must be the last state published, never
// an older held one that overtook it. One Redis connection keeps the
// stream's order the sidecar's order.
TEST_F(Coalescing, UnderConcurrentLoadEveryKeysLastStateWins) {
  start({{"EVENT_COALESCING_WINDOW_MS", "10"},
         {"EVENT_COALESCING_REFRESH_MS", "200"},
         {"REDIS_MAX_CONNECTIONS", "1"}});
  constexpr int kThreads = 6, kKeysPerThread = 4, kEventsPerKey = 150;
  std::vector<std::map<std::string, std::string>> last_sent(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      TestClient client(sidecar_->port());
      uint32_t rnd = 2654435761u * static_cast<uint32_t>(t + 1);
      auto next = [&rnd] {
        rnd ^= rnd << 13;
        rnd ^= rnd >> 17;
        rnd ^= rnd << 5;
        return rnd;
      };
      for (int n = 0; n < kEventsPerKey; ++n) {
        for (int k = 0; k < kKeysPerThread; ++k) {
          std::string room = "room-" + std::to_string(t), user = "user-" + std::to_string(k);
          std::string type = next() % 2 == 0 ? "typing_start" : "typing_stop";
          auto r = client.request(typing(type, room, user, n));
          if (!r || r->status != 202) ++failures;
          last_sent[t][room + "/" + user] = type;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(next() % 12000));
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  std::map<std::string, std::string> expected;
  for (const auto& m : last_sent) expected.insert(m.begin(), m.end());
  std::map<std::string, std::string> last;
  bool settled = eventually(
      [&] {
        last.clear();
        for (const auto& e : read_stream(redis_, "events:chat"))
          last[e.field("room_id") + "/" + e.field("user_id")] = e.field("event_type");
        return last == expected;
      },
      seconds(10));
  ASSERT_EQ(last.size(), expected.size());
  for (const auto& [key, state] : expected) EXPECT_EQ(last[key], state) << key;
  EXPECT_TRUE(settled);
  // Nothing older ever went out after something newer of its key.
  std::map<std::string, int> newest;
  int overtaken = 0;
  for (const auto& e : read_stream(redis_, "events:chat")) {
    std::string key = e.field("room_id") + "/" + e.field("user_id");
    std::string id = e.field("event_id");
    int n = std::stoi(id.substr(id.rfind('-') + 1));
    auto [it, fresh] = newest.emplace(key, n);
    if (!fresh && n <= it->second) ++overtaken;
    it->second = std::max(it->second, n);
  }
  EXPECT_EQ(overtaken, 0);
}

// An event answered 202 coalesced reaches SignalR or is counted and logged
// as lost. Fallback off, and Redis stops answering while the event is held.
TEST_F(Coalescing, AHeldEventWhoseXaddFailsWithFallbackOffIsCountedAndLogged) {
  start({{"EVENT_COALESCING_WINDOW_MS", "400"},
         {"EVENT_TRANSPORT_FALLBACK_TO_HTTP", "false"},
         {"EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", "100"}});
  TestClient client(sidecar_->port());
  auto first = client.request(typing("typing_start", "r", "u", 0));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 202);
  auto held = client.request(typing("typing_stop", "r", "u", 1));
  ASSERT_TRUE(held);
  ASSERT_NE(held->body.find("\"coalesced\""), std::string::npos) << held->body;
  redis_.pause();  // the window closes while Redis does not answer
  EXPECT_TRUE(eventually(
      [&] {
        return metric_sample(sidecar_->admin_port(),
                             "streamshift_events_lost_total{reason=\"redis_failed\"}") == 1.0;
      },
      seconds(5)));
  EXPECT_TRUE(sidecar_->process().wait_output("coalesced event lost", seconds(5)));
  EXPECT_NE(sidecar_->process().output().find("\"event_id\":\"u-1\""), std::string::npos);
  redis_.resume();
}

// Fallback off and Redis known to fail: nothing is held, so the app gets
// its 503 instead of a 202 for an event that could only be lost.
TEST_F(Coalescing, NothingIsHeldWhileRedisFailsWithFallbackOff) {
  start({{"EVENT_COALESCING_WINDOW_MS", "400"}, {"EVENT_TRANSPORT_FALLBACK_TO_HTTP", "false"}});
  redis_.kill_hard();
  ASSERT_TRUE(eventually(
      [&] {
        return metric_sample(sidecar_->admin_port(), "streamshift_redis_connections_ready") == 0.0;
      },
      seconds(5)));
  TestClient client(sidecar_->port());
  for (int n = 0; n < 4; ++n) {
    auto r = client.request(typing(n % 2 == 0 ? "typing_start" : "typing_stop", "r", "u", n));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503) << r->body;
  }
  EXPECT_EQ(metric_sample(sidecar_->admin_port(),
                          "streamshift_events_lost_total{reason=\"redis_failed\"}"),
            0.0);
}

}  // namespace
}  // namespace streamshift::testing
