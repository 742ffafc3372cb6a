// Waiting for a condition in tests: poll it with a deadline instead of
// sleeping a fixed time, and say how long was waited when giving up.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string_view>

namespace streamshift::testing {

/// Checks `condition` every few milliseconds until it holds (success) or
/// `timeout` has passed (failure); it is always checked at least once.
/// Converts to bool. In ASSERT_TRUE a failure reads "<what>: still false
/// after 5000 ms (37 checks)"; in ASSERT_FALSE, for what must not happen
/// within a time, "<what>: true after 120 ms".
::testing::AssertionResult eventually(const std::function<bool()>& condition,
                                      std::chrono::milliseconds timeout,
                                      std::string_view what = "the condition");

}  // namespace streamshift::testing
