// The HTTP bridge end to end: the real streamshift binary between a raw
// client and a real upstream server.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <regex>
#include <thread>

#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/test_upstream.h"

namespace streamshift::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string all_bytes() {
  std::string s;
  for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
  return s + s;
}

class Bridge : public ::testing::Test {
 protected:
  void start(std::map<std::string, std::string> env = {}) {
    sidecar_ = std::make_unique<Sidecar>(upstream_.port(), env);
    ASSERT_TRUE(sidecar_->ready()) << sidecar_->process().output();
  }
  TestUpstream upstream_;
  std::unique_ptr<Sidecar> sidecar_;
};

TEST_F(Bridge, ForwardsMethodTargetHeadersAndBodyByteExact) {
  const std::string body = all_bytes();
  upstream_.set_handler([&](const ReceivedRequest&) {
    UpstreamReply r;
    r.status = 201;
    r.reason = "Created Thing";
    r.headers = {{"Content-Type", "application/octet-stream"},
                 {"X-Upstream", "yes"},
                 {"Set-Cookie", "a=1"},
                 {"Set-Cookie", "b=2"}};
    r.body = body;
    return r;
  });
  start();
  TestClient client(sidecar_->port());
  auto response = client.request(make_request("POST", "/internal/broadcast/chat?room=7&x=%20", body,
                                              "Content-Type: application/octet-stream\r\n"
                                              "X-Custom: value with  spaces\r\n"
                                              "X-Forwarded-For: 192.0.2.1\r\n"
                                              "X-Request-Id: req-42\r\n"
                                              "traceparent: 00-abc-def-01\r\n"
                                              "tracestate: k=v\r\n"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->reason, "Created Thing");
  EXPECT_EQ(response->body, body);
  EXPECT_EQ(response->header("X-Upstream"), "yes");
  EXPECT_EQ(response->header("Content-Length"), std::to_string(body.size()));
  EXPECT_NE(response->raw_head.find("Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n"), std::string::npos);

  ASSERT_EQ(upstream_.request_count(), 1u);
  ReceivedRequest got = upstream_.requests()[0];
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/internal/broadcast/chat?room=7&x=%20");
  EXPECT_EQ(got.body, body);
  EXPECT_EQ(got.header("Host"), "sidecar.test");
  EXPECT_EQ(got.header("X-Custom"), "value with  spaces");
  EXPECT_EQ(got.header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(got.header("X-Forwarded-For"), "192.0.2.1, 127.0.0.1");
  EXPECT_EQ(got.header("X-Request-Id"), "req-42");
  // What STREAMSHIFT_CAPTURE_HEADERS stores on the Redis path, the bridge forwards as is.
  EXPECT_EQ(got.header("traceparent"), "00-abc-def-01");
  EXPECT_EQ(got.header("tracestate"), "k=v");
  EXPECT_EQ(got.header_count("Content-Length"), 1u);
}

TEST_F(Bridge, GeneratesRequestIdAndStripsHopByHopHeaders) {
  start();
  TestClient client(sidecar_->port());
  auto response =
      client.request(make_request("GET", "/x", "",
                                  "Connection: keep-alive, X-Hop\r\nX-Hop: 1\r\n"
                                  "Keep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: h2c\r\n"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  ReceivedRequest got = upstream_.requests().at(0);
  for (const char* h : {"Connection", "X-Hop", "Keep-Alive", "TE", "Upgrade"}) {
    EXPECT_FALSE(got.header(h).has_value()) << h;
  }
  std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  ASSERT_TRUE(got.header("X-Request-Id"));
  EXPECT_TRUE(std::regex_match(*got.header("X-Request-Id"), uuid)) << *got.header("X-Request-Id");
}

TEST_F(Bridge, ReusesUpstreamConnectionsAcrossRequests) {
  start();
  TestClient client(sidecar_->port());
  for (int i = 0; i < 25; ++i) {
    auto response = client.request(make_request("POST", "/n/" + std::to_string(i), "x"));
    ASSERT_TRUE(response);
    ASSERT_EQ(response->status, 200);
  }
  EXPECT_EQ(upstream_.connections_accepted(), 1);
  EXPECT_EQ(upstream_.request_count(), 25u);
}

TEST_F(Bridge, AnswersPipelinedRequestsInOrder) {
  std::mt19937 rng(7);
  upstream_.set_handler([&](const ReceivedRequest& req) {
    UpstreamReply r;
    r.body = "answer for " + req.target;
    r.delay = milliseconds(req.target.back() % 3 * 7);  // uneven upstream latency
    return r;
  });
  start();
  TestClient client(sidecar_->port());
  std::string batch;
  for (int i = 0; i < 20; ++i)
    batch += make_request(i % 2 ? "GET" : "POST", "/p/" + std::to_string(i), i % 2 ? "" : "body");
  ASSERT_TRUE(client.send(batch));
  for (int i = 0; i < 20; ++i) {
    auto response = client.read_response();
    ASSERT_TRUE(response) << "response " << i;
    EXPECT_EQ(response->body, "answer for /p/" + std::to_string(i));
  }
}

TEST_F(Bridge, DecodesChunkedRequestBodies) {
  start();
  TestClient client(sidecar_->port());
  auto response = client.request(
      "POST /chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nTrailer-Field: t\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  ReceivedRequest got = upstream_.requests().at(0);
  EXPECT_EQ(got.body, "Wikipedia");
  EXPECT_EQ(got.header("Content-Length"), "9");
  EXPECT_FALSE(got.header("Transfer-Encoding"));
  EXPECT_FALSE(got.header("Trailer-Field"));
}

TEST_F(Bridge, SendsContinueBeforeTheBody) {
  start();
  TestClient client(sidecar_->port());
  ASSERT_TRUE(client.send(
      "POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  auto interim = client.read_response();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client.send("hello"));
  auto final_response = client.read_response();
  ASSERT_TRUE(final_response);
  EXPECT_EQ(final_response->status, 200);
  ReceivedRequest got = upstream_.requests().at(0);
  EXPECT_EQ(got.body, "hello");
  EXPECT_FALSE(got.header("Expect"));
}

TEST_F(Bridge, HeadAnswersKeepContentLengthWithoutBody) {
  upstream_.set_handler([](const ReceivedRequest& req) {
    UpstreamReply r;
    if (req.method == "HEAD") {
      r.raw = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
    } else {
      r.body = "after";
    }
    return r;
  });
  start();
  TestClient client(sidecar_->port());
  ASSERT_TRUE(client.send("HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n"));
  auto head = client.read_response(seconds(5), true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->header("Content-Length"), "1234");
  auto next = client.request(make_request("GET", "/after"));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "after");
}

TEST_F(Bridge, RelaysCloseDelimitedAndChunkedUpstreamBodies) {
  upstream_.set_handler([](const ReceivedRequest& req) {
    UpstreamReply r;
    if (req.target == "/eof") {
      r.raw = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end";
      r.close_after = true;
    } else {
      r.raw =
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    }
    return r;
  });
  start();
  TestClient client(sidecar_->port());
  auto eof = client.request(make_request("GET", "/eof"));
  ASSERT_TRUE(eof);
  EXPECT_EQ(eof->body, "until the end");
  EXPECT_EQ(eof->header("Content-Length"), "13");
  auto chunked = client.request(make_request("GET", "/chunked"));
  ASSERT_TRUE(chunked);
  EXPECT_EQ(chunked->body, "abcde");
  EXPECT_FALSE(chunked->header("Transfer-Encoding"));
}

TEST_F(Bridge, OurOwnAnswersToHeadCarryNoBody) {
  sidecar_ = std::make_unique<Sidecar>(free_port());  // nothing listens upstream: 502
  ASSERT_TRUE(sidecar_->ready());
  TestClient client(sidecar_->port());
  ASSERT_TRUE(client.send("HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n"));
  auto head = client.read_response(seconds(5), true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 502);
  EXPECT_NE(head->header("Content-Length").value_or("0"), "0");
  // Had a body been sent, it would be read as the next response's start.
  auto next = client.request(make_request("GET", "/y"));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 502);
  EXPECT_NE(next->body.find("upstream_unreachable"), std::string::npos);
}

TEST_F(Bridge, UnreachableUpstreamIs502AndTheSidecarKeepsServing) {
  uint16_t closed_port = free_port();
  sidecar_ = std::make_unique<Sidecar>(closed_port);
  ASSERT_TRUE(sidecar_->ready());
  TestClient client(sidecar_->port());
  auto response = client.request(make_request("POST", "/x", "a"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 502);
  EXPECT_EQ(response->header("Content-Type"), "application/json");
  EXPECT_NE(response->body.find("\"error\":\"upstream_unreachable\""), std::string::npos)
      << response->body;
  EXPECT_NE(response->body.find("\"detail\":"), std::string::npos);
  auto again = client.request(make_request("GET", "/y"));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 502);
}

TEST_F(Bridge, SlowUpstreamIs504AndTheNextRequestSucceeds) {
  upstream_.set_handler([](const ReceivedRequest& req) {
    UpstreamReply r;
    if (req.target == "/slow") r.delay = milliseconds(1500);
    r.body = "ok";
    return r;
  });
  start({{"STREAMSHIFT_UPSTREAM_TIMEOUT_MS", "300"}});
  TestClient client(sidecar_->port());
  auto slow = client.request(make_request("GET", "/slow"));
  ASSERT_TRUE(slow);
  EXPECT_EQ(slow->status, 504);
  EXPECT_NE(slow->body.find("\"error\":\"upstream_timeout\""), std::string::npos) << slow->body;
  auto fast = client.request(make_request("GET", "/fast"));
  ASSERT_TRUE(fast);
  EXPECT_EQ(fast->status, 200);
  EXPECT_EQ(fast->body, "ok");
}

TEST_F(Bridge, UpstreamClosingWithoutAnswerIs502) {
  upstream_.set_handler([](const ReceivedRequest&) {
    UpstreamReply r;
    r.close_without_answer = true;
    return r;
  });
  start();
  TestClient client(sidecar_->port());
  auto response = client.request(make_request("POST", "/x", "a"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 502);
  // Written requests are never retried: the upstream saw exactly one.
  EXPECT_EQ(upstream_.request_count(), 1u);
}

TEST_F(Bridge, UpstreamClosingIdleConnectionsIsNoticedWithoutErrors) {
  // The upstream closes each connection right after answering, as servers
  // with a short keep-alive timeout do, without announcing it.
  upstream_.set_handler([](const ReceivedRequest&) {
    UpstreamReply r;
    r.body = "ok";
    r.close_after = true;
    return r;
  });
  start();
  TestClient client(sidecar_->port());
  for (int i = 0; i < 20; ++i) {
    auto response = client.request(make_request("POST", "/s", "x"));
    ASSERT_TRUE(response);
    ASSERT_EQ(response->status, 200) << "request " << i << ": " << response->body;
    ASSERT_TRUE(upstream_.wait_for_closed(i + 1, seconds(5)));
  }
  EXPECT_EQ(upstream_.request_count(), 20u);
  EXPECT_EQ(upstream_.connections_accepted(), 20);
}

TEST_F(Bridge, JoinsEveryForwardedForField) {
  start();
  TestClient client(sidecar_->port());
  auto response = client.request(make_request(
      "GET", "/xff", "", "X-Forwarded-For: 192.0.2.1\r\nX-Forwarded-For: 198.51.100.2\r\n"));
  ASSERT_TRUE(response);
  ReceivedRequest got = upstream_.requests().at(0);
  EXPECT_EQ(got.header_count("X-Forwarded-For"), 1u);
  EXPECT_EQ(got.header("X-Forwarded-For"), "192.0.2.1, 198.51.100.2, 127.0.0.1");
}

TEST_F(Bridge, TheUpstreamGetsAPlainAsciiRequestLine) {
  start();
  TestClient client(sidecar_->port());
  auto response = client.request(make_request("GET", "/caf\xc3\xa9?q=\xff"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(upstream_.requests().at(0).target, "/caf%C3%A9?q=%FF");
}

TEST_F(Bridge, ThePathPrefixCannotBeEscaped) {
  start({{"STREAMSHIFT_UPSTREAM_URL",
          "http://127.0.0.1:" + std::to_string(upstream_.port()) + "/api"}});
  for (std::string target :
       {"/../../etc/passwd", "/hub/../../admin", "/%2e%2e/admin", "/..%2fadmin"}) {
    TestClient client(sidecar_->port());
    auto response = client.request(make_request("GET", target));
    ASSERT_TRUE(response) << target;
    EXPECT_EQ(response->status, 400) << target;
    EXPECT_NE(response->body.find("\"error\":\"invalid_target\""), std::string::npos) << target;
  }
  EXPECT_EQ(upstream_.request_count(), 0u);
  TestClient client(sidecar_->port());
  auto hub = client.request(make_request("GET", "/hub"));
  ASSERT_TRUE(hub);
  auto options = client.request("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_TRUE(options);
  EXPECT_EQ(options->status, 200);
  auto got = upstream_.requests();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].target, "/api/hub");
  EXPECT_EQ(got[1].method, "OPTIONS");
  EXPECT_EQ(got[1].target, "*");
}

TEST_F(Bridge, SeveralWorkersShareThePort) {
  start({{"STREAMSHIFT_WORKERS", "3"}});
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        TestClient client(sidecar_->port());
        auto response = client.request(make_request("GET", "/w"));
        if (response && response->status == 200) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 80);
}

}  // namespace
}  // namespace streamshift::testing
