// The upstream pool driven directly on a loop, against a real HTTP server
// written in the tests. Running the loop only when the test says so makes
// the stale keep-alive race deterministic.
#include "core/http_client.h"

#include <gtest/gtest.h>

#include <optional>

#include "tests/support/net.h"
#include "tests/support/test_upstream.h"

namespace streamshift {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::ReceivedRequest;
using testing::TestUpstream;
using testing::UpstreamReply;

class UpstreamPoolTest : public ::testing::Test {
 protected:
  UpstreamPoolTest() { uv_loop_init(&loop_); }
  ~UpstreamPoolTest() override {
    if (pool_) {
      pool_->shutdown([] {});
      uv_run(&loop_, UV_RUN_DEFAULT);
    }
    uv_loop_close(&loop_);
  }

  void make_pool(uint16_t port, size_t max_connections = 8, uint64_t timeout_ms = 2000) {
    UpstreamOptions options;
    options.host = "127.0.0.1";
    options.port = port;
    options.max_connections = max_connections;
    options.request_timeout_ms = timeout_ms;
    options.connect_timeout_ms = 500;
    pool_ = std::make_unique<UpstreamPool>(&loop_, options);
  }

  // Sends a request; the result lands in *out when the loop runs.
  void send(std::string target, std::optional<UpstreamResponse>* out) {
    auto req = std::make_unique<UpstreamRequest>();
    req->head = "POST " + target + " HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\n";
    req->body = "body";
    req->on_done = [out](UpstreamResponse& r) { *out = std::move(r); };
    pool_->send(std::move(req));
  }

  // Runs the loop until every result is in, or fails after a deadline.
  void run_until(std::initializer_list<std::optional<UpstreamResponse>*> results) {
    auto deadline = std::chrono::steady_clock::now() + seconds(10);
    auto done = [&] {
      for (auto* r : results) {
        if (!r->has_value()) return false;
      }
      return true;
    };
    while (!done()) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no answer in time";
      uv_run(&loop_, UV_RUN_ONCE);
    }
  }

  uv_loop_t loop_;
  TestUpstream upstream_;
  std::unique_ptr<UpstreamPool> pool_;
};

TEST_F(UpstreamPoolTest, ReusesAKeepAliveConnection) {
  make_pool(upstream_.port());
  std::optional<UpstreamResponse> a, b;
  send("/a", &a);
  run_until({&a});
  send("/b", &b);
  run_until({&b});
  EXPECT_EQ(a->status, 200);
  EXPECT_EQ(b->body, "ok");
  EXPECT_EQ(upstream_.connections_accepted(), 1);
  EXPECT_EQ(pool_->idle_count(), 1u);
}

TEST_F(UpstreamPoolTest, RetriesOnlyWhenAPooledConnectionProvesClosedBeforeWriting) {
  upstream_.set_handler([](const ReceivedRequest&) {
    UpstreamReply r;
    r.body = "ok";
    r.close_after = true;  // unannounced: the pool believes the connection is reusable
    return r;
  });
  make_pool(upstream_.port());
  std::optional<UpstreamResponse> first, second;
  send("/first", &first);
  run_until({&first});
  ASSERT_EQ(first->status, 200);
  // The upstream closes while our loop is not running: the pool has not
  // seen the FIN when the next request picks the idle connection.
  ASSERT_TRUE(upstream_.wait_for_closed(1, seconds(5)));
  send("/second", &second);
  run_until({&second});
  EXPECT_EQ(second->error, UpstreamError::kNone) << second->detail;
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(pool_->stale_retries(), 1u);
  EXPECT_EQ(upstream_.request_count(), 2u);  // nothing was sent twice
  EXPECT_EQ(upstream_.connections_accepted(), 2);
}

TEST_F(UpstreamPoolTest, NeverRetriesARequestThatWasWritten) {
  upstream_.set_handler([](const ReceivedRequest&) {
    UpstreamReply r;
    r.close_without_answer = true;
    return r;
  });
  make_pool(upstream_.port());
  std::optional<UpstreamResponse> r;
  send("/x", &r);
  run_until({&r});
  EXPECT_EQ(r->error, UpstreamError::kClosed);
  EXPECT_EQ(upstream_.request_count(), 1u);
}

TEST_F(UpstreamPoolTest, TimeoutClosesTheConnection) {
  upstream_.set_handler([](const ReceivedRequest&) {
    UpstreamReply r;
    r.delay = milliseconds(800);
    return r;
  });
  make_pool(upstream_.port(), 8, 200);
  std::optional<UpstreamResponse> r;
  send("/slow", &r);
  run_until({&r});
  EXPECT_EQ(r->error, UpstreamError::kTimeout);
  EXPECT_TRUE(upstream_.wait_for_closed(1, seconds(5)));
}

TEST_F(UpstreamPoolTest, RefusedConnectIsReported) {
  make_pool(testing::free_port());
  std::optional<UpstreamResponse> r;
  send("/x", &r);
  run_until({&r});
  EXPECT_EQ(r->error, UpstreamError::kConnectFailed);
  EXPECT_NE(r->detail.find("ECONNREFUSED"), std::string::npos) << r->detail;
}

TEST_F(UpstreamPoolTest, QueuesBeyondTheConnectionLimitInOrder) {
  make_pool(upstream_.port(), 1);
  std::optional<UpstreamResponse> a, b, c;
  send("/1", &a);
  send("/2", &b);
  send("/3", &c);
  run_until({&a, &b, &c});
  EXPECT_EQ(a->status, 200);
  EXPECT_EQ(b->status, 200);
  EXPECT_EQ(c->status, 200);
  EXPECT_EQ(upstream_.connections_accepted(), 1);
  auto got = upstream_.requests();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].target, "/1");
  EXPECT_EQ(got[2].target, "/3");
}

TEST_F(UpstreamPoolTest, QueuedRequestsTimeOutToo) {
  upstream_.set_handler([](const ReceivedRequest&) {
    UpstreamReply r;
    r.delay = milliseconds(600);
    return r;
  });
  make_pool(upstream_.port(), 1, 300);
  std::optional<UpstreamResponse> a, b;
  send("/1", &a);
  send("/2", &b);
  run_until({&a, &b});
  EXPECT_EQ(a->error, UpstreamError::kTimeout);
  EXPECT_EQ(b->error, UpstreamError::kTimeout);
  EXPECT_EQ(upstream_.request_count(), 1u);
}

TEST_F(UpstreamPoolTest, ShutdownFailsWhatIsInFlight) {
  upstream_.set_handler([](const ReceivedRequest&) {
    UpstreamReply r;
    r.delay = milliseconds(500);
    return r;
  });
  make_pool(upstream_.port(), 1);
  std::optional<UpstreamResponse> a, b;
  send("/1", &a);
  send("/2", &b);
  ASSERT_TRUE(upstream_.wait_for_requests(0, seconds(1)));
  bool closed = false;
  pool_->shutdown([&] { closed = true; });
  run_until({&a, &b});
  EXPECT_EQ(a->error, UpstreamError::kShutdown);
  EXPECT_EQ(b->error, UpstreamError::kShutdown);
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_TRUE(closed);
  pool_.reset();
}

}  // namespace
}  // namespace streamshift
