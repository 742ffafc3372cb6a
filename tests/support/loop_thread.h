// A libuv loop on a thread of its own, for tests that need several loops at
// once (workers): run() executes a function on the loop's thread and waits
// for its result, which is also how a test reads what the loop recorded
// without a race.
#pragma once

#include <uv.h>

#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

namespace streamshift::testing {

class LoopThread {
 public:
  LoopThread();
  /// Everything the test put on the loop must be closed first.
  ~LoopThread();
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  uv_loop_t* loop() { return &loop_; }
  std::thread::id thread_id() const { return thread_.get_id(); }

  template <class F>
  auto run(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    post([&task] { task(); });
    return result.get();
  }

 private:
  void post(std::function<void()> task);
  static void on_wake(uv_async_t* async);

  uv_loop_t loop_;
  uv_async_t wake_;
  std::mutex mutex_;
  std::deque<std::function<void()>> tasks_;
  std::thread thread_;
};

}  // namespace streamshift::testing
