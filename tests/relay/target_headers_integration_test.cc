// Headers the target needs, through the real binaries, a real redis-server
// and a recording target: the relay's headers file (every delivery carries
// it; rewrites and Secret-style `..data` swaps take effect, an invalid
// rewrite keeps the old headers and is counted; its values never show), and
// the request headers the sidecar captures into the entry, replayed by the
// relay.
#include <gtest/gtest.h>
#include <stdio.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tests/support/delivery_target.h"
#include "tests/support/eventually.h"
#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"
#include "tests/support/stream_entries.h"
#include "tests/support/temp_dir.h"

namespace streamshift::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

constexpr const char* kKeyOne = "key-one-5ecr3t";
constexpr const char* kKeyTwo = "key-two-5ecr3t";
constexpr const char* kKeyThree = "key-three-5ecr3t";

struct Outcome {
  int code;
  std::string output;
};

Outcome run(std::vector<std::string> args, std::map<std::string, std::string> env) {
  args.insert(args.begin(), streamshift_binary());
  ChildProcess p(args, std::move(env));
  int code = p.wait(seconds(20));
  return {code, p.output()};
}

// The layout of a Kubernetes Secret volume: dir/headers -> ..data/headers,
// ..data -> ..<version>, replaced by renaming a new symlink over ..data.
void swap_secret_version(const std::string& dir, const std::string& version,
                         const std::string& text) {
  fs::create_directory(dir + "/.." + version);
  std::ofstream(dir + "/.." + version + "/headers") << text;
  fs::create_directory_symlink(".." + version, dir + "/..data_tmp");
  fs::rename(dir + "/..data_tmp", dir + "/..data");
}

class TargetHeaders : public ::testing::Test {
 protected:
  std::unique_ptr<RelayProcess> start_relay(std::map<std::string, std::string> env) {
    env.emplace("STREAMSHIFT_STREAMS", "events:chat");
    auto relay = std::make_unique<RelayProcess>(redis_.url(), target_.port(), env);
    EXPECT_TRUE(relay->ready()) << relay->process().output();
    return relay;
  }
  // Stores one event and waits for its delivery; the request the target got.
  std::optional<ReceivedRequest> deliver(const std::string& event_id) {
    xadd(redis_, event_id);
    if (!eventually([&] { return target_.delivered().count(event_id) > 0; }, seconds(15)))
      return std::nullopt;
    for (const ReceivedRequest& r : target_.upstream().requests()) {
      if (r.header("X-Event-Id") == event_id) return r;
    }
    return std::nullopt;
  }
  // Waits until the relay counted `n` re-reads with `result` (ok, rejected).
  static ::testing::AssertionResult reloads(const RelayProcess& relay, const std::string& result,
                                            double n) {
    std::string series = "streamshift_relay_headers_reloads_total{result=\"" + result + "\"}";
    if (eventually([&] { return relay.metric(series) == n; }, seconds(10)))
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << series << " = " << relay.metric(series) << ", not " << n;
  }
  static void expect_no_value(const std::string& text, const std::string& where) {
    for (const char* v : {kKeyOne, kKeyTwo, kKeyThree})
      EXPECT_EQ(text.find(v), std::string::npos) << v << " in " << where << ":\n" << text;
  }
  RedisServer redis_;
  DeliveryTarget target_;
};

TEST_F(TargetHeaders, TheFileIsAddedToEveryDeliveryAndARewriteTakesEffectButNotAnInvalidOne) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::string file = dir.file("headers");
  std::ofstream(file) << "# SignalR's internal API key\nX-Api-Key: " << kKeyOne
                      << "\n\nX-Tenant: acme\n";
  auto relay = start_relay({{"STREAMSHIFT_RELAY_HEADERS_FILE", file}});
  ASSERT_TRUE(relay->ready());

  for (int i = 0; i < 3; ++i) {
    auto got = deliver("ev-a" + std::to_string(i));
    ASSERT_TRUE(got) << relay->process().output();
    EXPECT_EQ(got->header("X-Api-Key").value_or(""), kKeyOne);
    EXPECT_EQ(got->header("X-Tenant").value_or(""), "acme");
    EXPECT_EQ(got->header_count("X-Api-Key"), 1u);
  }

  write_file_atomically(file, std::string("X-Api-Key: ") + kKeyTwo + "\n");
  ASSERT_TRUE(reloads(*relay, "ok", 1)) << relay->process().output();
  auto after = deliver("ev-b");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->header("X-Api-Key").value_or(""), kKeyTwo);
  EXPECT_FALSE(after->header("X-Tenant"));

  // Line 2 names a header the relay sets itself: refused, the old key stays.
  write_file_atomically(file, std::string("X-Api-Key: ") + kKeyThree + "\nHost: elsewhere\n");
  ASSERT_TRUE(reloads(*relay, "rejected", 1)) << relay->process().output();
  EXPECT_TRUE(relay->process().wait_output("line 2: the relay sets Host itself", seconds(5)));
  auto kept = deliver("ev-c");
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->header("X-Api-Key").value_or(""), kKeyTwo);
  // Re-read every few seconds, the same invalid file is counted once.
  EXPECT_EQ(relay->metric("streamshift_relay_headers_reloads_total{result=\"ok\"}"), 1);

  auto metrics = http_get(relay->admin_port(), "/metrics");
  ASSERT_TRUE(metrics);
  expect_no_value(metrics->body, "/metrics");
  expect_no_value(relay->process().output(), "the relay's log");
  Outcome shown = run({"check-config", "relay"}, {{"STREAMSHIFT_RELAY_HEADERS_FILE", file},
                                                  {"STREAMSHIFT_STREAMS", "events:chat"}});
  EXPECT_EQ(shown.code, 2) << shown.output;  // the file on disk is the invalid one
  EXPECT_NE(shown.output.find("line 2: the relay sets Host itself"), std::string::npos)
      << shown.output;
  expect_no_value(shown.output, "check-config");
}

TEST_F(TargetHeaders, ASecretVolumeSwapOfDataTakesEffect) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  swap_secret_version(dir.path().string(), "v1", std::string("X-Api-Key: ") + kKeyOne + "\n");
  fs::create_symlink("..data/headers", dir.file("headers"));
  std::string file = dir.file("headers");
  auto relay = start_relay({{"STREAMSHIFT_RELAY_HEADERS_FILE", file}});
  ASSERT_TRUE(relay->ready());
  auto before = deliver("ev-1");
  ASSERT_TRUE(before) << relay->process().output();
  EXPECT_EQ(before->header("X-Api-Key").value_or(""), kKeyOne);

  swap_secret_version(dir.path().string(), "v2", std::string("X-Api-Key: ") + kKeyTwo + "\n");
  ASSERT_TRUE(reloads(*relay, "ok", 1)) << relay->process().output();
  auto after = deliver("ev-2");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->header("X-Api-Key").value_or(""), kKeyTwo);
  expect_no_value(relay->process().output(), "the relay's log");

  Outcome shown = run({"check-config", "relay"}, {{"STREAMSHIFT_RELAY_HEADERS_FILE", file}});
  EXPECT_EQ(shown.code, 0) << shown.output;
  EXPECT_NE(shown.output.find(file), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("X-Api-Key: ****"), std::string::npos) << shown.output;
  expect_no_value(shown.output, "check-config");
}

TEST_F(TargetHeaders, AMissingOrInvalidFileIsAStartErrorNamingTheLineNotTheValue) {
  TempDir dir;
  std::string file = dir.file("headers");
  Outcome missing = run({"relay"}, {{"STREAMSHIFT_RELAY_HEADERS_FILE", file}});
  EXPECT_EQ(missing.code, 2) << missing.output;
  EXPECT_NE(missing.output.find("STREAMSHIFT_RELAY_HEADERS_FILE"), std::string::npos);
  EXPECT_NE(missing.output.find(file + ": cannot open"), std::string::npos) << missing.output;

  std::ofstream(file) << "X-Api-Key: " << kKeyOne << "\nX-Other " << kKeyTwo << "\n";
  for (std::vector<std::string> command :
       {std::vector<std::string>{"relay"}, std::vector<std::string>{"check-config", "relay"}}) {
    Outcome r = run(command, {{"STREAMSHIFT_RELAY_HEADERS_FILE", file}});
    EXPECT_EQ(r.code, 2) << command.back() << ": " << r.output;
    EXPECT_NE(r.output.find("line 2: not a `Name: value` line"), std::string::npos) << r.output;
    expect_no_value(r.output, command.back());
  }
}

TEST_F(TargetHeaders, CapturedRequestHeadersCrossTheStreamToTheTarget) {
  auto relay = start_relay({});
  ASSERT_TRUE(relay->ready());
  auto sidecar = std::make_unique<Sidecar>(target_.port(), sidecar_storing_env(redis_.url()));
  ASSERT_TRUE(sidecar->ready()) << sidecar->process().output();
  ASSERT_TRUE(sidecar->wait_redis_connected());
  const std::string traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  TestClient client(sidecar->port());
  auto r = client.request(
      make_request("POST", "/internal/broadcast/chat",
                   R"({"event_type":"chat_message","room_id":"r-7","event_id":"traced-1"})",
                   "Content-Type: application/json\r\nTraceparent: " + traceparent +
                       "\r\nX-Request-Id: req-42\r\nAuthorization: Bearer app-token\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202) << r->body;

  RedisValue entries = redis_.command({"XRANGE", "events:chat", "-", "+"});
  ASSERT_EQ(entries.elements.size(), 1u);
  std::map<std::string, std::string> fields;
  const RedisValue& pairs = entries.elements[0].elements.at(1);
  for (size_t i = 0; i + 1 < pairs.elements.size(); i += 2)
    fields[pairs.elements[i].str] = pairs.elements[i + 1].str;
  EXPECT_EQ(fields["h:traceparent"], traceparent);
  EXPECT_EQ(fields["h:x-request-id"], "req-42");
  EXPECT_FALSE(fields.count("h:tracestate"));  // not in the request: not stored
  EXPECT_FALSE(fields.count("h:authorization"));
  EXPECT_EQ(pairs.elements.at(pairs.elements.size() - 6).str, "body");  // h: fields come last

  ASSERT_TRUE(eventually([&] { return target_.delivered().count("traced-1") > 0; }, seconds(15)))
      << relay->process().output();
  ReceivedRequest delivered = target_.upstream().requests().back();
  EXPECT_EQ(delivered.header("X-Event-Transport").value_or(""), "redis_streams");
  EXPECT_EQ(delivered.header("traceparent").value_or(""), traceparent);
  EXPECT_EQ(delivered.header("X-Request-Id").value_or(""), "req-42");
  EXPECT_FALSE(delivered.header("Authorization"));
}

// Anyone who can XADD (or redrive a dead letter) writes any `h:` field: the
// relay replays none the sidecar would refuse to capture.
TEST_F(TargetHeaders, AnEntryWrittenByHandDeliversNoCredentials) {
  auto relay = start_relay({});
  ASSERT_TRUE(relay->ready());
  const std::string traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  ASSERT_FALSE(xadd_with(redis_, "by-hand-1",
                         {{"h:authorization", "Bearer stolen"},
                          {"h:Cookie", "session=stolen"},
                          {"h:upgrade", "websocket"},
                          {"h:traceparent", traceparent}})
                   .empty());
  ASSERT_TRUE(eventually([&] { return target_.delivered().count("by-hand-1") > 0; }, seconds(15)))
      << relay->process().output();
  ReceivedRequest delivered = target_.upstream().requests().back();
  EXPECT_EQ(delivered.header("X-Event-Id").value_or(""), "by-hand-1");
  EXPECT_EQ(delivered.header("traceparent").value_or(""), traceparent);
  EXPECT_FALSE(delivered.header("Authorization"));
  EXPECT_FALSE(delivered.header("Cookie"));
  EXPECT_FALSE(delivered.header("Upgrade"));
}

TEST_F(TargetHeaders, CredentialsCannotBeCaptured) {
  for (const char* list : {"authorization", "traceparent,Cookie"}) {
    for (std::vector<std::string> command :
         {std::vector<std::string>{}, std::vector<std::string>{"check-config"}}) {
      Outcome r = run(
          command, {{"STREAMSHIFT_CAPTURE_HEADERS", list}, {"STREAMSHIFT_LISTEN", "127.0.0.1:0"}});
      EXPECT_EQ(r.code, 2) << list << " " << r.output;
      EXPECT_NE(r.output.find("STREAMSHIFT_CAPTURE_HEADERS"), std::string::npos) << r.output;
      EXPECT_NE(r.output.find("carries credentials: it is never stored in a stream"),
                std::string::npos)
          << r.output;
    }
  }
}

}  // namespace
}  // namespace streamshift::testing
