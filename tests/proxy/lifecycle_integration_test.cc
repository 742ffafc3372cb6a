// The binary's life: subcommands, configuration errors, JSON logs, and
// SIGTERM draining without losing an accepted request.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/eventually.h"
#include "tests/support/net.h"
#include "tests/support/proc_stats.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_upstream.h"

namespace streamshift::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

int run(std::vector<std::string> args, std::map<std::string, std::string> env, std::string* out) {
  args.insert(args.begin(), streamshift_binary());
  ChildProcess p(args, env);
  int code = p.wait(seconds(20));
  *out = p.output();
  return code;
}

TEST(Cli, VersionHelpAndUnknownCommands) {
  std::string out;
  EXPECT_EQ(run({"--version"}, {}, &out), 0);
  EXPECT_EQ(out.rfind("streamshift ", 0), 0u) << out;
  EXPECT_EQ(run({"--help"}, {}, &out), 0);
  EXPECT_NE(out.find("check-config"), std::string::npos);
  EXPECT_EQ(run({"frobnicate"}, {}, &out), 2);
  EXPECT_NE(out.find("unknown command"), std::string::npos);
}

TEST(Cli, CheckConfigPrintsEffectiveValues) {
  std::string out;
  EXPECT_EQ(run({"check-config"}, {{"STREAMSHIFT_WORKERS", "2"}}, &out), 0) << out;
  EXPECT_NE(out.find("STREAMSHIFT_WORKERS=2\t(set)"), std::string::npos) << out;
  EXPECT_NE(out.find("STREAMSHIFT_LISTEN=127.0.0.1:15001\t(default)"), std::string::npos) << out;
}

TEST(Cli, CheckConfigNamesEveryBadVariable) {
  std::string out;
  EXPECT_EQ(run({"check-config"},
                {{"STREAMSHIFT_WORKERS", "500"},
                 {"STREAMSHIFT_CLIENT_TIMEOUT_MS", "soon"},
                 {"LOG_LEVEL", "chatty"}},
                &out),
            2);
  EXPECT_NE(out.find("STREAMSHIFT_WORKERS=\"500\": invalid, allowed: an integer from 1 to 64"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("STREAMSHIFT_CLIENT_TIMEOUT_MS=\"soon\""), std::string::npos) << out;
  EXPECT_NE(out.find("LOG_LEVEL=\"chatty\""), std::string::npos) << out;
}

TEST(Cli, CheckConfigWarnsAboutUnknownVariables) {
  std::string out;
  EXPECT_EQ(run({"check-config"}, {{"STREAMSHIFT_WORKER", "2"}}, &out), 0);
  EXPECT_NE(out.find("warning: STREAMSHIFT_WORKER is set but not used"), std::string::npos) << out;
}

// An invalid value is shown as given and marked, never as the default the
// program would silently have fallen back to.
TEST(Cli, CheckConfigShowsInvalidValuesAsInvalid) {
  std::string out;
  EXPECT_EQ(run({"check-config"}, {{"STREAMSHIFT_WORKERS", "500"}}, &out), 2);
  EXPECT_NE(out.find("INVALID configuration"), std::string::npos) << out;
  EXPECT_NE(out.find("STREAMSHIFT_WORKERS=500\t(INVALID, allowed: an integer from 1 to 64)"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("STREAMSHIFT_WORKERS=1\t"), std::string::npos) << out;
  EXPECT_EQ(out.find("effective configuration"), std::string::npos) << out;
}

TEST(Cli, CheckConfigNamesTheUnexpectedArgument) {
  std::string out;
  EXPECT_EQ(run({"check-config", "relay", "extra"}, {}, &out), 2);
  EXPECT_NE(out.find("unexpected argument 'extra'"), std::string::npos) << out;
  EXPECT_EQ(run({"check-config", "relya"}, {}, &out), 2);
  EXPECT_NE(out.find("unexpected argument 'relya'"), std::string::npos) << out;
  EXPECT_EQ(run({"proxy", "now"}, {}, &out), 2);
  EXPECT_NE(out.find("unexpected argument 'now'"), std::string::npos) << out;
}

TEST(Cli, CheckConfigStrictMakesUnknownVariablesErrors) {
  std::string out;
  EXPECT_EQ(run({"check-config", "--strict"}, {{"EVENT_TRANSPORT_USE_REDIS_STREAM", "true"}}, &out),
            2);
  EXPECT_NE(out.find("EVENT_TRANSPORT_USE_REDIS_STREAM=\"(set)\": invalid"), std::string::npos)
      << out;
  EXPECT_EQ(run({"check-config", "--strict", "relay"}, {{"STREAMSHIFT_RELAY_TARGET", "x"}}, &out),
            2);
  EXPECT_NE(out.find("STREAMSHIFT_RELAY_TARGET="), std::string::npos) << out;
  EXPECT_EQ(run({"check-config", "proxy", "--strict"}, {{"STREAMSHIFT_WORKERS", "2"}}, &out), 0)
      << out;
}

TEST(Cli, ProxyRefusesToStartOnBadConfiguration) {
  std::string out;
  EXPECT_EQ(run({"proxy"}, {{"STREAMSHIFT_MAX_BODY_BYTES", "huge"}}, &out), 2);
  EXPECT_NE(out.find("STREAMSHIFT_MAX_BODY_BYTES"), std::string::npos) << out;
}

TEST(Cli, PortInUseExitsWithAnError) {
  TestUpstream upstream;
  Sidecar first(upstream.port());
  ASSERT_TRUE(first.ready());
  std::string out;
  EXPECT_EQ(run({"proxy"},
                {{"STREAMSHIFT_LISTEN", "127.0.0.1:" + std::to_string(upstream.port())},
                 {"STREAMSHIFT_ADMIN_LISTEN", "127.0.0.1:" + std::to_string(free_port())}},
                &out),
            1);
  EXPECT_NE(out.find("cannot listen"), std::string::npos) << out;
  // The admin port taken: the start fails too, naming it.
  EXPECT_EQ(run({"proxy"},
                {{"STREAMSHIFT_LISTEN", "127.0.0.1:" + std::to_string(free_port())},
                 {"STREAMSHIFT_ADMIN_LISTEN", "127.0.0.1:" + std::to_string(first.admin_port())}},
                &out),
            1);
  EXPECT_NE(out.find("cannot listen (admin)"), std::string::npos) << out;
}

TEST(Logs, AreOneJsonObjectPerLine) {
  TestUpstream upstream;
  Sidecar sidecar(upstream.port(), {{"LOG_LEVEL", "debug"}});
  ASSERT_TRUE(sidecar.ready());
  {
    TestClient client(sidecar.port());
    client.request("BAD\r\n\r\n");
  }
  sidecar.process().signal(SIGTERM);
  ASSERT_EQ(sidecar.process().wait(seconds(10)), 0);
  std::istringstream lines(sidecar.process().output());
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    ++count;
    EXPECT_EQ(line.front(), '{') << line;
    EXPECT_EQ(line.back(), '}') << line;
    EXPECT_NE(line.find("\"level\":"), std::string::npos) << line;
  }
  EXPECT_GE(count, 3);
  EXPECT_NE(sidecar.process().output().find("\"msg\":\"request rejected\""), std::string::npos);
}

TEST(Shutdown, SigtermFinishesRequestsInFlight) {
  TestUpstream upstream;
  upstream.set_handler([](const ReceivedRequest& req) {
    UpstreamReply r;
    r.delay = milliseconds(400);
    r.body = "done " + req.target;
    return r;
  });
  Sidecar sidecar(upstream.port());
  ASSERT_TRUE(sidecar.ready());
  constexpr int kClients = 6;
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<TestClient>(sidecar.port()));
    ASSERT_TRUE(clients.back()->send(make_request("POST", "/inflight/" + std::to_string(i), "x")));
  }
  ASSERT_TRUE(upstream.wait_for_requests(kClients, seconds(5)));
  sidecar.process().signal(SIGTERM);
  for (int i = 0; i < kClients; ++i) {
    auto response = clients[i]->read_response(seconds(5));
    ASSERT_TRUE(response) << "client " << i;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "done /inflight/" + std::to_string(i));
    EXPECT_EQ(response->header("Connection"), "close");
  }
  EXPECT_EQ(sidecar.process().wait(seconds(10)), 0) << sidecar.process().output();
  EXPECT_FALSE(wait_port_open(sidecar.port(), milliseconds(100)));
}

TEST(Shutdown, DrainTimeoutBoundsTheWait) {
  TestUpstream upstream;
  upstream.set_handler([](const ReceivedRequest&) {
    UpstreamReply r;
    r.delay = milliseconds(3000);
    return r;
  });
  Sidecar sidecar(upstream.port(), {{"STREAMSHIFT_DRAIN_TIMEOUT_MS", "300"}});
  ASSERT_TRUE(sidecar.ready());
  TestClient client(sidecar.port());
  ASSERT_TRUE(client.send(make_request("GET", "/stuck")));
  ASSERT_TRUE(upstream.wait_for_requests(1, seconds(5)));
  auto started = std::chrono::steady_clock::now();
  sidecar.process().signal(SIGTERM);
  EXPECT_EQ(sidecar.process().wait(seconds(5)), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(2500));
  EXPECT_NE(sidecar.process().output().find("drain timeout"), std::string::npos);
}

// Redis stopped (SIGSTOP: the connections stay open, nothing answers) with
// a look-up of the admin listener and an event's XADD still waiting for
// their replies: the drain timeout bounds the whole shutdown, Redis
// connections included.
TEST(Shutdown, DrainTimeoutBoundsTheWaitForAStoppedRedis) {
  TestUpstream upstream;
  RedisServer redis;
  ASSERT_TRUE(redis.ready());
  Sidecar sidecar(upstream.port(), {{"REDIS_URL", redis.url()},
                                    {"EVENT_TRANSPORT_USE_REDIS_STREAMS", "true"},
                                    {"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"},
                                    {"EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", "5000"},
                                    {"STREAMSHIFT_ADMIN_TOKEN", "t0ken-for-tests"},
                                    {"STREAMSHIFT_DRAIN_TIMEOUT_MS", "2000"}});
  ASSERT_TRUE(sidecar.ready());
  ASSERT_TRUE(sidecar.wait_redis_connected("admin"));
  ASSERT_TRUE(sidecar.wait_redis_connected("events"));
  redis.pause();
  {
    TestClient admin(sidecar.admin_port());
    auto health = admin.request(make_request("GET", "/api/v1/events/health", "",
                                             "Authorization: Bearer t0ken-for-tests\r\n"),
                                seconds(10));
    ASSERT_TRUE(health);
  }
  size_t unread = unread_bytes(redis.port());
  std::string event = "{\"event_type\":\"chat_message\",\"room_id\":\"r\"}";
  TestClient client(sidecar.port());
  ASSERT_TRUE(client.send(make_request("POST", "/internal/broadcast/chat", event,
                                       "Content-Type: application/json\r\n")));
  // The XADD, which carries the event, waits unread in the stopped Redis's socket.
  ASSERT_TRUE(eventually([&] { return unread_bytes(redis.port()) >= unread + event.size(); },
                         seconds(10), "the XADD written to Redis"));
  auto started = std::chrono::steady_clock::now();
  sidecar.process().signal(SIGTERM);
  int code = sidecar.process().wait(seconds(30));
  auto took = std::chrono::steady_clock::now() - started;
  redis.resume();
  EXPECT_EQ(code, 0) << sidecar.process().output();
  RecordProperty("shutdown_ms",
                 static_cast<int>(std::chrono::duration_cast<milliseconds>(took).count()));
  EXPECT_LT(took, milliseconds(2000 + 1500))
      << std::chrono::duration_cast<milliseconds>(took).count() << " ms";
}

// Clients hammer the sidecar while it gets SIGTERM. Every request the
// upstream received must have been answered to its client in full; a client
// may see its connection refused or closed only for requests that never
// reached the upstream.
TEST(Shutdown, SigtermUnderLoadLosesNoAcceptedRequest) {
  TestUpstream upstream;
  upstream.set_handler([](const ReceivedRequest& req) {
    UpstreamReply r;
    r.delay = milliseconds(2);
    r.body = req.header("X-Seq").value_or("");
    return r;
  });
  Sidecar sidecar(upstream.port(), {{"STREAMSHIFT_WORKERS", "2"}});
  ASSERT_TRUE(sidecar.ready());
  std::mutex mu;
  std::set<std::string> answered;
  std::atomic<bool> stop{false};
  std::atomic<int> total_ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      int seq = 0;
      while (!stop) {
        TestClient client(sidecar.port());
        if (!client.connected()) break;  // listener gone
        for (int i = 0; i < 20 && !stop; ++i) {
          std::string id = std::to_string(t) + "-" + std::to_string(seq++);
          if (!client.send(make_request("POST", "/load", "payload", "X-Seq: " + id + "\r\n")))
            break;
          auto response = client.read_response(seconds(5));
          if (!response) break;  // closed before answering: must not have reached the upstream
          if (response->status == 200 && response->body == id) {
            std::lock_guard<std::mutex> lock(mu);
            answered.insert(id);
            ++total_ok;
          }
          if (response->header("Connection") == "close") break;
        }
      }
    });
  }
  ASSERT_TRUE(upstream.wait_for_requests(300, seconds(20)));
  sidecar.process().signal(SIGTERM);
  EXPECT_EQ(sidecar.process().wait(seconds(15)), 0) << sidecar.process().output();
  stop = true;
  for (auto& th : threads) th.join();
  std::set<std::string> received;
  for (const auto& r : upstream.requests()) received.insert(r.header("X-Seq").value_or("?"));
  EXPECT_GE(total_ok.load(), 250);
  for (const std::string& id : received) {
    EXPECT_TRUE(answered.count(id))
        << "request " << id << " reached the upstream but its answer was lost";
  }
}

}  // namespace
}  // namespace streamshift::testing
