// The ingress HTTP server driven directly: its loop on a thread of the test,
// a handler written here (answering at once, or holding requests until the
// test answers them), blocking client sockets. The binary's end-to-end view
// of the same limits is in tests/proxy/limits_integration_test.cc and
// bad_input_integration_test.cc.
#include "core/http_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/completion.h"
#include "tests/support/eventually.h"
#include "tests/support/net.h"

namespace streamshift {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::eventually;
using testing::make_request;
using testing::TestClient;

// A loop on its own thread; run() executes on it and waits for the result.
class LoopThread {
 public:
  LoopThread() {
    uv_loop_init(&loop_);
    uv_async_init(&loop_, &wake_, on_wake);
    wake_.data = this;
    thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
  }
  ~LoopThread() {
    run([this] { uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr); });
    thread_.join();
    uv_loop_close(&loop_);
  }
  uv_loop_t* loop() { return &loop_; }

  template <class F>
  auto run(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      tasks_.emplace_back([&task] { task(); });
    }
    uv_async_send(&wake_);
    return result.get();
  }

 private:
  static void on_wake(uv_async_t* async) {
    auto* self = static_cast<LoopThread*>(async->data);
    std::deque<std::function<void()>> tasks;
    {
      std::lock_guard<std::mutex> lock(self->mutex_);
      tasks.swap(self->tasks_);
    }
    for (auto& t : tasks) t();
  }

  uv_loop_t loop_;
  uv_async_t wake_;
  std::mutex mutex_;
  std::deque<std::function<void()>> tasks_;
  std::thread thread_;
};

// Answers 200 with "<method> <target>" at once, or holds requests while
// `hold` is set (the test answers them through answer()).
class Handler : public RequestHandler, public RequestObserver {
 public:
  void on_request(Exchange& exchange) override {
    ++requests;
    if (hold) {
      held.push_back(&exchange);
      return;
    }
    answer(exchange);
  }
  static void answer(Exchange& exchange, int status = 200) {
    const HttpRequest& r = exchange.request();
    exchange.respond_json(status, std::string(r.method) + " " + std::string(r.target()));
  }
  void on_response(int status, double) override { ++statuses[status]; }
  void on_refused(Refusal why) override { ++refusals[why]; }

  bool hold = false;
  int requests = 0;
  std::deque<Exchange*> held;
  std::map<int, int> statuses;
  std::map<Refusal, int> refusals;
};

class HttpServerTest : public ::testing::Test {
 protected:
  ~HttpServerTest() override {
    if (!server_) return;
    std::atomic<bool> drained{false};
    loop_.run([&] {
      server_->close_all("test over");
      for (Exchange* e : handler_.held) Handler::answer(*e);  // frees their connections
      server_->drain([&] { drained = true; });
    });
    EXPECT_TRUE(eventually([&] { return drained.load(); }, seconds(10)));
    loop_.run([this] { server_.reset(); });
  }

  void start(ServerOptions options = {}) {
    options.listen = HostPort{"127.0.0.1", 0};
    options.reuse_port = false;
    options.observer = &handler_;
    loop_.run([&] {
      server_ = std::make_unique<HttpServer>(loop_.loop(), options, handler_);
      ASSERT_EQ(server_->start(), 0);
      port_ = server_->port();
    });
  }
  size_t count() {
    return loop_.run([this] { return server_->connection_count(); });
  }
  size_t held() {
    return loop_.run([this] { return handler_.held.size(); });
  }
  // Sends a GET the handler holds, and waits until it does.
  void send_held(TestClient& client, const std::string& path) {
    ASSERT_TRUE(client.send(make_request("GET", path)));
    ASSERT_TRUE(eventually([&] { return held() == 1; }, seconds(5)));
  }
  // Answers the oldest held request.
  void answer_held(int status = 200) {
    loop_.run([&] {
      Exchange* e = handler_.held.front();
      handler_.held.pop_front();
      Handler::answer(*e, status);
    });
  }

  LoopThread loop_;
  Handler handler_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
};

TEST_F(HttpServerTest, KeepAliveServesRequestsOneAfterAnotherOnOneConnection) {
  start();
  TestClient client(port_);
  for (std::string path : {"/a", "/b", "/c"}) {
    auto r = client.request(make_request("GET", path));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "GET " + path);
    EXPECT_FALSE(r->header("connection").has_value());
  }
  EXPECT_EQ(count(), 1u);
}

// Pipelined requests are handled one at a time (the handler never holds two
// of one connection) and answered in order, even when answered later.
TEST_F(HttpServerTest, PipelinedRequestsAreHandledOneAtATimeAndAnsweredInOrder) {
  handler_.hold = true;
  start();
  TestClient client(port_);
  ASSERT_TRUE(client.send(make_request("GET", "/1") + make_request("POST", "/2", "body") +
                          make_request("GET", "/3")));
  for (std::string expected : {"GET /1", "POST /2", "GET /3"}) {
    ASSERT_TRUE(eventually([&] { return held() == 1; }, seconds(5)));
    answer_held();
    auto r = client.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, expected);
  }
  EXPECT_EQ(loop_.run([&] { return handler_.requests; }), 3);
}

TEST_F(HttpServerTest, ARefusedRequestGetsItsStatusAndJsonBodyAndItsConnectionCloses) {
  ServerOptions o;
  o.limits.max_body_bytes = 10;
  start(o);
  TestClient client(port_);
  auto r = client.request(make_request("POST", "/x", std::string(11, 'b')));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->header("content-type"), "application/json");
  EXPECT_NE(r->body.find("\"error\":\"body_too_large\""), std::string::npos) << r->body;
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(client.wait_closed());
  EXPECT_EQ(loop_.run([&] { return handler_.requests; }), 0);
  EXPECT_EQ(loop_.run([&] { return handler_.statuses[413]; }), 1);
}

// STREAMSHIFT_MAX_CONNECTIONS: one over the budget is accepted and closed
// at once, and counted; a place freed is taken again.
TEST_F(HttpServerTest, AConnectionOverTheLimitIsClosedAtOnceAndCounted) {
  SharedBudget connections(2);
  ServerOptions o;
  o.connections = &connections;
  start(o);
  TestClient a(port_), b(port_);
  ASSERT_TRUE(a.request(make_request("GET", "/")));
  ASSERT_TRUE(b.request(make_request("GET", "/")));
  TestClient over(port_);
  EXPECT_TRUE(over.wait_closed(seconds(5)));
  EXPECT_EQ(loop_.run([&] { return handler_.refusals[Refusal::kMaxConnections]; }), 1);
  EXPECT_EQ(connections.in_use(), 2u);
  EXPECT_EQ(count(), 2u);
  ::shutdown(a.fd(), SHUT_RDWR);
  ASSERT_TRUE(eventually([&] { return connections.in_use() == 1; }, seconds(5)));
  TestClient again(port_);
  auto r = again.request(make_request("GET", "/again"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// Bodies in flight share one budget: a body that cannot take its share is
// answered 503 and its connection closed; requests without a body still
// pass, and bodies pass again once the budget has room.
TEST_F(HttpServerTest, ABodyOverTheSharedBudgetGets503AndItsConnectionCloses) {
  SharedBudget body_bytes(100);
  ServerOptions o;
  o.body_bytes = &body_bytes;
  handler_.hold = true;
  start(o);
  TestClient holder(port_);
  ASSERT_TRUE(holder.send(make_request("POST", "/big", std::string(80, 'x'))));
  ASSERT_TRUE(eventually([&] { return held() == 1; }, seconds(5)));
  EXPECT_EQ(body_bytes.in_use(), 80u);

  TestClient refused(port_);
  auto r = refused.request(make_request("POST", "/more", std::string(50, 'y')));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("\"error\":\"overloaded\""), std::string::npos) << r->body;
  EXPECT_TRUE(refused.wait_closed());
  EXPECT_EQ(body_bytes.in_use(), 80u);

  loop_.run([&] { handler_.hold = false; });
  TestClient bodiless(port_);
  auto g = bodiless.request(make_request("GET", "/small"));
  ASSERT_TRUE(g);
  EXPECT_EQ(g->status, 200);

  answer_held();
  ASSERT_TRUE(holder.read_response());
  EXPECT_EQ(body_bytes.in_use(), 0u);
  TestClient later(port_);
  auto ok = later.request(make_request("POST", "/more", std::string(50, 'y')));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(body_bytes.in_use(), 0u);
}

TEST_F(HttpServerTest, ARequestNotReceivedWithinTheClientTimeoutGets408) {
  ServerOptions o;
  o.client_timeout_ms = 200;
  start(o);
  TestClient client(port_);
  auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.send("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc"));
  auto r = client.read_response(seconds(10));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  EXPECT_NE(r->body.find("\"error\":\"client_timeout\""), std::string::npos) << r->body;
  EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(180));
  EXPECT_TRUE(client.wait_closed());
}

TEST_F(HttpServerTest, AnIdleKeepAliveConnectionIsClosedQuietly) {
  ServerOptions o;
  o.idle_timeout_ms = 200;
  start(o);
  TestClient client(port_);
  ASSERT_TRUE(client.request(make_request("GET", "/")));
  EXPECT_TRUE(client.wait_closed(seconds(10)));
  EXPECT_EQ(client.read_until("HTTP", milliseconds(10)), "");  // no 408, nothing
  EXPECT_TRUE(eventually([&] { return count() == 0; }, seconds(5)));
}

// drain(): the listener closes, an idle connection closes at once, a
// request in progress is answered with Connection: close, then on_drained.
TEST_F(HttpServerTest, DrainClosesIdleConnectionsAndFinishesTheRequestInProgress) {
  start();
  TestClient idle(port_);
  ASSERT_TRUE(idle.request(make_request("GET", "/")));
  loop_.run([&] { handler_.hold = true; });
  TestClient busy(port_);
  send_held(busy, "/busy");

  std::atomic<bool> drained{false};
  loop_.run([&] { server_->drain([&] { drained = true; }); });
  EXPECT_TRUE(idle.wait_closed());
  EXPECT_FALSE(drained.load());
  EXPECT_TRUE(eventually([&] { return testing::connect_loopback(port_) < 0; }, seconds(5)));

  answer_held();
  auto r = busy.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "GET /busy");
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(busy.wait_closed());
  EXPECT_TRUE(eventually([&] { return drained.load(); }, seconds(5)));
}

// close_all(): connections go now; a held exchange learns its client is
// gone, and answering it afterwards is harmless.
TEST_F(HttpServerTest, CloseAllDropsConnectionsWithAnswersInFlight) {
  handler_.hold = true;
  start();
  TestClient client(port_);
  send_held(client, "/held");
  loop_.run([&] { server_->close_all("test"); });
  EXPECT_TRUE(client.wait_closed());
  EXPECT_TRUE(loop_.run([&] { return handler_.held.front()->client_gone(); }));
  EXPECT_EQ(count(), 1u);  // kept until its exchange is answered
  answer_held();
  EXPECT_TRUE(eventually([&] { return count() == 0; }, seconds(5)));
}

// A client that half-closes after its request still gets the answer.
TEST_F(HttpServerTest, AHalfClosedClientIsAnsweredThenClosed) {
  handler_.hold = true;
  start();
  TestClient client(port_);
  send_held(client, "/half");
  ::shutdown(client.fd(), SHUT_WR);
  answer_held();
  auto r = client.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "GET /half");
  EXPECT_TRUE(client.wait_closed());
}

TEST_F(HttpServerTest, ExpectContinueGetsAnInterimAnswerBeforeTheBody) {
  start();
  TestClient client(port_);
  ASSERT_TRUE(client.send(
      "POST /c HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_NE(client.read_until("\r\n\r\n", seconds(5)).find("HTTP/1.1 100 Continue"),
            std::string::npos);
  ASSERT_TRUE(client.send("body"));
  auto r = client.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, AHeadAnswerHasNoBodyButSaysItsLength) {
  start();
  TestClient client(port_);
  ASSERT_TRUE(client.send(make_request("HEAD", "/h") + make_request("GET", "/after")));
  auto head = client.read_response(seconds(5), true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->header("content-length"), std::to_string(std::string("HEAD /h").size()));
  auto after = client.read_response();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->body, "GET /after");
}

}  // namespace
}  // namespace streamshift
