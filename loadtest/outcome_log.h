// Per-request outcomes of a load run, one text line each, for tools that
// check what became of every event (scripts/chaos.py: which were
// acknowledged, which failed, when each was sent and answered):
//
//   <event id> <status> <sent ns> <done ns>
//
// status: the HTTP status of the answer; 0: failed without an answer
// (connect error, reset, the client's timeout); -1: still unanswered when
// the run ended (done = the end). Times are CLOCK_MONOTONIC nanoseconds
// (uv_hrtime), the clock of the intended send time inside the event id.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace streamshift {

class OutcomeLog {
 public:
  static constexpr int kFailed = 0;
  static constexpr int kUnanswered = -1;

  OutcomeLog() = default;
  ~OutcomeLog();
  OutcomeLog(const OutcomeLog&) = delete;
  OutcomeLog& operator=(const OutcomeLog&) = delete;

  /// Creates (truncates) `path`; false, with errno set, when it cannot.
  bool open(const std::string& path);
  void record(uint64_t seq, uint64_t intended_ns, int status, uint64_t sent_ns, uint64_t done_ns);
  /// Flushes and closes; false when a write failed.
  bool close();

 private:
  std::FILE* file_ = nullptr;
  std::string line_;
};

}  // namespace streamshift
