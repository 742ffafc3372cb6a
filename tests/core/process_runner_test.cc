// A program's process through core/process_runner.h, on a loop of its own,
// with a real SIGTERM/SIGINT raised in this process once the runner watches.
#include "core/process_runner.h"

#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <vector>

namespace streamshift {
namespace {

// Records the calls; a timer on the loop is its work, stopped by the drain.
class FakeProgram : public Program {
 public:
  FakeProgram(uv_loop_t* loop, bool starts, int raise_at_start, std::vector<std::string>* calls)
      : loop_(loop), starts_(starts), raise_at_start_(raise_at_start), calls_(calls) {}

  bool start() override {
    calls_->push_back("start");
    if (!starts_) return false;
    uv_timer_init(loop_, &work_);
    uv_timer_start(
        &work_, [](uv_timer_t*) {}, 3600 * 1000, 3600 * 1000);
    if (raise_at_start_ != 0) std::raise(raise_at_start_);
    return true;
  }
  void begin_drain() override {
    calls_->push_back("begin_drain");
    uv_close(reinterpret_cast<uv_handle_t*>(&work_), nullptr);
  }
  void finish(Ending ending) override {
    calls_->push_back(ending == Ending::kRan ? "finish(ran)" : "finish(failed start)");
  }

 private:
  uv_loop_t* loop_;
  bool starts_;
  int raise_at_start_;
  std::vector<std::string>* calls_;
  uv_timer_t work_;
};

struct Outcome {
  int status;
  std::vector<std::string> calls;
};

Outcome run(bool starts, int raise_at_start) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  Outcome out;
  out.status = run_process(&loop, "draining", [&] {
    return std::make_unique<FakeProgram>(&loop, starts, raise_at_start, &out.calls);
  });
  return out;
}

TEST(ProcessRunner, SigtermDrainsThenFinishesOnceAndExitsZero) {
  Outcome out = run(true, SIGTERM);
  EXPECT_EQ(out.status, 0);
  EXPECT_EQ(out.calls, (std::vector<std::string>{"start", "begin_drain", "finish(ran)"}));
}

TEST(ProcessRunner, SigintDoesTheSame) {
  Outcome out = run(true, SIGINT);
  EXPECT_EQ(out.status, 0);
  EXPECT_EQ(out.calls, (std::vector<std::string>{"start", "begin_drain", "finish(ran)"}));
}

TEST(ProcessRunner, AFailedStartIsTornDownByTheSameFinishAndExitsOne) {
  Outcome out = run(false, 0);
  EXPECT_EQ(out.status, 1);
  EXPECT_EQ(out.calls, (std::vector<std::string>{"start", "finish(failed start)"}));
}

}  // namespace
}  // namespace streamshift
