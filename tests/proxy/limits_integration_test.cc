// What one client may hold, through the real binary: the connection cap
// (STREAMSHIFT_MAX_CONNECTIONS) and running out of file descriptors.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "tests/support/eventually.h"
#include "tests/support/net.h"
#include "tests/support/proc_stats.h"
#include "tests/support/process.h"
#include "tests/support/test_upstream.h"

namespace streamshift::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(Limits, ConnectionsOverTheCapAreClosedAtOnceAndCounted) {
  TestUpstream upstream;
  Sidecar sidecar(upstream.port(), {{"STREAMSHIFT_MAX_CONNECTIONS", "5"}});
  ASSERT_TRUE(sidecar.ready()) << sidecar.process().output();
  // The fixture's own readiness probe connected and closed: wait until the
  // sidecar has let it go, then hold all five.
  std::vector<std::unique_ptr<TestClient>> held;
  for (int i = 0; i < 5; ++i) {
    held.push_back(std::make_unique<TestClient>(sidecar.port()));
    auto r = held.back()->request(make_request("GET", "/held"));
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200);
  }
  TestClient over(sidecar.port());
  ASSERT_TRUE(over.connected());
  EXPECT_TRUE(over.wait_closed(seconds(5)));
  EXPECT_EQ(metric_sample(sidecar.admin_port(),
                          "streamshift_connections_refused_total{reason=\"max_connections\"}"),
            1.0);
  // One goes away: a new client is served again.
  held.pop_back();
  EXPECT_TRUE(eventually(
      [&] {
        TestClient again(sidecar.port());
        auto r = again.request(make_request("GET", "/again"), seconds(2));
        return r && r->status == 200;
      },
      seconds(5)));
}

// Out of file descriptors: the listener neither dies nor spins, and serves
// again as soon as descriptors are free.
TEST(Limits, RunningOutOfFileDescriptorsNeitherSpinsNorStopsTheListener) {
  TestUpstream upstream;
  uint16_t port = free_port(), admin = free_port();
  ChildProcess sidecar(
      {"/bin/sh", "-c", "ulimit -n 64 && exec " + streamshift_binary() + " proxy"},
      {{"STREAMSHIFT_LISTEN", "127.0.0.1:" + std::to_string(port)},
       {"STREAMSHIFT_ADMIN_LISTEN", "127.0.0.1:" + std::to_string(admin)},
       {"STREAMSHIFT_UPSTREAM_URL", "http://127.0.0.1:" + std::to_string(upstream.port())},
       {"STREAMSHIFT_MAX_CONNECTIONS", "0"}});
  ASSERT_TRUE(sidecar.wait_output("\"msg\":\"listening\"", seconds(10))) << sidecar.output();
  ASSERT_TRUE(wait_port_open(port, seconds(5)));
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 120; ++i) clients.push_back(std::make_unique<TestClient>(port));
  // Connections beyond the descriptors are shed (accepted and closed: the
  // client sees its connection end), not left to spin on.
  size_t shed = 0;
  EXPECT_TRUE(eventually(
      [&] {
        for (auto& c : clients) shed += c->wait_closed(milliseconds(20)) ? 1 : 0;
        return shed > 0;
      },
      seconds(10)))
      << sidecar.output();
  double before = cpu_seconds(sidecar.pid());
  std::this_thread::sleep_for(seconds(1));  // measuring an interval, not waiting for an event
  double used = cpu_seconds(sidecar.pid()) - before;
  EXPECT_LT(used, 0.3) << "the sidecar spins while out of descriptors";
  EXPECT_TRUE(sidecar.running());
  clients.clear();
  EXPECT_TRUE(eventually(
      [&] {
        TestClient again(port);
        auto r = again.request(make_request("GET", "/after"), seconds(2));
        return r && r->status == 200;
      },
      seconds(10)))
      << sidecar.output();
  sidecar.signal(SIGTERM);
  EXPECT_EQ(sidecar.wait(seconds(20)), 0);
}

// Slow clients holding bodies can fill the body budget; then a new body
// gets 503 and its connection closes, while requests without a body, and
// bodies once the budget has room again, are served at once.
TEST(Limits, TheBodyBudgetBoundsWhatSlowClientsHoldAndOthersAreStillServed) {
  TestUpstream upstream;
  Sidecar sidecar(upstream.port(), {{"STREAMSHIFT_BODY_BUDGET_BYTES", "100000"}});
  ASSERT_TRUE(sidecar.ready()) << sidecar.process().output();
  std::string head = "POST /slow HTTP/1.1\r\nHost: a\r\nContent-Length: 80000\r\n\r\n";
  TestClient slow(sidecar.port());
  ASSERT_TRUE(slow.send(head + std::string(70000, 'a')));  // and then nothing for now
  // The slow body holds its share before another comes (with several
  // workers the other could otherwise be read first, and the slow one
  // refused instead).
  auto body_bytes = [&] {
    return metric_sample(sidecar.admin_port(), "streamshift_ingress_body_bytes");
  };
  ASSERT_TRUE(eventually([&] { return body_bytes() == 70000.0; }, seconds(10)));
  ASSERT_TRUE(eventually(
      [&] {
        TestClient other(sidecar.port());
        auto r = other.request(make_request("POST", "/big", std::string(50000, 'b')), seconds(2));
        return r && r->status == 503 && r->body.find("\"overloaded\"") != std::string::npos &&
               other.wait_closed(seconds(2));
      },
      seconds(10)));
  // Without a body: served, and quickly.
  TestClient plain(sidecar.port());
  auto started = std::chrono::steady_clock::now();
  auto get = plain.request(make_request("GET", "/plain"));
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_LT(took, milliseconds(500));
  // The slow body completes: its share goes back, and big bodies pass again.
  ASSERT_TRUE(slow.send(std::string(10000, 'a')));
  auto done = slow.read_response();
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 200);
  TestClient after(sidecar.port());
  auto big = after.request(make_request("POST", "/big", std::string(50000, 'b')));
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 200);
  EXPECT_TRUE(eventually([&] { return body_bytes() == 0.0; }, seconds(5)));
}

// An error answer reaches a client that is still sending its body: the
// sidecar reads and drops the rest (a lingering close) instead of closing
// with unread bytes, which resets the connection and can destroy the answer
// before the client reads it, or fail the client's send.
TEST(Limits, AnErrorAnswerReachesAClientStillSendingItsBody) {
  TestUpstream upstream;
  Sidecar sidecar(upstream.port(), {{"STREAMSHIFT_MAX_BODY_BYTES", "1024"}});
  ASSERT_TRUE(sidecar.ready()) << sidecar.process().output();
  for (int round = 0; round < 5; ++round) {
    // Far more than the socket buffers hold: the send completes only if
    // the sidecar keeps reading after it has answered.
    std::string body(4 * 1024 * 1024, 'x');
    TestClient client(sidecar.port());
    auto r = client.request(make_request("POST", "/too-big", body), seconds(10));
    ASSERT_TRUE(r) << "round " << round << ": the answer was lost";
    EXPECT_EQ(r->status, 413);
    EXPECT_NE(r->body.find("\"body_too_large\""), std::string::npos) << r->body;
    EXPECT_TRUE(client.wait_closed(seconds(5)));
  }
  EXPECT_EQ(upstream.requests().size(), 0u);
}

}  // namespace
}  // namespace streamshift::testing
