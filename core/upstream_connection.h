// One keep-alive connection to the upstream, one request at a time; the pool
// (core/http_client.h) creates it, hands it requests and frees it.
//
//   connect() --> kConnecting --connected--> kBusy: write head + body, feed
//                                              every read to HttpResponseReader
//                                                |
//                     complete and reusable:     v                dispatch()
//                     on_done(response) ----> kIdle ---------------> kBusy
//
//   close(error, detail), from any state: connect failure or timeout, write
//   or read error, refused response, EOF mid-response, request timeout, a
//   response that leaves the connection not reusable; while kIdle: EOF,
//   stray bytes, 30 s unused, or the pool finding it stale
//     --> kClosing --both handles closed--> Owner::connection_closed
//
// close() is the one teardown: it ends the request in flight, if any, with
// its error (a request ends exactly once: PendingRequest::complete). A reused
// connection that refuses the first byte of a request (the stale keep-alive
// race) gives the request back to be sent again (Owner::resend).
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <memory>
#include <string>

#include "core/http_response_reader.h"
#include "core/intrusive_list.h"
#include "core/upstream_request.h"

namespace streamshift {

class UpstreamConnection {
 public:
  /// What the owner (the pool) hears from its connections.
  class Owner {
   public:
    virtual ~Owner() = default;
    /// Answered and reusable: keep it for the next request, or close it.
    virtual void connection_idle(UpstreamConnection* c) = 0;
    /// Closing: it must not be handed a request any more.
    virtual void connection_closing(UpstreamConnection* c) = 0;
    /// Both handles closed: the owner frees it.
    virtual void connection_closed(UpstreamConnection* c) = 0;
    /// A reused connection proved closed before any byte of `pending` was written.
    virtual void resend(PendingRequest pending) = 0;
  };

  /// `options` and `owner` outlive the connection.
  UpstreamConnection(uv_loop_t* loop, const UpstreamOptions& options, Owner& owner);
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;

  /// Opens the connection, then sends `pending` on it.
  void connect(const sockaddr_storage& address, PendingRequest pending);
  /// Sends `pending` on the open connection; `reused`: it was idle.
  void dispatch(PendingRequest pending, bool reused);
  /// True when the idle socket has neither EOF nor stray bytes waiting.
  bool still_open();
  /// Tears the connection down; a request in flight ends with `error`
  /// (kNone: none can be in flight) and `detail`.
  void close(UpstreamError error, std::string detail);

  ListHook<UpstreamConnection> all_hook;   // the pool's connections
  ListHook<UpstreamConnection> idle_hook;  // the pool's idle ones

 private:
  enum class State { kConnecting, kBusy, kIdle, kClosing };

  static void on_connect(uv_connect_t* req, int status);
  static void on_timer(uv_timer_t* t);
  static void on_write(uv_write_t* req, int status);
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_closed(uv_handle_t* h);

  void handle(HttpResponseReader::Progress progress);
  void finish(bool reusable);
  /// Keeps the request whose bytes are still being written.
  void retire(std::unique_ptr<UpstreamRequest> done);
  void start_timer(uint64_t ms) { uv_timer_start(&timer_, on_timer, ms, 0); }
  uint64_t ms_left() const;
  std::string peer() const;

  uv_loop_t* loop_;
  const UpstreamOptions& options_;
  Owner& owner_;
  uv_tcp_t tcp_;
  uv_timer_t timer_;
  uv_connect_t connect_req_;
  uv_write_t write_req_;
  State state_ = State::kConnecting;
  PendingRequest current_;
  std::unique_ptr<UpstreamRequest> retired_;  // kept until its write completes
  HttpResponseReader reader_;
  char read_buf_[16 * 1024];
  int open_handles_ = 0;
  bool writing_ = false;
};

}  // namespace streamshift
