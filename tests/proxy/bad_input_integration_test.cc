// Bad input through the real binary: each gets its status and a JSON error,
// the connection is closed, nothing reaches the upstream, and the sidecar
// keeps serving.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/test_upstream.h"

namespace streamshift::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const std::string kChunked = "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";

struct BadInput {
  const char* name;
  std::string bytes;
  int status;
  const char* error;
};

void PrintTo(const BadInput& b, std::ostream* os) {
  *os << b.name;
}

class BadInputTest : public ::testing::TestWithParam<BadInput> {
 protected:
  static void SetUpTestSuite() {
    upstream_ = new TestUpstream();
    sidecar_ = new Sidecar(upstream_->port(), {{"STREAMSHIFT_MAX_HEADER_BYTES", "2048"},
                                               {"STREAMSHIFT_MAX_BODY_BYTES", "1000"}});
  }
  static void TearDownTestSuite() {
    delete sidecar_;
    delete upstream_;
  }
  static TestUpstream* upstream_;
  static Sidecar* sidecar_;
};
TestUpstream* BadInputTest::upstream_ = nullptr;
Sidecar* BadInputTest::sidecar_ = nullptr;

TEST_P(BadInputTest, IsRefusedAndTheSidecarKeepsServing) {
  ASSERT_TRUE(sidecar_->ready()) << sidecar_->process().output();
  const BadInput& c = GetParam();
  size_t before = upstream_->request_count();
  {
    TestClient client(sidecar_->port());
    ASSERT_TRUE(client.send(c.bytes));
    auto response = client.read_response();
    ASSERT_TRUE(response) << c.name;
    EXPECT_EQ(response->status, c.status) << response->body;
    EXPECT_EQ(response->header("Content-Type"), "application/json");
    EXPECT_NE(response->body.find(std::string("\"error\":\"") + c.error + "\""), std::string::npos)
        << response->body;
    EXPECT_NE(response->body.find("\"detail\":"), std::string::npos);
    EXPECT_EQ(response->header("Connection"), "close");
    EXPECT_TRUE(client.wait_closed());
  }
  EXPECT_EQ(upstream_->request_count(), before) << "bad input reached the upstream";
  TestClient next(sidecar_->port());
  auto ok = next.request(make_request("GET", "/still-serving"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_TRUE(sidecar_->process().running());
}

INSTANTIATE_TEST_SUITE_P(
    Ingress, BadInputTest,
    ::testing::Values(
        BadInput{"malformed", "NOT HTTP AT ALL\r\n\r\n", 400, "malformed_request"},
        BadInput{"smuggling_crlf_cr",
                 "GET /x HTTP/1.1\r\nHost: a\r\n\rXGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                 "bare_cr"},
        BadInput{"space_in_header_name", "GET /x HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", 400,
                 "malformed_request"},
        BadInput{"bare_cr", "GET /x HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", 400, "bare_cr"},
        BadInput{"bare_lf", "GET /x HTTP/1.1\nHost: a\n\n", 400, "bare_lf"},
        BadInput{"obs_fold",
                 "POST /x HTTP/1.1\r\nHost: a\r\nX: y\r\n Content-Length: 5\r\n\r\nhello", 400,
                 "obs_fold"},
        BadInput{"cl_and_te",
                 "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: "
                 "chunked\r\n\r\n0\r\n\r\n",
                 400, "invalid_framing"},
        BadInput{"te_not_chunked",
                 "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
                 400, "invalid_framing"},
        BadInput{"duplicate_cl",
                 "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab",
                 400, "invalid_framing"},
        BadInput{"invalid_chunk",
                 "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
                 "chunked\r\n\r\nxyz\r\nab\r\n0\r\n\r\n",
                 400, "invalid_chunk"},
        BadInput{"header_too_large",
                 "GET /x HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(3000, 'b') + "\r\n\r\n", 431,
                 "header_too_large"},
        BadInput{"body_too_large", "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n",
                 413, "body_too_large"},
        BadInput{"chunked_body_too_large",
                 "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n" +
                     std::string(1001, 'c') + "\r\n0\r\n\r\n",
                 413, "body_too_large"},
        // Chunk framing that llhttp 8.1.0 accepts (it skips the two bytes after chunk data).
        BadInput{"chunk_data_not_followed_by_crlf", kChunked + "5\r\nhelloXX0\r\n\r\n", 400,
                 "invalid_chunk"},
        BadInput{"chunk_smuggles_a_request",
                 kChunked + "5\r\nhello\nc0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                 "invalid_chunk"},
        BadInput{"chunk_size_bare_lf", kChunked + "5\nhello\r\n0\r\n\r\n", 400, "invalid_chunk"},
        BadInput{"chunk_ext_bare_cr", kChunked + "5;a\rb\r\nhello\r\n0\r\n\r\n", 400,
                 "invalid_chunk"},
        BadInput{"chunk_ext_unbounded",
                 kChunked + "5;a" + std::string(17000, 'x') + "\r\nhello\r\n0\r\n\r\n", 400,
                 "invalid_chunk"},
        BadInput{"trailer_bare_lf", kChunked + "5\r\nhello\r\n0\r\nX: y\n\r\n", 400,
                 "invalid_chunk"},
        // Head limits, request line, target.
        BadInput{"too_many_header_fields",
                 "GET /x HTTP/1.1\r\nHost: a\r\n" + repeat("a:\r\n", 100) + "\r\n", 431,
                 "header_too_large"},
        BadInput{"nine_empty_lines", repeat("\r\n", 9) + "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                 "malformed_request"},
        BadInput{"http_2_0", "GET /x HTTP/2.0\r\nHost: a\r\n\r\n", 505,
                 "http_version_not_supported"},
        BadInput{"http_0_9", "GET /x HTTP/0.9\r\nHost: a\r\n\r\n", 505,
                 "http_version_not_supported"},
        BadInput{"tab_in_target", "GET /a\tHTTP/1.0 HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                 "invalid_target"},
        BadInput{"dot_segments", "GET /../../etc HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                 "invalid_target"},
        BadInput{"connect", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 405,
                 "method_not_allowed"},
        BadInput{"absolute_form", "GET http://evil/x HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                 "malformed_request"}),
    [](const ::testing::TestParamInfo<BadInput>& p) { return std::string(p.param.name); });

// With the head limit raised, a head of 65,000 empty fields used to cost the
// worker seconds (the hop-by-hop check ran once per field over all fields).
TEST(ManyHeaderFields, AreRefusedAtTheCapWithoutStallingTheWorker) {
  TestUpstream upstream;
  Sidecar sidecar(upstream.port(), {{"STREAMSHIFT_MAX_HEADER_BYTES", "262144"}});
  ASSERT_TRUE(sidecar.ready());
  TestClient client(sidecar.port());
  auto started = std::chrono::steady_clock::now();
  // The sidecar answers after the 101st field and closes: the rest of the
  // send may fail, which is fine.
  client.send("GET /x HTTP/1.1\r\nHost: a\r\n" + repeat("a:\r\n", 65000) + "\r\n");
  auto response = client.read_response(seconds(10));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_NE(response->body.find("\"error\":\"header_too_large\""), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - started, seconds(2));
  EXPECT_EQ(upstream.request_count(), 0u);
  TestClient next(sidecar.port());
  auto ok = next.request(make_request("GET", "/", "", repeat("X-F: v\r\n", 98)));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << "99 fields and Host are within the cap";
}

TEST(SlowClient, Gets408AfterTheClientTimeout) {
  TestUpstream upstream;
  Sidecar sidecar(upstream.port(), {{"STREAMSHIFT_CLIENT_TIMEOUT_MS", "300"}});
  ASSERT_TRUE(sidecar.ready());
  for (std::string partial :
       {std::string("POST /x HTTP/1.1\r\nHost: a\r\n"),  // headers never finish
        std::string("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")}) {
    TestClient client(sidecar.port());
    auto started = std::chrono::steady_clock::now();
    ASSERT_TRUE(client.send(partial));
    auto response = client.read_response(seconds(5));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 408);
    EXPECT_NE(response->body.find("\"error\":\"client_timeout\""), std::string::npos);
    EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(250));
    EXPECT_TRUE(client.wait_closed());
  }
  EXPECT_EQ(upstream.request_count(), 0u);
  TestClient next(sidecar.port());
  auto ok = next.request(make_request("GET", "/"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST(SlowClient, IdleKeepAliveConnectionsAreClosedQuietly) {
  TestUpstream upstream;
  Sidecar sidecar(upstream.port(), {{"STREAMSHIFT_IDLE_TIMEOUT_MS", "200"}});
  ASSERT_TRUE(sidecar.ready());
  TestClient client(sidecar.port());
  ASSERT_TRUE(client.request(make_request("GET", "/")));
  EXPECT_TRUE(client.wait_closed(seconds(5)));
}

TEST(ManyBadClients, GarbageStormLeavesTheSidecarHealthy) {
  TestUpstream upstream;
  Sidecar sidecar(upstream.port());
  ASSERT_TRUE(sidecar.ready());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < 50; ++i) {
        TestClient client(sidecar.port());
        std::string junk(1 + rng() % 3000, '\0');
        for (char& ch : junk) ch = static_cast<char>(rng());
        client.send(junk);
        client.wait_closed(milliseconds(200));
      }
    });
  }
  for (auto& t : threads) t.join();
  TestClient client(sidecar.port());
  auto ok = client.request(make_request("GET", "/after-storm"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_TRUE(sidecar.process().running());
}

}  // namespace
}  // namespace streamshift::testing
