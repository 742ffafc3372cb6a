// The request head the bridge sends upstream.
#include "proxy/http_bridge.h"

#include <gtest/gtest.h>

#include "core/http_request_reader.h"

namespace streamshift {
namespace {

class HttpBridgeHead : public ::testing::Test {
 protected:
  HttpBridgeHead() : pool_(&loop_, UpstreamOptions{}) {}
  ~HttpBridgeHead() override {
    pool_.shutdown([] {});
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }

  std::string head_for(std::string raw, std::string prefix = "") {
    HttpUrl url;
    url.host = "signalr";
    url.port = 5000;
    url.authority = "signalr:5000";
    url.path_prefix = prefix;
    HttpBridge bridge(pool_, url);
    size_t used = 0;
    EXPECT_EQ(reader_.consume(raw.data(), raw.size(), &used),
              HttpRequestReader::Progress::kComplete);
    return bridge.upstream_head(reader_.request(), "10.0.0.7");
  }

  struct LoopInit {
    explicit LoopInit(uv_loop_t* l) { uv_loop_init(l); }
  };
  uv_loop_t loop_;
  LoopInit init_{&loop_};
  UpstreamPool pool_;
  HttpRequestReader reader_{HttpRequestReader::Limits{}};
};

TEST_F(HttpBridgeHead, DropsHopByHopAndConnectionListedHeaders) {
  std::string head = head_for(
      "POST /internal/broadcast/chat?x=1 HTTP/1.1\r\nHost: app\r\nConnection: keep-alive, "
      "X-Secret-Hop\r\n"
      "Keep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: websocket\r\nX-Secret-Hop: 1\r\n"
      "Proxy-Authorization: Basic x\r\nX-Custom: kept\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_EQ(head.rfind("POST /internal/broadcast/chat?x=1 HTTP/1.1\r\n", 0), 0u);
  for (const char* gone :
       {"Connection:", "Keep-Alive:", "TE:", "Upgrade:", "X-Secret-Hop:", "Proxy-Authorization:"}) {
    EXPECT_EQ(head.find(gone), std::string::npos) << gone;
  }
  EXPECT_NE(head.find("Host: app\r\n"), std::string::npos);
  EXPECT_NE(head.find("X-Custom: kept\r\n"), std::string::npos);
  EXPECT_NE(head.find("Content-Length: 2\r\n"), std::string::npos);
  EXPECT_NE(head.find("X-Forwarded-For: 10.0.0.7\r\n"), std::string::npos);
  EXPECT_NE(head.find("X-Request-Id: "), std::string::npos);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
}

TEST_F(HttpBridgeHead, AppendsToForwardedForAndKeepsRequestId) {
  std::string head = head_for(
      "GET / HTTP/1.1\r\nHost: app\r\nX-Forwarded-For: 1.2.3.4\r\nX-Request-Id: abc-123\r\n\r\n");
  EXPECT_NE(head.find("X-Forwarded-For: 1.2.3.4, 10.0.0.7\r\n"), std::string::npos);
  EXPECT_NE(head.find("X-Request-Id: abc-123\r\n"), std::string::npos);
  EXPECT_EQ(head.find("X-Request-Id: ", head.find("abc-123")), std::string::npos);
  EXPECT_EQ(head.find("Content-Length"), std::string::npos);
}

TEST_F(HttpBridgeHead, JoinsEveryForwardedForFieldInOrder) {
  std::string head = head_for(
      "GET / HTTP/1.1\r\nHost: app\r\nX-Forwarded-For: 1.1.1.1\r\nX-Other: o\r\n"
      "x-forwarded-for: 2.2.2.2, 3.3.3.3\r\nX-Forwarded-For:\r\n\r\n");
  EXPECT_NE(head.find("X-Forwarded-For: 1.1.1.1, 2.2.2.2, 3.3.3.3, 10.0.0.7\r\n"),
            std::string::npos)
      << head;
  size_t first = head.find("orwarded-For");
  EXPECT_EQ(head.find("orwarded-For", first + 1), std::string::npos) << "one field: " << head;
}

TEST_F(HttpBridgeHead, AsteriskFormIsNotPrefixed) {
  std::string head = head_for("OPTIONS * HTTP/1.1\r\nHost: app\r\n\r\n", "/api");
  EXPECT_EQ(head.rfind("OPTIONS * HTTP/1.1\r\n", 0), 0u) << head;
}

TEST_F(HttpBridgeHead, DropsEveryFieldConnectionNamesWhateverItsCase) {
  std::string head = head_for(
      "GET / HTTP/1.1\r\nHost: app\r\nX-A: 1\r\nconnection: x-a , X-B\r\nx-b: 2\r\nX-A: 3\r\n"
      "Connection: close,,x-c\r\nX-C: 4\r\nX-Kept: 5\r\nX-B-Not: 6\r\n\r\n");
  for (const char* gone : {"X-A:", "x-b:", "X-C:", "onnection:"}) {
    EXPECT_EQ(head.find(gone), std::string::npos) << gone << " in " << head;
  }
  EXPECT_NE(head.find("X-Kept: 5\r\n"), std::string::npos);
  EXPECT_NE(head.find("X-B-Not: 6\r\n"), std::string::npos);
}

TEST_F(HttpBridgeHead, ChunkedBodiesLeaveWithContentLength) {
  std::string head = head_for(
      "POST /x HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(head.find("Transfer-Encoding"), std::string::npos);
  EXPECT_NE(head.find("Content-Length: 3\r\n"), std::string::npos);
}

TEST_F(HttpBridgeHead, AddsHostForHttp10AndThePathPrefix) {
  std::string head = head_for("GET /hub HTTP/1.0\r\n\r\n", "/api");
  EXPECT_EQ(head.rfind("GET /api/hub HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(head.find("Host: signalr:5000\r\n"), std::string::npos);
}

}  // namespace
}  // namespace streamshift
