// The load generator's own HTTP target: it answers every request 200, at
// once or after a fixed delay (a slow SignalR stand-in: a loop timer per
// request, the loop never waits), and records each arrival, on a thread and loop of its own, so the
// delivery latency (intended send time, from the event id, to arrival here)
// is measured whichever path carried the event: directly, through a proxy,
// or through Redis and the relay.
#pragma once

#include <uv.h>

#include <atomic>
#include <memory>
#include <thread>
#include <unordered_set>
#include <vector>

#include "core/http_server.h"
#include "loadtest/latency_histogram.h"
#include "loadtest/workload.h"

namespace streamshift {

struct SinkReport {
  uint64_t received = 0;  // events of ours
  uint64_t foreign = 0;   // requests that were not one of our events
  uint64_t warmup = 0;    // events sent during the warm-up (not recorded)
  uint64_t typing_received = 0;
  LatencyHistogram latency;  // intended send -> arrival
  /// Per user: the typing state of the newest typing event received
  /// (by sequence number, so arrival order does not matter).
  std::vector<TypingState> last_typing_state;
};

class Sink : public RequestHandler {
 public:
  Sink(HostPort listen, uint32_t users, uint64_t delay_ms = 0);
  ~Sink() override;

  /// Binds (0 or a libuv error) and serves on its own thread.
  int start();
  uint16_t port() const { return server_->port(); }
  /// Events received so far (any thread).
  uint64_t received() const { return received_.load(std::memory_order_relaxed); }
  /// Events intended before `ns` (the warm-up) are not recorded.
  void set_measure_from(uint64_t ns) { measure_from_ns_.store(ns); }
  /// Stops serving; the report is complete after this returns.
  SinkReport stop();

  void on_request(Exchange& exchange) override;

 private:
  struct Delayed;  // an answer waiting for its delay
  static void on_wake(uv_async_t* handle);
  static void on_delay_done(uv_timer_t* timer);
  static void answer(Exchange& exchange);

  uv_loop_t loop_;
  uv_async_t wake_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> measure_from_ns_{0};
  std::atomic<uint64_t> received_{0};
  uint64_t delay_ms_;
  std::unordered_set<Delayed*> delayed_;  // loop thread only
  SinkReport report_;
  std::vector<uint64_t> newest_typing_seq_;
};

}  // namespace streamshift
