// The runtime directory (core/runtime_dir.h): read_runtime_dir on real
// directories (plain and Kubernetes ConfigMap layouts), then RuntimeDir on a
// real loop in this thread, driven by real file changes: the ..data swap
// seen by the watch, bursts debounced, the periodic re-read, errors, close.
#include "core/runtime_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/runtime_layers.h"
#include "tests/support/env_map.h"
#include "tests/support/eventually.h"
#include "tests/support/temp_dir.h"

namespace streamshift {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using testing::eventually;

using testing::TempDir;

void write_file(const fs::path& file, const std::string& content) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
}

// What the kubelet does on a ConfigMap update: the new version in its own
// directory, `..data` swapped to it by a rename, the names linked through
// `..data`, the old version removed.
class ConfigMapVolume {
 public:
  explicit ConfigMapVolume(fs::path dir) : dir_(std::move(dir)) {}

  void publish(const RuntimeValues& values) {
    std::string version = "..2026_11_30_09_51_0" + std::to_string(++versions_);
    fs::create_directory(dir_ / version);
    for (const auto& [name, value] : values) write_file(dir_ / version / name, value + "\n");
    fs::create_directory_symlink(version, dir_ / "..data_tmp");
    fs::rename(dir_ / "..data_tmp", dir_ / "..data");
    for (const auto& [name, value] : values) {
      if (!fs::is_symlink(dir_ / name)) fs::create_symlink(fs::path("..data") / name, dir_ / name);
    }
    if (!current_.empty()) fs::remove_all(dir_ / current_);
    current_ = version;
  }

 private:
  fs::path dir_;
  std::string current_;
  int versions_ = 0;
};

TEST(ReadRuntimeDir, OneValuePerFileWithTrailingNewlinesTrimmed) {
  TempDir dir;
  write_file(dir.path() / "EVENT_TRANSPORT_USE_REDIS_STREAMS", "true\n");
  write_file(dir.path() / "EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "25\r\n\n");
  write_file(dir.path() / "EVENT_TRANSPORT_ROLLOUT_KEY", " room ");
  RuntimeDirRead read = read_runtime_dir(dir.path());
  EXPECT_EQ(read.error, "");
  EXPECT_EQ(read.values, (RuntimeValues{{"EVENT_TRANSPORT_USE_REDIS_STREAMS", "true"},
                                        {"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "25"},
                                        {"EVENT_TRANSPORT_ROLLOUT_KEY", " room "}}));
}

TEST(ReadRuntimeDir, DotFilesSubdirectoriesAndFifosAreSkipped) {
  TempDir dir;
  write_file(dir.path() / "A", "1");
  write_file(dir.path() / ".A.swp", "junk");
  fs::create_directory(dir.path() / "nested");
  ASSERT_EQ(mkfifo((dir.path() / "FIFO").c_str(), 0600), 0);  // would block a plain open
  write_file(dir.path() / "nested" / "B", "2");
  EXPECT_EQ(read_runtime_dir(dir.path()).values, (RuntimeValues{{"A", "1"}}));
}

TEST(ReadRuntimeDir, ConfigMapLayoutIsReadFromTheVersionDataPointsTo) {
  TempDir dir;
  ConfigMapVolume volume(dir.path());
  volume.publish({{"A", "1"}, {"B", "2"}});
  volume.publish({{"A", "3"}});
  // B's link still stands in the directory but dangles: the version in
  // force has no B.
  RuntimeDirRead read = read_runtime_dir(dir.path());
  EXPECT_EQ(read.error, "");
  EXPECT_EQ(read.values, (RuntimeValues{{"A", "3"}}));
}

TEST(ReadRuntimeDir, MissingDirectoryIsAnErrorNamingIt) {
  RuntimeDirRead read = read_runtime_dir("/nonexistent/runtime");
  EXPECT_TRUE(read.values.empty());
  EXPECT_EQ(read.error, "/nonexistent/runtime: cannot open: ENOENT (no such file or directory)");
}

TEST(ReadRuntimeDir, OversizedValueOrTooManyFilesRefuseTheWholeSet) {
  TempDir dir;
  write_file(dir.path() / "A", "1");
  write_file(dir.path() / "BIG", std::string(kRuntimeDirMaxValueBytes + 1, 'x'));
  RuntimeDirRead read = read_runtime_dir(dir.path());
  EXPECT_TRUE(read.values.empty());
  EXPECT_EQ(read.error, dir.path().string() + ": BIG: value longer than 4096 bytes");

  write_file(dir.path() / "BIG", std::string(kRuntimeDirMaxValueBytes, 'x') + "\n");
  EXPECT_EQ(read_runtime_dir(dir.path()).values.at("BIG").size(), kRuntimeDirMaxValueBytes);

  for (size_t i = 0; i < kRuntimeDirMaxFiles; ++i) write_file(dir.path() / std::to_string(i), "");
  EXPECT_EQ(read_runtime_dir(dir.path()).error, dir.path().string() + ": more than 256 files");
}

// Closed by the fixture's TearDown before the loop runs again.
struct Writer {
  uv_timer_t timer;
  fs::path dir;
  int count = 0;
  int written = 0;

  void start(uv_loop_t* loop, fs::path into, int writes, uint64_t every_ms) {
    dir = std::move(into);
    count = writes;
    uv_timer_init(loop, &timer);
    timer.data = this;
    uv_timer_start(
        &timer,
        [](uv_timer_t* t) {
          auto* self = static_cast<Writer*>(t->data);
          write_file(self->dir / ("V" + std::to_string(self->written)), "x");
          if (++self->written == self->count) uv_timer_stop(t);
        },
        every_ms, every_ms);
  }
};

// A RuntimeDir on a loop of this thread; checks run the loop between them.
class RuntimeDirLoop : public ::testing::Test {
 protected:
  void SetUp() override { uv_loop_init(&loop_); }
  void TearDown() override {
    if (writer_.count > 0) uv_close(reinterpret_cast<uv_handle_t*>(&writer_.timer), nullptr);
    if (dir_) {
      bool closed = false;
      dir_->close([&] { closed = true; });
      EXPECT_TRUE(run_until([&] { return closed; }, milliseconds(5000), "closed"));
    }
    EXPECT_EQ(uv_run(&loop_, UV_RUN_NOWAIT), 0) << "a handle left on the loop";
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }

  void start(RuntimeDir::Options options) {
    options.path = volume_.path();
    dir_ = std::make_unique<RuntimeDir>(
        &loop_, std::move(options), [this](const RuntimeValues& v) { handed_.push_back(v); },
        [this](const std::string& e) { errors_.push_back(e); });
    dir_->start();
  }

  ::testing::AssertionResult run_until(const std::function<bool()>& condition, milliseconds timeout,
                                       std::string_view what) {
    return eventually(
        [&] {
          uv_run(&loop_, UV_RUN_NOWAIT);
          return condition();
        },
        timeout, what);
  }

  ::testing::AssertionResult handed(size_t count, milliseconds timeout = milliseconds(5000)) {
    return run_until([&] { return handed_.size() >= count; }, timeout,
                     "set " + std::to_string(count) + " handed");
  }

  // Runs the loop until the directory has been read `more` more times.
  ::testing::AssertionResult reads_more(uint64_t more) {
    uint64_t target = dir_->reads() + more;
    return run_until([&] { return dir_->reads() >= target; }, milliseconds(5000), "reads");
  }

  uv_loop_t loop_;
  TempDir volume_;
  std::unique_ptr<RuntimeDir> dir_;
  std::vector<RuntimeValues> handed_;
  std::vector<std::string> errors_;
  Writer writer_;
};

constexpr uint64_t kNever = 10 * 60 * 1000;  // a re-read period no test waits for

TEST_F(RuntimeDirLoop, FirstSetIsHandedThenOnlyChangedSets) {
  write_file(volume_.path() / "A", "1\n");
  start({.reread_ms = 20});
  ASSERT_TRUE(handed(1));
  EXPECT_EQ(handed_[0], (RuntimeValues{{"A", "1"}}));
  ASSERT_TRUE(reads_more(5));
  EXPECT_EQ(handed_.size(), 1u) << "re-reads of an unchanged directory handed it again";

  write_file(volume_.path() / "A", "2\n");
  ASSERT_TRUE(handed(2));
  EXPECT_EQ(handed_[1], (RuntimeValues{{"A", "2"}}));
  EXPECT_TRUE(errors_.empty());
}

TEST_F(RuntimeDirLoop, KubernetesDataSwapIsSeenByTheWatchWithinTwoSeconds) {
  ConfigMapVolume volume(volume_.path());
  volume.publish({{"EVENT_TRANSPORT_USE_REDIS_STREAMS", "true"}});
  start({.reread_ms = kNever});
  ASSERT_TRUE(handed(1));

  auto written = std::chrono::steady_clock::now();
  volume.publish({{"EVENT_TRANSPORT_USE_REDIS_STREAMS", "false"}});
  ASSERT_TRUE(handed(2, milliseconds(2000)));
  EXPECT_EQ(handed_[1], (RuntimeValues{{"EVENT_TRANSPORT_USE_REDIS_STREAMS", "false"}}));
  auto seen = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - written);
  RecordProperty("swap_to_handed_ms", static_cast<int>(seen.count()));

  // And a second swap: the watch is on the directory, not on a replaced inode.
  volume.publish({{"EVENT_TRANSPORT_USE_REDIS_STREAMS", "true"}});
  ASSERT_TRUE(handed(3, milliseconds(2000)));
  EXPECT_EQ(handed_[2], (RuntimeValues{{"EVENT_TRANSPORT_USE_REDIS_STREAMS", "true"}}));
}

// Writes one file every `every_ms` from a timer on the loop, `count` times.

TEST_F(RuntimeDirLoop, BurstOfWritesIsDebouncedToOneRead) {
  // 300 ms: a loaded machine stalling the loop between two writes must not split the burst.
  start({.debounce_ms = 300, .max_debounce_ms = 5000, .reread_ms = kNever});
  ASSERT_TRUE(handed(1));
  uint64_t reads_before = dir_->reads();

  writer_.start(&loop_, volume_.path(), 20, 5);  // 5 ms apart: each within the debounce
  ASSERT_TRUE(handed(2));
  EXPECT_EQ(handed_[1].size(), 20u);
  // Nothing more comes: one read for the whole burst.
  EXPECT_FALSE(run_until([&] { return dir_->reads() > reads_before + 1; }, milliseconds(500),
                         "a second read"));
  EXPECT_EQ(dir_->reads(), reads_before + 1);
  EXPECT_EQ(handed_.size(), 2u);
}

TEST_F(RuntimeDirLoop, EndlessBurstIsStillReadAtTheBound) {
  start({.debounce_ms = 100, .max_debounce_ms = 300, .reread_ms = kNever});
  ASSERT_TRUE(handed(1));
  writer_.start(&loop_, volume_.path(), 100, 20);  // 2 s of writes, never 100 ms apart
  ASSERT_TRUE(handed(2));
  EXPECT_LT(writer_.written, writer_.count) << "nothing read before the burst ended";
}

TEST_F(RuntimeDirLoop, PeriodicReReadCatchesAChangeTheWatchMissed) {
  write_file(volume_.path() / "A", "1");
  start({.reread_ms = 200, .watch = false});  // as when the watch failed or missed the event
  ASSERT_TRUE(handed(1));
  write_file(volume_.path() / "A", "2");
  ASSERT_TRUE(handed(2, milliseconds(3000)));
  EXPECT_EQ(handed_[1], (RuntimeValues{{"A", "2"}}));
}

TEST_F(RuntimeDirLoop, UnreadableDirectoryIsReportedOnceAndTheLastSetStays) {
  write_file(volume_.path() / "A", "1");
  start({.reread_ms = 20});
  ASSERT_TRUE(handed(1));

  fs::path moved = volume_.path().string() + ".moved";
  fs::rename(volume_.path(), moved);
  std::string cannot_open =
      volume_.path().string() + ": cannot open: ENOENT (no such file or directory)";
  std::string cannot_watch = volume_.path().string() +
                             ": cannot watch (re-read every 20 ms only): ENOENT (no such file or "
                             "directory)";
  auto reported = [&](const std::string& error) {
    return std::count(errors_.begin(), errors_.end(), error);
  };
  // Both, the watch's too: the path is gone when it is watched again.
  ASSERT_TRUE(run_until([&] { return reported(cannot_open) == 1 && reported(cannot_watch) == 1; },
                        milliseconds(5000), "both errors reported"));
  ASSERT_TRUE(reads_more(10));
  EXPECT_EQ(errors_.size(), 2u) << "an error reported again";
  EXPECT_EQ(handed_.size(), 1u);

  // Back with another value: read again (the periodic read: the watch was
  // on the moved directory).
  fs::rename(moved, volume_.path());
  write_file(volume_.path() / "A", "2");
  ASSERT_TRUE(handed(2));
  EXPECT_EQ(handed_[1], (RuntimeValues{{"A", "2"}}));
}

TEST_F(RuntimeDirLoop, DirectoryReplacedIsWatchedAgain) {
  write_file(volume_.path() / "A", "1");
  start({.reread_ms = kNever});
  ASSERT_TRUE(handed(1));
  fs::remove_all(volume_.path());
  fs::create_directory(volume_.path());
  write_file(volume_.path() / "A", "2");
  ASSERT_TRUE(handed(2));
  // Only a watch on the new directory sees this one.
  write_file(volume_.path() / "A", "3");
  ASSERT_TRUE(handed(3, milliseconds(2000)));
  EXPECT_EQ(handed_[2], (RuntimeValues{{"A", "3"}}));
}

TEST_F(RuntimeDirLoop, CloseWithAReadInFlightFinishesItBeforeOnClosed) {
  write_file(volume_.path() / "A", "1");
  start({});
  bool closed = false;
  dir_->close([&] {
    closed = true;
    dir_.reset();  // the owner frees it here, the only safe place
  });
  ASSERT_TRUE(run_until([&] { return closed; }, milliseconds(5000), "closed"));
  EXPECT_TRUE(handed_.empty()) << "a set handed after close()";
}

// The two halves together: the directory feeds the file layer; an invalid
// value is refused with the loader's message and the values in force stay.
TEST_F(RuntimeDirLoop, InvalidValueInTheDirectoryKeepsTheOldSetAndSaysWhy) {
  constexpr const char* kPercent = "EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE";
  RuntimeLayers layers({kPercent}, {}, [&](const RuntimeValues& merged) {
    EnvReader env = testing::env_from(merged);
    env.integer(kPercent, 100, 0, 100, "share of rooms");
    return env.ok() ? std::string() : env.error_report();
  });
  std::vector<RuntimeReload> reloads;
  write_file(volume_.path() / kPercent, "10\n");
  dir_ = std::make_unique<RuntimeDir>(
      &loop_, RuntimeDir::Options{.path = volume_.path(), .reread_ms = kNever},
      [&](const RuntimeValues& v) { reloads.push_back(layers.apply_file(v)); },
      [](const std::string&) {});
  dir_->start();
  ASSERT_TRUE(run_until([&] { return reloads.size() == 1; }, milliseconds(5000), "first set"));
  EXPECT_EQ(layers.merged(), (RuntimeValues{{kPercent, "10"}}));

  write_file(volume_.path() / kPercent, "250\n");
  ASSERT_TRUE(run_until([&] { return reloads.size() == 2; }, milliseconds(2000), "invalid set"));
  EXPECT_EQ(reloads[1].result, RuntimeReloadResult::kRejected);
  EXPECT_NE(reloads[1].error.find(kPercent), std::string::npos) << reloads[1].error;
  EXPECT_NE(reloads[1].error.find("250"), std::string::npos) << reloads[1].error;
  EXPECT_EQ(layers.merged(), (RuntimeValues{{kPercent, "10"}}));
  EXPECT_NE(layers.render().find("\"result\":\"rejected\""), std::string::npos);
}

}  // namespace
}  // namespace streamshift
