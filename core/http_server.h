// The ingress HTTP/1.1 server: a listener and its connections on one loop.
//
// Request lifecycle on a connection (one request handled at a time; bytes
// of pipelined requests wait in the input buffer, so answers keep order):
//
//   read --> HttpRequestReader --kComplete--> handler.on_request(exchange)
//     ^        |kNeedMore   |kError                   |
//     |        v            v                         v  (now or later)
//     +--- wait (timer: idle / client timeout)   exchange.respond()
//               408 on client timeout       error reply + close     |
//                                                                   v
//                     next request <-- keep-alive? -- uv_write(head, body)
//
// Every teardown goes through ServerConnection::close(reason). A connection
// is freed only after its two handles are closed and its exchange answered.
//
// Accepting, with the limits on what clients may hold:
//
//   new connection --status < 0 (EMFILE, ...)--> count, shed the backlog with
//      |                                          a reserve fd; if even that
//      |                                          fails, stop listening 250 ms
//      | over STREAMSHIFT_MAX_CONNECTIONS (one budget for every worker)
//      +--> accept and close at once, count
//      v
//   ServerConnection (gives its share back when freed)
//
// While a request's body arrives, its bytes are taken from the body budget
// shared by every worker (STREAMSHIFT_BODY_BUDGET_BYTES); a request that
// cannot take its share is answered 503 and its connection closed. The
// share is given back when the request is answered, or its connection ends.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/http_message.h"
#include "core/http_request_reader.h"
#include "core/net_address.h"
#include "core/shared_budget.h"

namespace streamshift {

class ServerConnection;

/// A response to send. Headers from `headers` are copied minus hop-by-hop
/// ones; `extra_headers` is pre-serialized "Name: value\r\n" text.
struct Response {
  int status = 200;
  std::string_view reason;  // "" means the canonical phrase
  const HeaderBlock* headers = nullptr;
  std::string_view extra_headers;
  std::string_view content_type;
  /// Pass the Content-Length of `headers` through and send no body
  /// (answers to HEAD, 204, 304).
  bool bodiless = false;
  std::string body;
  std::string extra_headers_owned;  // storage when the server adds headers itself
};

/// One request being answered; owned by its connection, which stays alive
/// until respond() has been called, even if the client has gone.
class Exchange {
 public:
  explicit Exchange(ServerConnection* connection) : connection_(connection) {}
  HttpRequest& request();
  const std::string& client_ip() const;
  /// True when the client connection has closed: the response will be dropped.
  bool client_gone() const;
  /// Sends the response; exactly once per request, from the loop's thread.
  void respond(Response response);
  /// Convenience: a JSON body with Content-Type application/json.
  void respond_json(int status, std::string body, std::string_view extra_headers = {});

 private:
  ServerConnection* connection_;
};

/// Why a connection was closed as soon as it came.
enum class Refusal { kMaxConnections, kAcceptFailed, kCount };
std::string_view refusal_name(Refusal refusal);

/// Told about every answer the server sends (for metrics); called on the
/// loop's thread. `seconds` runs from the request's last byte (or, for a
/// refused request, its first) to the answer being queued.
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void on_response(int status, double seconds) = 0;
  virtual void on_refused(Refusal) {}
};

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual void on_request(Exchange& exchange) = 0;
};

struct ServerOptions {
  HostPort listen;
  bool reuse_port = true;
  int backlog = 1024;
  HttpRequestReader::Limits limits;
  uint64_t client_timeout_ms = 10000;
  uint64_t idle_timeout_ms = 60000;
  RequestObserver* observer = nullptr;
  /// Open client connections, shared by every worker's server; null: none.
  SharedBudget* connections = nullptr;
  /// Request body bytes all requests in flight hold together (from the
  /// first body byte to the answer), shared likewise; past it, 503 and close.
  SharedBudget* body_bytes = nullptr;
};

class HttpServer {
 public:
  HttpServer(uv_loop_t* loop, ServerOptions options, RequestHandler& handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds and listens; 0 or a libuv error code.
  int start();
  uint16_t port() const { return port_; }

  /// Stops accepting and closes idle connections; connections with a
  /// request in progress finish it (answered with Connection: close).
  /// `on_drained` runs once no connection is left.
  void drain(std::function<void()> on_drained);
  /// Closes every connection now (answers in flight are dropped).
  void close_all(std::string_view reason);

  size_t connection_count() const { return connection_count_; }

 private:
  friend class ServerConnection;
  static void on_connection(uv_stream_t* listener, int status);
  void refuse(uv_stream_t* listener, Refusal why);
  void note_refusal(Refusal why, int status);
  void accept_failed(int status);
  bool shed_backlog();
  void pause_listening();
  static void on_resume(uv_timer_t* timer);
  void connection_closed(ServerConnection* c);
  void check_drained();
  void close_listener();

  uv_loop_t* loop_;
  ServerOptions options_;
  RequestHandler& handler_;
  uv_tcp_t listener_;
  uv_timer_t resume_timer_;
  int reserve_fd_ = -1;  // closed to accept-and-close when out of fds
  HostPort bound_;       // numeric: listening again resolves nothing
  uint64_t last_refusal_log_ms_ = 0;
  uint64_t refusals_unlogged_ = 0;
  bool listening_ = false;
  bool listener_closing_ = false;
  bool timer_open_ = false;
  bool draining_ = false;
  uint16_t port_ = 0;
  ServerConnection* connections_ = nullptr;  // intrusive list
  size_t connection_count_ = 0;
  std::function<void()> on_drained_;
};

}  // namespace streamshift
