// Hostile or broken upstream answers through the real binary: each becomes a
// 502 with a JSON error, never bytes relayed to the app, and the sidecar
// keeps serving.
#include <gtest/gtest.h>

#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/test_upstream.h"

namespace streamshift::testing {
namespace {

using std::chrono::seconds;

struct HostileAnswer {
  const char* name;
  std::string raw;
  const char* error;
};

void PrintTo(const HostileAnswer& h, std::ostream* os) {
  *os << h.name;
}

class HostileUpstreamTest : public ::testing::TestWithParam<HostileAnswer> {
 protected:
  static void SetUpTestSuite() {
    upstream_ = new TestUpstream();
    sidecar_ = new Sidecar(upstream_->port(), {{"STREAMSHIFT_MAX_RESPONSE_BYTES", "2048"}});
  }
  static void TearDownTestSuite() {
    delete sidecar_;
    delete upstream_;
  }
  static TestUpstream* upstream_;
  static Sidecar* sidecar_;
};
TestUpstream* HostileUpstreamTest::upstream_ = nullptr;
Sidecar* HostileUpstreamTest::sidecar_ = nullptr;

TEST_P(HostileUpstreamTest, Is502AndTheSidecarKeepsServing) {
  ASSERT_TRUE(sidecar_->ready()) << sidecar_->process().output();
  const HostileAnswer& c = GetParam();
  upstream_->set_handler([raw = c.raw](const ReceivedRequest& req) {
    UpstreamReply r;
    if (req.target == "/hostile") r.raw = raw;
    r.body = "fine";
    return r;
  });
  TestClient client(sidecar_->port());
  auto response = client.request(make_request("GET", "/hostile"), seconds(10));
  ASSERT_TRUE(response) << c.name;
  EXPECT_EQ(response->status, 502) << response->raw_head << response->body;
  EXPECT_EQ(response->header("Content-Type"), "application/json");
  EXPECT_NE(response->body.find(std::string("\"error\":\"") + c.error + "\""), std::string::npos)
      << response->body;
  EXPECT_FALSE(response->header("X-Pad")) << "nothing of the answer reaches the app";
  auto next = client.request(make_request("GET", "/next"));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(next->body, "fine");
  EXPECT_TRUE(sidecar_->process().running());
}

INSTANTIATE_TEST_SUITE_P(
    Upstream, HostileUpstreamTest,
    ::testing::Values(
        HostileAnswer{"bare_cr_after_reason",
                      "HTTP/1.1 200 OK\rX-Pad: 1\r\nContent-Length: 2\r\n\r\nok", "bad_gateway"},
        HostileAnswer{"bare_lf", "HTTP/1.1 200 OK\nX-Pad: 1\nContent-Length: 2\n\nok",
                      "bad_gateway"},
        HostileAnswer{"crlf_cr_then_byte",
                      "HTTP/1.1 200 OK\r\nX-Pad: 1\r\n\rXContent-Length: 0\r\n\r\n", "bad_gateway"},
        HostileAnswer{"obs_fold",
                      "HTTP/1.1 200 OK\r\nX-Pad: 1\r\n folded\r\nContent-Length: 2\r\n\r\nok",
                      "bad_gateway"},
        HostileAnswer{"te_and_cl",
                      "HTTP/1.1 200 OK\r\nX-Pad: 1\r\nContent-Length: 5\r\nTransfer-Encoding: "
                      "chunked\r\n\r\n0\r\n\r\n",
                      "bad_gateway"},
        HostileAnswer{"switching_protocols", "HTTP/1.1 101 Switching Protocols\r\nX-Pad: 1\r\n\r\n",
                      "bad_gateway"},
        HostileAnswer{"te_not_chunked",
                      "HTTP/1.1 200 OK\r\nX-Pad: 1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                      "2\r\nok\r\n0\r\n\r\n",
                      "bad_gateway"},
        HostileAnswer{"chunk_data_not_followed_by_crlf",
                      "HTTP/1.1 200 OK\r\nX-Pad: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "5\r\nhelloXX0\r\n\r\n",
                      "bad_gateway"},
        HostileAnswer{
            "streamed_pad_headers",
            "HTTP/1.1 200 OK\r\n" + repeat("X-Pad: 0123456789abcdef\r\n", 200000) + "\r\n",
            "upstream_response_too_large"},
        HostileAnswer{"head_over_64k",
                      "HTTP/1.1 200 OK\r\nX-Pad: " + std::string(70000, 'p') + "\r\n\r\n",
                      "upstream_response_too_large"},
        HostileAnswer{"body_over_max_response_bytes",
                      "HTTP/1.1 200 OK\r\nContent-Length: 2049\r\n\r\n" + std::string(2049, 'b'),
                      "upstream_response_too_large"},
        HostileAnswer{"chunked_body_over_max_response_bytes",
                      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n801\r\n" +
                          std::string(2049, 'b') + "\r\n0\r\n\r\n",
                      "upstream_response_too_large"}),
    [](const ::testing::TestParamInfo<HostileAnswer>& p) { return std::string(p.param.name); });

TEST(UpstreamAnswers, ABodyAtTheResponseLimitIsRelayed) {
  TestUpstream upstream;
  upstream.set_handler([](const ReceivedRequest&) {
    UpstreamReply r;
    r.body = std::string(2048, 'b');
    return r;
  });
  Sidecar sidecar(upstream.port(), {{"STREAMSHIFT_MAX_RESPONSE_BYTES", "2048"}});
  ASSERT_TRUE(sidecar.ready());
  TestClient client(sidecar.port());
  auto response = client.request(make_request("GET", "/x"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body.size(), 2048u);
}

TEST(UpstreamAnswers, AReasonPhraseWithControlCharactersIsReplaced) {
  TestUpstream upstream;
  upstream.set_handler([](const ReceivedRequest&) {
    UpstreamReply r;
    r.raw = "HTTP/1.1 201 Made\x0bX-Injected: 1\r\nContent-Length: 2\r\n\r\nok";
    return r;
  });
  Sidecar sidecar(upstream.port());
  ASSERT_TRUE(sidecar.ready());
  TestClient client(sidecar.port());
  auto response = client.request(make_request("GET", "/x"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->reason, "Created");
  EXPECT_EQ(response->raw_head.find('\x0b'), std::string::npos) << response->raw_head;
  EXPECT_EQ(response->body, "ok");
}

}  // namespace
}  // namespace streamshift::testing
