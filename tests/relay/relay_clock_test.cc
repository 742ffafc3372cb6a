// The libuv clock of the relay: timers, the end-of-turn task, and close()
// answering only once every handle is closed.
#include "relay/relay_clock.h"

#include <gtest/gtest.h>

namespace streamshift {
namespace {

TEST(UvRelayClock, TimersFireTasksRunOnceAtTheTurnsEndAndCloseWaitsForEveryHandle) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  {
    UvRelayClock clock(&loop);
    int once = 0, repeated = 0, turn_ends = 0, closed = 0;
    RelayTimer& single = clock.timer([&] { ++once; });
    RelayTimer* every = nullptr;
    every = &clock.timer([&] {
      if (++repeated == 3) every->stop();
    });
    TurnEndTask& task = clock.turn_end_task([&] { ++turn_ends; });
    single.start(5);
    every->start(1, 1);
    EXPECT_TRUE(single.active());
    task.arm();
    task.arm();  // armed twice in one turn: runs once
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_EQ(once, 1);
    EXPECT_EQ(repeated, 3);
    EXPECT_EQ(turn_ends, 1);
    EXPECT_FALSE(single.active());

    clock.close([&] { ++closed; });
    single.start(1);  // closed: does nothing
    task.arm();
    EXPECT_EQ(closed, 0);  // the handles close in the loop
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_EQ(closed, 1);
    EXPECT_EQ(once, 1);
    EXPECT_EQ(turn_ends, 1);
  }
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

}  // namespace
}  // namespace streamshift
