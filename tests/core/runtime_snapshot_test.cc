// Snapshots handed to worker loops (core/runtime_snapshot.h): two real loops
// on two threads serve "requests" from a timer, reading their slot with no
// lock, while the test thread publishes. Run under TSan once
// (-DSTREAMSHIFT_TSAN=ON): the hand-over must be race-free.
#include "core/runtime_snapshot.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "tests/support/eventually.h"
#include "tests/support/loop_thread.h"

namespace streamshift {
namespace {

using std::chrono::milliseconds;
using testing::eventually;
using testing::LoopThread;

// Immutable once published; a torn read would show mixed generations.
struct Settings {
  explicit Settings(int g) : generation(g), payload(64, g) {}
  int generation;
  std::vector<int> payload;
};

std::shared_ptr<const Settings> settings(int generation) {
  return std::make_shared<const Settings>(generation);
}

// One worker: a slot and a timer standing for requests, each decided by
// the snapshot in force. Everything here lives on the worker's thread.
struct Worker {
  explicit Worker(SnapshotHub<Settings>& into) : hub(into) {}
  ~Worker() {
    if (slot) stop();  // a test that failed early: the loop must be empty to join
  }

  void start() {  // on the worker's thread
    swaps_on = std::this_thread::get_id();
    slot = std::make_unique<SnapshotSlot<Settings>>(
        thread.loop(), hub, [this](const Settings& before, const Settings& after) {
          swap_threads_ok &= std::this_thread::get_id() == swaps_on;
          swaps.emplace_back(before.generation, after.generation);
        });
    uv_timer_init(thread.loop(), &requests);
    requests.data = this;
    uv_timer_start(
        &requests, [](uv_timer_t* t) { static_cast<Worker*>(t->data)->serve(); }, 1, 1);
  }

  void serve() {
    const Settings& s = slot->current();
    for (int v : s.payload) torn |= v != s.generation;
    went_back |= s.generation < last_seen;
    last_seen = s.generation;
    ++served;
  }

  void stop() {  // from the test thread
    bool closed = false;
    thread.run([&] {
      uv_close(reinterpret_cast<uv_handle_t*>(&requests), nullptr);
      slot->close([&] {
        slot.reset();
        closed = true;
      });
    });
    ASSERT_TRUE(eventually([&] { return thread.run([&] { return closed; }); }, milliseconds(5000),
                           "slot closed"));
  }

  int seen() {
    return thread.run([&] { return last_seen; });
  }

  SnapshotHub<Settings>& hub;
  LoopThread thread;
  std::unique_ptr<SnapshotSlot<Settings>> slot;
  uv_timer_t requests;
  std::thread::id swaps_on;
  std::vector<std::pair<int, int>> swaps;
  bool swap_threads_ok = true;
  bool torn = false;
  bool went_back = false;
  int last_seen = 0;
  uint64_t served = 0;
};

TEST(RuntimeSnapshot, EveryWorkerServesEachPublishedSnapshotWholeAndNeverGoesBack) {
  SnapshotHub<Settings> hub(settings(0));
  Worker a(hub), b(hub);
  a.thread.run([&] { a.start(); });
  b.thread.run([&] { b.start(); });

  for (int g = 1; g <= 30; ++g) {
    hub.publish(settings(g));
    ASSERT_TRUE(eventually([&] { return a.seen() == g && b.seen() == g; }, milliseconds(5000),
                           "both workers on generation " + std::to_string(g)));
  }
  // A burst: a worker may skip to the last, never stop before it.
  for (int g = 31; g <= 300; ++g) hub.publish(settings(g));
  ASSERT_TRUE(eventually([&] { return a.seen() == 300 && b.seen() == 300; }, milliseconds(5000),
                         "both workers on the last generation"));

  for (Worker* w : {&a, &b}) {
    w->thread.run([&] {
      EXPECT_FALSE(w->torn);
      EXPECT_FALSE(w->went_back);
      EXPECT_TRUE(w->swap_threads_ok) << "on_swap ran off the worker's loop thread";
      ASSERT_FALSE(w->swaps.empty());
      EXPECT_EQ(w->swaps.front(), std::make_pair(0, 1));
      EXPECT_EQ(w->swaps.back().second, 300);
      EXPECT_GT(w->served, 0u);
    });
    w->stop();
  }
}

TEST(RuntimeSnapshot, HeldSnapshotOutlivesTheSwapUnchanged) {
  SnapshotHub<Settings> hub(settings(1));
  Worker w(hub);
  w.thread.run([&] { w.start(); });
  // A request in flight keeps the snapshot it was decided with.
  std::shared_ptr<const Settings> held = w.thread.run([&] { return w.slot->hold(); });
  hub.publish(settings(2));
  ASSERT_TRUE(eventually([&] { return w.seen() == 2; }, milliseconds(5000), "swapped"));
  EXPECT_EQ(held->generation, 1);
  EXPECT_EQ(held->payload.front(), 1);
  EXPECT_EQ(held.use_count(), 1) << "the slot still holds the old snapshot";
  w.stop();
}

TEST(RuntimeSnapshot, SlotClosedWhilePublishingGoesOnIsDetachedAndFreedSafely) {
  SnapshotHub<Settings> hub(settings(0));
  Worker stays(hub);
  auto leaves = std::make_unique<Worker>(hub);
  stays.thread.run([&] { stays.start(); });
  leaves->thread.run([&] { leaves->start(); });

  std::atomic<bool> stop{false};
  std::atomic<int> published{0};
  std::thread publisher([&] {
    for (int g = 1; !stop; ++g) {
      hub.publish(settings(g));
      published = g;
      std::this_thread::yield();
    }
  });
  ASSERT_TRUE(eventually([&] { return leaves->seen() > 0; }, milliseconds(5000), "leaves served"));
  leaves->stop();  // frees its slot while the publisher runs
  leaves.reset();
  int after_close = published;
  ASSERT_TRUE(eventually([&] { return stays.seen() > after_close; }, milliseconds(5000),
                         "the remaining worker still follows"));
  stop = true;
  publisher.join();
  stays.stop();
}

}  // namespace
}  // namespace streamshift
