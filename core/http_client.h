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
// Every teardown goes through UpstreamConnection::close(error, detail), and a
// request ends exactly once (PendingRequest::complete).
//
// Files: the request and options (upstream_request.h), one connection
// (upstream_connection.h), response framing (http_response_reader.h), the
// response (upstream_response.h); the pool, queue and resolution here.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>

#include "core/intrusive_list.h"
#include "core/upstream_connection.h"
#include "core/upstream_request.h"
#include "core/upstream_response.h"

namespace streamshift {

class UpstreamPool : private UpstreamConnection::Owner {
 public:
  UpstreamPool(uv_loop_t* loop, UpstreamOptions options);
  ~UpstreamPool() override;
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  void send(std::unique_ptr<UpstreamRequest> request);

  /// Fails everything queued or in flight with kShutdown and closes all
  /// connections; `on_closed` runs when the last connection handle is closed.
  void shutdown(std::function<void()> on_closed);

  size_t connection_count() const { return connections_.size(); }
  size_t idle_count() const { return idle_.size(); }
  /// Requests sent again after a pooled connection proved stale.
  uint64_t stale_retries() const { return stale_retries_; }
  /// Connections opened so far.
  uint64_t connections_opened() const { return connections_opened_; }

 private:
  void submit(PendingRequest pending);
  /// Starts `pending` on an idle or new connection; false (and untouched) if none.
  bool try_dispatch(PendingRequest& pending);
  UpstreamConnection* take_idle();
  void pump();
  void arm_queue_timer();
  static void on_queue_timer(uv_timer_t* t);
  /// Fails every queued request.
  void fail_queued(UpstreamError error, const std::string& detail);
  void resolve();
  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res);
  /// Runs on_closed_ once shutdown() has closed the last connection.
  void notify_if_closed();

  // UpstreamConnection::Owner
  void connection_idle(UpstreamConnection* c) override;
  void connection_closing(UpstreamConnection* c) override;
  void connection_closed(UpstreamConnection* c) override;
  void resend(PendingRequest pending) override;

  uv_loop_t* loop_;
  UpstreamOptions options_;
  sockaddr_storage address_;
  bool address_ready_ = false;
  bool resolving_ = false;
  uint64_t resolved_at_ = 0;
  uv_getaddrinfo_t resolve_req_;
  uv_timer_t queue_timer_;
  std::deque<PendingRequest> queue_;
  IntrusiveList<UpstreamConnection, &UpstreamConnection::all_hook> connections_;
  IntrusiveList<UpstreamConnection, &UpstreamConnection::idle_hook> idle_;  // most recent first
  uint64_t stale_retries_ = 0;
  uint64_t connections_opened_ = 0;
  bool shutting_down_ = false;
  std::function<void()> on_closed_;
};

}  // namespace streamshift
