// One client connection of the ingress server (internal to core).
//
// Request lifecycle (one request handled at a time; bytes of pipelined
// requests wait in the input buffer, so answers keep order):
//
//   read --> HttpRequestReader --kComplete--> handler.on_request(exchange)
//     ^        |kNeedMore   |kError                   |
//     |        v            v                         v  (now or later)
//     +--- wait (timer: idle / client timeout)   exchange.respond()
//               408 on client timeout       error reply + close     |
//                                                                   v
//                next request <-- keep-alive? -- ResponseWriter (head, body)
//
// While a request's body arrives, its bytes are taken from the body budget
// shared by every worker (STREAMSHIFT_BODY_BUDGET_BYTES); a request that
// cannot take its share is answered 503 and its connection closed. The
// share is given back when the request is answered, or the connection ends.
// Reading pauses while an answer is being handled and pipelined bytes pile
// up, or while more than 1 MiB waits to be written to the client.
//
// After an error answer the connection lingers before it closes: FIN sent,
// what the client still sends read and dropped (see linger()).
//
// Every teardown goes through close(reason). The connection is freed only
// after its two handles are closed and its exchange answered.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/http_exchange.h"
#include "core/http_request_reader.h"
#include "core/http_response_writer.h"
#include "core/intrusive_list.h"
#include "core/read_buffer.h"

namespace streamshift {

class HttpServer;

class ServerConnection {
 public:
  explicit ServerConnection(HttpServer* server);
  ServerConnection(const ServerConnection&) = delete;
  ServerConnection& operator=(const ServerConnection&) = delete;

  /// Takes the connection waiting on `listener`; 0 or a libuv error (then
  /// close() it).
  int accept(uv_stream_t* listener);
  /// The one teardown: both handles close; freed once the exchange is answered.
  void close(std::string_view reason);
  /// Closes now if idle; otherwise the request in progress is answered with
  /// Connection: close.
  void drain();
  void respond(Response&& response);

  HttpRequest& request() { return reader_.request(); }
  const std::string& client_ip() const { return client_ip_; }
  bool closing() const { return closing_; }

  ListHook<ServerConnection> hook;  // the server's list

 private:
  enum class TimerMode { kNone, kIdle, kClient, kLinger };

  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_written(void* self, int status);
  static void on_timer(uv_timer_t* t);
  static void on_handle_closed(uv_handle_t* h);

  void process_input();
  bool take_body_share();
  void give_back_body_share();
  void reject(const FramingError& error);
  // Sends `response` (or, without one, 100 Continue); closes after it when asked.
  void send(Response* response, bool close_after);
  // After the last answer was written: linger() or close().
  void finish_after_answer();
  void linger();
  void discard(ssize_t nread);
  void arm_timer(TimerMode mode);
  void pause_reading();
  void resume_reading();
  void maybe_free();
  bool idle() const {
    return !handling_ && !reader_.started() && in_.empty() && writer_.in_flight() == 0;
  }

  HttpServer* server_;
  uv_tcp_t tcp_;
  uv_timer_t timer_;
  uv_shutdown_t shutdown_req_;
  HttpRequestReader reader_;
  Exchange exchange_;
  ResponseWriter writer_;
  ReadBuffer in_;
  std::string client_ip_;
  uint64_t request_started_ns_ = 0;
  size_t body_share_ = 0;  // bytes of the body budget this request holds
  size_t lingered_bytes_ = 0;
  int open_handles_ = 0;
  TimerMode timer_mode_ = TimerMode::kNone;
  bool handling_ = false;            // the handler has the request; respond() not yet called
  bool closing_ = false;             // close() was called
  bool close_after_write_ = false;   // the answer going out is the last one
  bool client_eof_ = false;          // the client half-closed: answer, then close
  bool linger_after_write_ = false;  // the last answer is an error: linger()
  bool lingering_ = false;           // reading only to drop what comes
  bool reading_ = false;
  bool processing_ = false;  // inside process_input(): no re-entry
};

}  // namespace streamshift
