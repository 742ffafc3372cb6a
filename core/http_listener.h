// The ingress's accepting side, with the limits on what clients may hold
// (internal to core; HttpServer owns one):
//
//   new connection --status < 0 (EMFILE, ...)--> count, shed the backlog with
//      |                                          a reserve fd; if even that
//      |                                          fails, stop listening 250 ms
//      | over STREAMSHIFT_MAX_CONNECTIONS (one budget for every worker)
//      +--> accept and close at once, count
//      v
//   Owner::on_acceptable(): the server accepts it (its connection gives the
//   budget's share back when freed)
//
// Refusals go to the RequestObserver and to a log line at most once a
// second. close() stops for good (drain): the listening handle and the
// resume timer close, then Owner::on_listener_closed().
#pragma once

#include <uv.h>

#include <cstdint>

#include "core/http_server_options.h"

namespace streamshift {

class HttpListener {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    /// A connection waits on `listener`, its budget share taken: uv_accept it.
    virtual void on_acceptable(uv_stream_t* listener) = 0;
    /// After close(): every handle of the listener is closed.
    virtual void on_listener_closed() = 0;
  };

  HttpListener(uv_loop_t* loop, const ServerOptions& options, Owner& owner);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  /// Binds and listens; 0 or a libuv error code.
  int start();
  uint16_t port() const { return port_; }
  /// Stops accepting for good.
  void close();
  /// True once close() has closed every handle (or none was ever opened).
  bool closed() const { return !listening_ && !timer_open_; }

 private:
  static void on_connection(uv_stream_t* listener, int status);
  void refuse(uv_stream_t* listener);
  void note_refusal(Refusal why, int status);
  void accept_failed(int status);
  bool shed_backlog();
  void pause_listening();
  static void on_resume(uv_timer_t* timer);
  void close_listening_handle();
  void handle_closed();

  uv_loop_t* loop_;
  const ServerOptions& options_;
  Owner& owner_;
  uv_tcp_t listener_;
  uv_timer_t resume_timer_;
  int reserve_fd_ = -1;  // closed to accept-and-close when out of fds
  HostPort bound_;       // numeric: listening again resolves nothing
  uint16_t port_ = 0;
  uint64_t last_refusal_log_ms_ = 0;
  uint64_t refusals_unlogged_ = 0;
  bool listening_ = false;  // listener_ is initialised (and must be closed)
  bool listener_closing_ = false;
  bool timer_open_ = false;
  bool closing_ = false;  // close() was called: no more listening
};

}  // namespace streamshift
