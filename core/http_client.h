// The upstream HTTP/1.1 client: a keep-alive connection pool on one loop.
//
//   send(request) --> idle connection? --(peek: still open?)--> write head+body
//        |               | no: below max?  --> resolve (uv_getaddrinfo) --> connect
//        |               | no: wait queue (deadline counts from send())
//        v
//   bytes read --> HttpResponseReader (core/http_response_reader.h: pre-scan,
//   llhttp, chunked, limits) --> on_done(response) --> reusable? idle : close
//
// One request per connection at a time. A timed-out request closes its
// connection (an HTTP/1.1 request cannot be cancelled on a live connection).
// A request is retried only when a pooled connection proves closed before
// any byte of it was written (the stale keep-alive race), never after.
// Every teardown goes through UpstreamConnection::close(reason).
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/upstream_response.h"

namespace streamshift {

struct UpstreamRequest {
  std::string head;  // request line and headers, ending with an empty line
  std::string body;  // owned until written
  /// Sent instead of `body` when that is empty: memory the caller keeps
  /// valid until on_done has run (a relay re-sends one entry's body).
  std::string_view borrowed_body;
  bool is_head = false;
  /// Called exactly once; may run inside send() when the request fails at once.
  std::function<void(UpstreamResponse& response)> on_done;
};

struct UpstreamOptions {
  std::string host;
  uint16_t port = 80;
  uint64_t connect_timeout_ms = 1000;
  uint64_t request_timeout_ms = 10000;
  size_t max_connections = 64;
  size_t max_response_bytes = 8 * 1024 * 1024;  // body (STREAMSHIFT_MAX_RESPONSE_BYTES)
  size_t max_response_head_bytes = 64 * 1024;   // status line + header fields
  uint64_t dns_ttl_ms = 30000;
};

class UpstreamConnection;

class UpstreamPool {
 public:
  UpstreamPool(uv_loop_t* loop, UpstreamOptions options);
  ~UpstreamPool();
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  void send(std::unique_ptr<UpstreamRequest> request);

  /// Fails everything queued or in flight with kShutdown and closes all
  /// connections; `on_closed` runs when the last connection handle is closed.
  void shutdown(std::function<void()> on_closed);

  size_t connection_count() const { return connection_count_; }
  size_t idle_count() const;
  /// Requests sent again after a pooled connection proved stale.
  uint64_t stale_retries() const { return stale_retries_; }
  /// Connections opened so far.
  uint64_t connections_opened() const { return connections_opened_; }

 private:
  friend class UpstreamConnection;
  struct Pending {
    std::unique_ptr<UpstreamRequest> request;
    uint64_t deadline;
  };

  void submit(Pending pending);
  /// Starts `pending` on an idle or new connection; false (and untouched) if none.
  bool try_dispatch(Pending& pending);
  void pump();
  void resolve();
  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res);
  static void on_queue_timer(uv_timer_t* t);
  void arm_queue_timer();
  void fail(Pending& pending, UpstreamError error, std::string detail);
  void connection_idle(UpstreamConnection* c);
  void connection_closed(UpstreamConnection* c);
  UpstreamConnection* take_idle();
  void take_idle_specific(UpstreamConnection* c);

  uv_loop_t* loop_;
  UpstreamOptions options_;
  sockaddr_storage address_;
  bool address_ready_ = false;
  bool resolving_ = false;
  uint64_t resolved_at_ = 0;
  uv_getaddrinfo_t resolve_req_;
  uv_timer_t queue_timer_;
  std::deque<Pending> queue_;
  UpstreamConnection* connections_ = nullptr;  // intrusive list
  UpstreamConnection* idle_ = nullptr;         // LIFO stack through idle_next
  size_t connection_count_ = 0;
  uint64_t stale_retries_ = 0;
  uint64_t connections_opened_ = 0;
  bool shutting_down_ = false;
  std::function<void()> on_closed_;
};

}  // namespace streamshift
