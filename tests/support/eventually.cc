// Polling with a deadline; see eventually.h.
#include "tests/support/eventually.h"

#include <thread>

namespace streamshift::testing {

::testing::AssertionResult eventually(const std::function<bool()>& condition,
                                      std::chrono::milliseconds timeout, std::string_view what) {
  using Clock = std::chrono::steady_clock;
  auto started = Clock::now();
  auto deadline = started + timeout;
  for (int checks = 1;; ++checks) {
    if (condition()) {
      auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
      return ::testing::AssertionSuccess() << what << ": true after " << took.count() << " ms";
    }
    if (Clock::now() >= deadline) {
      return ::testing::AssertionFailure() << what << ": still false after " << timeout.count()
                                           << " ms (" << checks << " checks)";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace streamshift::testing
