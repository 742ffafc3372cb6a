// The load generator's client side: N keep-alive HTTP/1.1 connections on
// one libuv loop, one request at a time each.
//
//   open loop (rate > 0):  request i is due at start + i / rate. The client
//     wakes when the next one is due (ppoll on the loop's fd, 1 ns timer
//     slack) and issues it on a free connection, or queues it; latency
//     counts from the due time, so a stall delays (and is charged to) every
//     request behind it: coordinated omission cannot hide it.
//   closed loop (rate 0):  each connection sends its next request as soon as
//     the previous answer arrives: maximum throughput; latency from the send.
//
// Requests whose due (or send) time falls in the warm-up are not recorded
// in the report; an outcome log, when set, gets every request.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/net_address.h"
#include "loadtest/latency_histogram.h"
#include "loadtest/outcome_log.h"
#include "loadtest/workload.h"

namespace streamshift {

struct LoadOptions {
  HostPort target;
  size_t connections = 50;
  double rate = 0;  // requests per second; 0: closed loop
  uint64_t duration_ms = 5000;
  uint64_t warmup_ms = 1000;
  uint64_t timeout_ms = 10000;  // a request unanswered this long counts as an error
};

struct LoadReport {
  uint64_t sent = 0;           // in the measured period
  uint64_t completed = 0;      // answered (any status)
  uint64_t completed_all = 0;  // answered, warm-up included
  uint64_t ok = 0;             // 2xx
  uint64_t non_2xx = 0;
  uint64_t errors = 0;  // connect failures, resets, timeouts, unparseable answers
  uint64_t late = 0;    // open loop: requests that waited for a free connection
  double measured_seconds = 0;
  LatencyHistogram latency;    // intended (or send) time -> complete answer
  uint64_t slowest_at_ms = 0;  // when the slowest request was due, from the measured start
};

class LoadConnection;

class LoadClient {
 public:
  LoadClient(uv_loop_t* loop, LoadOptions options, Workload& workload);
  ~LoadClient();

  /// Connects, runs the warm-up and the measured period on `loop`, closes
  /// the connections; returns when done.
  void run();
  /// Every request's outcome goes to `log` too (warm-up included).
  void set_outcome_log(OutcomeLog* log) { outcome_log_ = log; }
  const LoadReport& report() const { return report_; }

 private:
  friend class LoadConnection;
  void tick();
  uint64_t due_time(uint64_t index) const;
  /// Issues request `seq` due at `due_ns` on `c`.
  void issue(LoadConnection* c, uint64_t due_ns);
  void connection_free(LoadConnection* c);
  void connection_lost(LoadConnection* c);  // an idle one closed
  void completed(const LoadConnection& c, int status, bool error);
  bool measuring(uint64_t due_ns) const { return due_ns >= measure_from_ns_; }
  void finish();

  uv_loop_t* loop_;
  LoadOptions options_;
  Workload& workload_;
  std::vector<std::unique_ptr<LoadConnection>> connections_;
  std::vector<LoadConnection*> free_;
  std::deque<uint64_t> backlog_;  // open loop: due times waiting for a connection
  uint64_t start_ns_ = 0;
  uint64_t measure_from_ns_ = 0;
  uint64_t end_ns_ = 0;
  uint64_t issued_ = 0;  // open loop: requests issued or queued so far
  uint64_t seq_ = 0;
  bool stopping_ = false;
  LoadReport report_;
  OutcomeLog* outcome_log_ = nullptr;
};

}  // namespace streamshift
