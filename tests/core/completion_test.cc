// complete_once / complete_all: a completion runs exactly once, with its
// slot already empty while it runs.
#include "core/completion.h"

#include <gtest/gtest.h>

#include <functional>

namespace streamshift {
namespace {

TEST(Completion, RunsOnceAndEmptiesTheSlotBeforeRunning) {
  std::function<void(int)> slot;
  int calls = 0, got = 0;
  slot = [&](int v) {
    ++calls;
    got = v;
    EXPECT_FALSE(slot) << "the slot must be empty while the callback runs";
  };
  EXPECT_TRUE(complete_once(slot, 7));
  EXPECT_FALSE(complete_once(slot, 8));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got, 7);
}

TEST(Completion, TheCallbackMayFillItsSlotAgain) {
  std::function<void()> slot;
  int calls = 0;
  slot = [&] {
    ++calls;
    slot = [&] { calls += 10; };
  };
  complete_once(slot);
  EXPECT_EQ(calls, 1);
  complete_once(slot);
  EXPECT_EQ(calls, 11);
}

void bump(void* data, int by) {
  *static_cast<int*>(data) += by;
}

TEST(Completion, WorksWithFunctionPointers) {
  void (*slot)(void*, int) = bump;
  int n = 0;
  complete_once(slot, &n, 2);
  complete_once(slot, &n, 2);
  EXPECT_EQ(n, 2);
  EXPECT_EQ(slot, nullptr);
}

TEST(Completion, AllWaitersRunOnceAndLateComersWaitForTheNext) {
  std::vector<std::function<void()>> waiting;
  int a = 0, b = 0, late = 0;
  waiting.push_back([&] { ++a; });
  waiting.push_back([&] {
    ++b;
    waiting.push_back([&] { ++late; });
  });
  complete_all(waiting);
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 1);
  EXPECT_EQ(late, 0);
  ASSERT_EQ(waiting.size(), 1u);
  complete_all(waiting);
  EXPECT_EQ(late, 1);
  EXPECT_TRUE(waiting.empty());
}

TEST(BeginShutdown, OnlyTheFirstCallStartsAndLaterOnesAreToldWhenClosed) {
  bool shutting_down = false;
  std::vector<std::function<void()>> waiting;
  int told = 0;
  EXPECT_TRUE(begin_shutdown(shutting_down, 2, waiting, [&] { ++told; }));
  EXPECT_TRUE(shutting_down);
  EXPECT_FALSE(begin_shutdown(shutting_down, 2, waiting, [&] { ++told; }));
  EXPECT_FALSE(begin_shutdown(shutting_down, 1, waiting, nullptr));
  EXPECT_EQ(waiting.size(), 2u);
  complete_all(waiting);
  EXPECT_EQ(told, 2);
  EXPECT_FALSE(begin_shutdown(shutting_down, 0, waiting, [&] { ++told; }));
  EXPECT_EQ(told, 3);  // everything closed already: at once
  EXPECT_TRUE(waiting.empty());
}

}  // namespace
}  // namespace streamshift
