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
using namespace std::string_literals;
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

  void make_pool(uint16_t port, size_t max_connections = 8, uint64_t timeout_ms = 2000,
                 size_t max_response_bytes = UpstreamOptions{}.max_response_bytes) {
    UpstreamOptions options;
    options.max_response_bytes = max_response_bytes;
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

  // Sends a request and runs the loop until its answer is in.
  UpstreamResponse exchange(std::string target) {
    std::optional<UpstreamResponse> r;
    send(std::move(target), &r);
    run_until({&r});
    return r ? std::move(*r) : UpstreamResponse{};
  }

  // Runs the loop until every result is in, or fails after a deadline.
  void run_until(std::initializer_list<std::optional<UpstreamResponse>*> results) {
    run_until_true([&] {
      for (auto* r : results) {
        if (!r->has_value()) return false;
      }
      return true;
    });
  }

  template <class Condition>
  void run_until_true(Condition done) {
    auto deadline = std::chrono::steady_clock::now() + seconds(10);
    while (!done()) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "not in time";
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

// Idle connections are a stack: the one that answered last is reused first
// (the likeliest to be still open; the others can age out).
TEST_F(UpstreamPoolTest, ReusesTheConnectionThatAnsweredLastFirst) {
  upstream_.set_handler([](const ReceivedRequest& req) {
    UpstreamReply r;
    if (req.target == "/slow") r.delay = milliseconds(300);
    return r;
  });
  make_pool(upstream_.port());
  std::optional<UpstreamResponse> slow, fast, next;
  send("/slow", &slow);
  send("/fast", &fast);
  run_until({&fast});
  run_until({&slow});
  ASSERT_EQ(pool_->idle_count(), 2u);
  send("/next", &next);
  run_until({&next});
  EXPECT_EQ(next->status, 200);
  auto connection_of = [&](std::string_view target) {
    for (const ReceivedRequest& r : upstream_.requests()) {
      if (r.target == target) return r.connection;
    }
    return -1;
  };
  EXPECT_NE(connection_of("/slow"), connection_of("/fast"));
  EXPECT_EQ(connection_of("/next"), connection_of("/slow"));
  EXPECT_EQ(upstream_.connections_accepted(), 2);
}

// A pooled connection the upstream closes leaves the pool, idle stack
// included, and is never handed a request again.
TEST_F(UpstreamPoolTest, AnIdleConnectionTheUpstreamClosesLeavesThePool) {
  upstream_.set_handler([](const ReceivedRequest&) {
    UpstreamReply r;
    r.body = "ok";
    r.close_after = true;
    return r;
  });
  make_pool(upstream_.port());
  UpstreamResponse a = exchange("/a");
  ASSERT_EQ(a.error, UpstreamError::kNone) << a.detail;
  run_until_true([&] { return pool_->connection_count() == 0; });
  EXPECT_EQ(pool_->idle_count(), 0u);
  UpstreamResponse b = exchange("/b");
  EXPECT_EQ(b.error, UpstreamError::kNone) << b.detail;
  EXPECT_EQ(pool_->stale_retries(), 0u);
  EXPECT_EQ(pool_->connections_opened(), 2u);
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

using testing::repeat;

TestUpstream::Handler raw_reply(std::string raw) {
  return [raw](const ReceivedRequest&) {
    UpstreamReply r;
    r.raw = raw;
    return r;
  };
}

TEST_F(UpstreamPoolTest, DefaultsBoundTheResponse) {
  UpstreamOptions defaults;
  EXPECT_EQ(defaults.max_response_bytes, 8u * 1024 * 1024);
  EXPECT_EQ(defaults.max_response_head_bytes, 64u * 1024);
}

struct HostileResponse {
  const char* name;
  std::string raw;
  UpstreamError error;
};

void PrintTo(const HostileResponse& h, std::ostream* os) {
  *os << h.name;
}

class HostileUpstream : public UpstreamPoolTest,
                        public ::testing::WithParamInterface<HostileResponse> {};

// Each is refused, its connection closed, and the pool keeps working.
TEST_P(HostileUpstream, IsRefusedAndTheConnectionDropped) {
  const HostileResponse& c = GetParam();
  upstream_.set_handler([&](const ReceivedRequest& req) {
    UpstreamReply r;
    if (req.target == "/hostile") r.raw = c.raw;
    r.body = "fine";
    return r;
  });
  make_pool(upstream_.port(), 8, 5000, 1000);
  UpstreamResponse bad = exchange("/hostile");
  EXPECT_EQ(bad.error, c.error) << upstream_error_name(bad.error) << ": " << bad.detail;
  EXPECT_TRUE(upstream_.wait_for_closed(1, seconds(5)));
  UpstreamResponse good = exchange("/next");
  EXPECT_EQ(good.error, UpstreamError::kNone) << good.detail;
  EXPECT_EQ(good.body, "fine");
}

INSTANTIATE_TEST_SUITE_P(
    Responses, HostileUpstream,
    ::testing::Values(
        HostileResponse{"bare_cr_after_reason", "HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n",
                        UpstreamError::kBadResponse},
        HostileResponse{"bare_cr_in_value",
                        "HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n",
                        UpstreamError::kBadResponse},
        HostileResponse{"bare_lf", "HTTP/1.1 200 OK\nContent-Length: 0\n\n",
                        UpstreamError::kBadResponse},
        HostileResponse{"crlf_cr_then_byte", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\rXok",
                        UpstreamError::kBadResponse},
        HostileResponse{
            "obs_fold",
            "HTTP/1.1 200 OK\r\nX: a\r\n Content-Length: 2\r\nContent-Length: 2\r\n\r\nok",
            UpstreamError::kBadResponse},
        HostileResponse{"nul_in_head", "HTTP/1.1 200 OK\r\nX: \0\r\nContent-Length: 0\r\n\r\n"s,
                        UpstreamError::kBadResponse},
        HostileResponse{"no_status_code", "HTTP/1.1 \r\nContent-Length: 0\r\n\r\n",
                        UpstreamError::kBadResponse},
        HostileResponse{"status_code_over_599", "HTTP/1.1 999 X\r\nContent-Length: 0\r\n\r\n",
                        UpstreamError::kBadResponse},
        HostileResponse{"empty_field_name", "HTTP/1.1 200 OK\r\n:x\r\nContent-Length: 0\r\n\r\n",
                        UpstreamError::kBadResponse},
        HostileResponse{
            "te_and_cl",
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            UpstreamError::kBadResponse},
        HostileResponse{"switching_protocols",
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
                        UpstreamError::kBadResponse},
        HostileResponse{"interim_then_bare_cr",
                        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n",
                        UpstreamError::kBadResponse},
        HostileResponse{"head_over_64k",
                        "HTTP/1.1 200 OK\r\nX-Pad: " + std::string(70 * 1024, 'p') + "\r\n\r\n",
                        UpstreamError::kResponseTooLarge},
        HostileResponse{"reason_over_64k",
                        "HTTP/1.1 200 " + std::string(70 * 1024, 'r') + "\r\n\r\n",
                        UpstreamError::kResponseTooLarge},
        HostileResponse{"endless_empty_headers",
                        "HTTP/1.1 200 OK\r\n" + repeat("X-Pad:\r\n", 200000) + "\r\n",
                        UpstreamError::kResponseTooLarge},
        HostileResponse{"101_header_fields",
                        "HTTP/1.1 200 OK\r\n" + repeat("X-Pad:\r\n", 101) + "\r\n",
                        UpstreamError::kResponseTooLarge},
        HostileResponse{"body_over_the_limit", "HTTP/1.1 200 OK\r\nContent-Length: 1001\r\n\r\n",
                        UpstreamError::kResponseTooLarge},
        HostileResponse{
            "te_gzip_chunked",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            UpstreamError::kBadResponse},
        HostileResponse{"te_gzip_until_eof", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok",
                        UpstreamError::kBadResponse},
        HostileResponse{
            "chunk_data_not_followed_by_crlf",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
            UpstreamError::kBadResponse},
        HostileResponse{
            "chunk_size_bare_lf",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
            UpstreamError::kBadResponse},
        HostileResponse{"chunked_body_over_the_limit",
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n" +
                            std::string(1001, 'b') + "\r\n0\r\n\r\n",
                        UpstreamError::kResponseTooLarge}),
    [](const ::testing::TestParamInfo<HostileResponse>& p) { return std::string(p.param.name); });

TEST_F(UpstreamPoolTest, AcceptsAHeadOfAHundredFieldsAndInterimAnswers) {
  upstream_.set_handler(
      raw_reply("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n"
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" +
                repeat("X-Pad:\r\n", 99) + "\r\nok"));
  make_pool(upstream_.port());
  UpstreamResponse r = exchange("/x");
  ASSERT_EQ(r.error, UpstreamError::kNone) << r.detail;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.size(), 100u);
  EXPECT_EQ(r.body, "ok");
}

TEST_F(UpstreamPoolTest, ChunkedAnswersAreDecodedAndTheConnectionReused) {
  upstream_.set_handler(raw_reply(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\n"
      "Trailer: dropped\r\n\r\n"));
  make_pool(upstream_.port());
  UpstreamResponse a = exchange("/a");
  UpstreamResponse b = exchange("/b");
  ASSERT_EQ(a.error, UpstreamError::kNone) << a.detail;
  EXPECT_EQ(a.body, "abcde");
  EXPECT_FALSE(a.headers.find("trailer").has_value());
  EXPECT_EQ(b.body, "abcde");
  EXPECT_EQ(upstream_.connections_accepted(), 1);
}

// A 204 has no body whatever its head declares: what follows the head is
// not this answer's, and the connection is not reused for the next one.
TEST_F(UpstreamPoolTest, A204NeverHasABodyAndBytesAfterItEndTheConnection) {
  upstream_.set_handler(raw_reply(
      "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n-hello\r\n0\r\n\r\n"));
  make_pool(upstream_.port());
  UpstreamResponse a = exchange("/a");
  ASSERT_EQ(a.error, UpstreamError::kNone) << a.detail;
  EXPECT_EQ(a.status, 204);
  EXPECT_TRUE(a.bodiless);
  EXPECT_EQ(a.body, "");
  UpstreamResponse b = exchange("/b");
  ASSERT_EQ(b.error, UpstreamError::kNone) << b.detail;
  EXPECT_EQ(b.status, 204);
  EXPECT_EQ(upstream_.connections_accepted(), 2);
}

TEST_F(UpstreamPoolTest, ReasonPhraseWithControlCharactersIsDropped) {
  upstream_.set_handler(raw_reply("HTTP/1.1 201 Made\x0b It\r\nContent-Length: 2\r\n\r\nok"));
  make_pool(upstream_.port());
  UpstreamResponse r = exchange("/x");
  ASSERT_EQ(r.error, UpstreamError::kNone) << r.detail;
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.reason(), "");
  EXPECT_EQ(r.body, "ok");
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
