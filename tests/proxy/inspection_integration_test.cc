// The stream inspection API through the real binary against a real
// redis-server: entries the sidecar wrote (Redis transport at 100%) read
// back with their shapes, newest first, by range and page by page; a body
// that is not JSON and one past the truncation; pending entries after a
// group read without ack; dead letters; and every refusal (401, 404, 400,
// unknown group, Redis down), each with the API's JSON error shape; and
// pages of 1 MiB bodies (entries and dead letters) that never reach the
// sidecar whole (its peak memory barely moves).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <iostream>

#include "core/stream_shards.h"
#include "proxy/inspection_documents.h"
#include "proxy/inspection_query.h"
#include "tests/support/eventually.h"
#include "tests/support/net.h"
#include "tests/support/proc_stats.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"
#include "tests/support/stream_entries.h"
#include "tests/support/test_upstream.h"

namespace streamshift::testing {
namespace {

using std::chrono::seconds;
namespace dom = simdjson::dom;

constexpr const char* kToken = "inspection-t0ken";
constexpr const char* kChat = "/api/v1/events/streams/events%3Achat";

struct Answer {
  int status = 0;
  std::string body;
  dom::parser parser;
  dom::element json;
};

// GET `path` on the admin listener; the body parsed as JSON (a test fails
// when it is not).
std::unique_ptr<Answer> get(uint16_t port, const std::string& path,
                            const std::string& token = kToken) {
  TestClient client(port);
  std::string auth = token.empty() ? "" : "Authorization: Bearer " + token + "\r\n";
  auto r = client.request(make_request("GET", path, "", auth));
  auto a = std::make_unique<Answer>();
  if (!r) {
    ADD_FAILURE() << "no answer to GET " << path;
    return a;
  }
  a->status = r->status;
  a->body = r->body;
  EXPECT_EQ(a->parser.parse(a->body).get(a->json), simdjson::SUCCESS) << a->body;
  return a;
}

std::string text(dom::element e) {
  return std::string(std::string_view(e));
}

std::vector<std::string> ids(const dom::element& doc, const char* list = "entries") {
  std::vector<std::string> out;
  for (dom::element e : dom::array(doc[list])) out.push_back(text(e["id"]));
  return out;
}

void expect_error(const Answer& a, int status, const std::string& code) {
  EXPECT_EQ(a.status, status) << a.body;
  std::string_view error;
  ASSERT_EQ(a.json["error"].get(error), simdjson::SUCCESS) << a.body;
  EXPECT_EQ(error, code) << a.body;
  std::string_view detail;
  ASSERT_EQ(a.json["detail"].get(detail), simdjson::SUCCESS) << a.body;
  EXPECT_FALSE(detail.empty());
}

class Inspection : public ::testing::Test {
 protected:
  void start(std::map<std::string, std::string> env = {}) {
    ASSERT_TRUE(redis_.ready());
    env.emplace("REDIS_URL", redis_.url());
    env.emplace("STREAMSHIFT_ADMIN_TOKEN", kToken);
    env.emplace("EVENT_TRANSPORT_USE_REDIS_STREAMS", "true");
    env.emplace("EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100");
    env.emplace("EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", "2000");
    sidecar_ = std::make_unique<Sidecar>(upstream_.port(), env);
    ASSERT_TRUE(sidecar_->ready()) << sidecar_->process().output();
    ASSERT_TRUE(sidecar_->wait_redis_connected());
    ASSERT_TRUE(sidecar_->wait_redis_connected("admin"));
  }
  // POSTs a chat event through the sidecar; its entry id.
  std::string post(const std::string& event_id, const std::string& extra = "") {
    TestClient client(sidecar_->port());
    auto r = client.request(
        make_request("POST", "/internal/broadcast/chat",
                     "{\"event_type\":\"chat_message\",\"room_id\":\"r-1\",\"event_id\":\"" +
                         event_id + "\"" + extra + "}",
                     "Content-Type: application/json\r\n"));
    EXPECT_TRUE(r && r->status == 202 && r->header("X-Event-Transport") == "redis_streams")
        << (r ? r->body : "no answer");
    auto entries = read_stream(redis_, "events:chat");
    return entries.empty() ? "" : entries.back().id;
  }
  uint16_t admin() const { return sidecar_->admin_port(); }

  TestUpstream upstream_;
  RedisServer redis_;
  std::unique_ptr<Sidecar> sidecar_;
};

TEST_F(Inspection, EntriesWrittenByTheSidecarReadBackWithTheirShapes) {
  start();
  std::string id1 = post("ev-1", ",\"text\":\"caf\xc3\xa9\"");
  auto a = get(admin(), std::string(kChat) + "/entries");
  ASSERT_EQ(a->status, 200) << a->body;
  EXPECT_EQ(text(a->json["stream"]), "events:chat");
  EXPECT_EQ(ids(a->json), std::vector<std::string>{id1});
  EXPECT_TRUE(a->json["next"].is_null());
  dom::element e = a->json["entries"].at(0);
  EXPECT_EQ(text(e["fields"]["v"]), "1");
  EXPECT_EQ(text(e["fields"]["event_id"]), "ev-1");
  EXPECT_EQ(text(e["fields"]["event_type"]), "chat_message");
  EXPECT_EQ(text(e["fields"]["room_id"]), "r-1");
  EXPECT_EQ(text(e["fields"]["method"]), "POST");
  EXPECT_EQ(text(e["fields"]["path"]), "/internal/broadcast/chat");
  EXPECT_EQ(text(e["fields"]["content_type"]), "application/json");
  EXPECT_FALSE(e["fields"]["body"].error() == simdjson::SUCCESS);  // shown apart
  // The body is embedded as JSON, byte for byte.
  EXPECT_EQ(text(e["body"]["text"]), "caf\xc3\xa9");
  EXPECT_EQ(text(e["body"]["event_id"]), "ev-1");
  EXPECT_EQ(text(e["body_format"]), "json");
  EXPECT_FALSE(bool(e["body_truncated"]));
  EXPECT_EQ(int64_t(e["body_bytes"]),
            static_cast<int64_t>(read_stream(redis_, "events:chat").at(0).field("body").size()));
}

TEST_F(Inspection, ReverseRangesAndPagesFollowNext) {
  start();
  std::vector<std::string> all;
  for (int i = 0; i < 5; ++i) all.push_back(post("ev-" + std::to_string(i)));
  auto a = get(admin(), std::string(kChat) + "/entries?reverse=1");
  ASSERT_EQ(a->status, 200) << a->body;
  EXPECT_EQ(ids(a->json), (std::vector<std::string>{all[4], all[3], all[2], all[1], all[0]}));
  EXPECT_TRUE(bool(a->json["reverse"]));

  a = get(admin(), std::string(kChat) + "/entries?start=" + all[1] + "&end=" + all[3]);
  EXPECT_EQ(ids(a->json), (std::vector<std::string>{all[1], all[2], all[3]}));
  a = get(admin(), std::string(kChat) + "/entries?start=%28" + all[1] + "&end=%28" + all[3]);
  EXPECT_EQ(ids(a->json), (std::vector<std::string>{all[2]})) << a->body;

  // Forward, two at a time: next is where the following page starts.
  std::vector<std::string> seen;
  std::string query = "count=2";
  for (int page = 0; page < 5; ++page) {
    a = get(admin(), std::string(kChat) + "/entries?" + query);
    ASSERT_EQ(a->status, 200) << a->body;
    for (const std::string& id : ids(a->json)) seen.push_back(id);
    if (a->json["next"].is_null()) break;
    query = "count=2&start=" + text(a->json["next"]);
  }
  EXPECT_EQ(seen, all);
  // Newest first, the same by end.
  a = get(admin(), std::string(kChat) + "/entries?reverse=1&count=3");
  EXPECT_EQ(ids(a->json), (std::vector<std::string>{all[4], all[3], all[2]}));
  EXPECT_EQ(text(a->json["next"]), all[1]);
  a = get(admin(), std::string(kChat) + "/entries?reverse=1&count=3&end=" + all[1]);
  EXPECT_EQ(ids(a->json), (std::vector<std::string>{all[1], all[0]}));
  EXPECT_TRUE(a->json["next"].is_null());
}

TEST_F(Inspection, CountIsCappedAndLargeBodiesTruncated) {
  start();
  std::string large(20000, 'x');
  post("big", ",\"text\":\"" + large + "\"");
  size_t stored = read_stream(redis_, "events:chat").at(0).field("body").size();
  ASSERT_GT(stored, kInspectionBodyBytes);
  auto a = get(admin(), std::string(kChat) + "/entries");
  ASSERT_EQ(a->status, 200) << a->body;
  dom::element e = a->json["entries"].at(0);
  EXPECT_TRUE(bool(e["body_truncated"]));
  EXPECT_EQ(int64_t(e["body_bytes"]), static_cast<int64_t>(stored));
  EXPECT_EQ(text(e["body_format"]), "text");
  EXPECT_EQ(text(e["body"]).size(), kInspectionBodyBytes);
  EXPECT_TRUE(text(e["body"]).starts_with("{\"event_type\":\"chat_message\""));
  EXPECT_LT(a->body.size(), kInspectionBodyBytes + 1000);

  // A body that is not JSON (written by hand: the sidecar refuses one) is text.
  xadd(redis_, "ev-text", "r-1", "events:chat", "not json \"at\" all\n");
  a = get(admin(), std::string(kChat) + "/entries?reverse=1&count=1");
  ASSERT_EQ(a->status, 200) << a->body;
  e = a->json["entries"].at(0);
  EXPECT_EQ(text(e["body"]), "not json \"at\" all\n");
  EXPECT_EQ(text(e["body_format"]), "text");

  EXPECT_EQ(
      get(admin(), std::string(kChat) + "/entries?count=" + std::to_string(kMaxInspectionCount))
          ->status,
      200);
  expect_error(*get(admin(), std::string(kChat) +
                                 "/entries?count=" + std::to_string(kMaxInspectionCount + 1)),
               400, "invalid_count");
  expect_error(*get(admin(), std::string(kChat) + "/entries?count=0"), 400, "invalid_count");
}

// 1 MiB bodies: Redis cuts every field value to kInspectionBodyBytes before
// answering, so pages of them (and of dead letters with a 1 MiB error and a
// 1 MiB hand-written field, and one entry of 40 fields of 1 MiB, shown
// alone whatever the budget) cost the sidecar little more than 4 KiB a
// field; and a page stops once it has read 4 MiB inside Redis (four such
// entries, two such dead letters), its "next" naming where to go on, so
// that no request holds Redis for long. Paging through reads every entry
// once, with its shape and size.
TEST_F(Inspection, LargeBodiesNeverReachTheSidecarWholeAndPagesStopAtFourMiB) {
  start();
  constexpr int kEntries = 60;
  constexpr size_t kMiB = 1 << 20;
  auto body = [&](int i) {
    std::string b = "{\"n\":" + std::to_string(i) + ",\"pad\":\"";
    b.append(kMiB - b.size() - 2, 'x');
    return b + "\"}";
  };
  std::vector<std::string> all;
  for (int i = 0; i < kEntries; ++i) {
    all.push_back(redis_
                      .command({"XADD", "events:chat", "*", "event_id", "ev-" + std::to_string(i),
                                "body", body(i)})
                      .str);
  }
  constexpr int kDead = 20;
  std::string error(kMiB, 'e');
  std::string note(kMiB, 'n');
  std::vector<std::string> dead;
  for (int i = 0; i < kDead; ++i) {
    dead.push_back(
        redis_
            .command({"XADD", "events:dlq", "*", "event_id", "d-" + std::to_string(i), "body",
                      body(i), "note", note, "dlq_error", error, "dlq_deliveries", "5"})
            .str);
  }
  constexpr int kWideFields = 40;
  std::vector<std::string> wide = {"XADD", "events:ticket", "*"};
  for (int i = 0; i < kWideFields; ++i) {
    wide.push_back("f" + std::to_string(i));
    wide.push_back(std::string(kMiB, static_cast<char>('a' + i % 26)));
  }
  ASSERT_FALSE(redis_.command(wide).str.empty());
  ASSERT_EQ(get(admin(), std::string(kChat) + "/entries?count=1")->status, 200);
  pid_t pid = sidecar_->process().pid();
  long before = peak_rss_mib(pid);
  ASSERT_GT(before, 0);
  redis_.command({"CONFIG", "SET", "slowlog-log-slower-than", "0"});
  redis_.command({"SLOWLOG", "RESET"});

  std::vector<std::string> seen;
  std::string query = "count=" + std::to_string(kEntries);
  int pages = 0;
  while (pages++ < kEntries) {
    auto a = get(admin(), std::string(kChat) + "/entries?" + query);
    ASSERT_EQ(a->status, 200) << a->body.substr(0, 300);
    std::vector<std::string> page = ids(a->json);
    EXPECT_EQ(page.size(), std::min<size_t>(4, all.size() - seen.size())) << "page " << pages;
    for (size_t k = 0; k < page.size(); ++k) {
      int i = static_cast<int>(seen.size());
      dom::element e = a->json["entries"].at(k);
      EXPECT_EQ(text(e["fields"]["event_id"]), "ev-" + std::to_string(i));
      EXPECT_TRUE(text(e["body"]) == body(i).substr(0, kInspectionBodyBytes)) << i;
      EXPECT_EQ(int64_t(e["body_bytes"]), static_cast<int64_t>(kMiB));
      EXPECT_TRUE(bool(e["body_truncated"]));
      EXPECT_EQ(text(e["body_format"]), "text");
      seen.push_back(page[k]);
    }
    if (a->json["next"].is_null()) break;
    EXPECT_EQ(text(a->json["next"]), all.at(seen.size()));
    query = "count=" + std::to_string(kEntries) + "&start=" + text(a->json["next"]);
  }
  EXPECT_EQ(seen, all);
  EXPECT_EQ(pages, kEntries / 4);
  // The longest page inside Redis (SLOWLOG: microseconds per command).
  long long longest_us = 0;
  RedisValue log = redis_.command({"SLOWLOG", "GET", "1000"});
  for (const RedisValue& item : log.elements) {
    if (item.elements.size() > 3 && !item.elements[3].elements.empty() &&
        item.elements[3].elements[0].str == "EVAL") {
      longest_us = std::max(longest_us, item.elements[2].integer);
    }
  }
  std::cout << "longest inspection page inside Redis: " << longest_us / 1000.0 << " ms (" << pages
            << " pages of 4 x 1 MiB)\n";
  EXPECT_GT(longest_us, 0);

  // Newest first, the same: four, then "next".
  auto a = get(admin(), std::string(kChat) + "/entries?reverse=1&count=25&end=%28" + all[50]);
  EXPECT_EQ(ids(a->json), (std::vector<std::string>{all[49], all[48], all[47], all[46]}));
  EXPECT_EQ(text(a->json["next"]), all[45]);
  // A count below the budget's page: next is the count + 1th, as always.
  a = get(admin(), std::string(kChat) + "/entries?count=2");
  EXPECT_EQ(ids(a->json), (std::vector<std::string>{all[0], all[1]}));
  EXPECT_EQ(text(a->json["next"]), all[2]);

  // 40 MiB in one entry: shown (a page shows at least one), cut in Redis.
  a = get(admin(), "/api/v1/events/streams/events%3Aticket/entries?count=5");
  ASSERT_EQ(a->status, 200) << a->body.substr(0, 300);
  ASSERT_EQ(dom::array(a->json["entries"]).size(), 1u);
  EXPECT_TRUE(a->json["next"].is_null());
  dom::object fields = a->json["entries"].at(0)["fields"];
  EXPECT_EQ(fields.size(), static_cast<size_t>(kWideFields));
  for (int i = 0; i < kWideFields; ++i) {
    EXPECT_TRUE(text(fields["f" + std::to_string(i)]) ==
                std::string(kInspectionBodyBytes, static_cast<char>('a' + i % 26)))
        << i;
  }

  // Dead letters of 3 MiB each: two a page.
  a = get(admin(), "/api/v1/events/dlq?count=" + std::to_string(kDead));
  ASSERT_EQ(a->status, 200) << a->body.substr(0, 300);
  ASSERT_EQ(dom::array(a->json["dead_letters"]).size(), 2u);
  EXPECT_EQ(text(a->json["next"]), dead[kDead - 3]);
  dom::element d = a->json["dead_letters"].at(0);  // newest first
  EXPECT_EQ(text(d["fields"]["event_id"]), "d-" + std::to_string(kDead - 1));
  EXPECT_TRUE(text(d["error"]) == error.substr(0, kInspectionBodyBytes));
  EXPECT_TRUE(text(d["fields"]["note"]) == note.substr(0, kInspectionBodyBytes));
  EXPECT_EQ(int64_t(d["deliveries"]), 5);
  EXPECT_TRUE(text(d["body"]) == body(kDead - 1).substr(0, kInspectionBodyBytes));
  EXPECT_EQ(int64_t(d["body_bytes"]), static_cast<int64_t>(kMiB));
  EXPECT_TRUE(bool(d["body_truncated"]));

  long after = peak_rss_mib(pid);
  std::cout << "sidecar peak RSS " << before << " MiB -> " << after << " MiB (" << pages
            << " pages of 1 MiB entries, one of 3 MiB dead letters, one 40 MiB entry)\n";
  EXPECT_LT(after - before, 16) << "the sidecar received the bodies whole";
}

// The script reads on past each chunk with an exclusive start, which the
// largest id cannot have: a (hand-written) stream ending there still reads.
TEST_F(Inspection, AStreamEndingAtTheLargestIdReadsToItsEnd) {
  start();
  std::vector<std::string> all = {"1-1", "1-2", "1-3", "18446744073709551615-18446744073709551615"};
  for (const std::string& id : all) redis_.command({"XADD", "events:chat", id, "n", id});
  auto a = get(admin(), std::string(kChat) + "/entries");
  ASSERT_EQ(a->status, 200) << a->body;
  EXPECT_EQ(ids(a->json), all);
  EXPECT_TRUE(a->json["next"].is_null());
  a = get(admin(), std::string(kChat) + "/entries?reverse=1&count=3");
  ASSERT_EQ(a->status, 200) << a->body;
  EXPECT_EQ(ids(a->json), (std::vector<std::string>{all[3], all[2], all[1]}));
  EXPECT_EQ(text(a->json["next"]), all[0]);
}

TEST_F(Inspection, PendingAfterAGroupReadWithoutAck) {
  start();
  std::vector<std::string> all;
  for (int i = 0; i < 3; ++i) all.push_back(post("ev-" + std::to_string(i)));
  ASSERT_EQ(redis_.command({"XGROUP", "CREATE", "events:chat", "signalr-consumers", "0"}).str,
            "OK");
  redis_.command({"XREADGROUP", "GROUP", "signalr-consumers", "relay-a", "COUNT", "2", "STREAMS",
                  "events:chat", ">"});
  redis_.command({"XREADGROUP", "GROUP", "signalr-consumers", "relay-b", "COUNT", "1", "STREAMS",
                  "events:chat", ">"});
  auto a = get(admin(), std::string(kChat) + "/pending");
  ASSERT_EQ(a->status, 200) << a->body;
  EXPECT_EQ(text(a->json["group"]), "signalr-consumers");
  EXPECT_TRUE(a->json["consumer"].is_null());
  dom::element summary = a->json["summary"];
  EXPECT_EQ(int64_t(summary["count"]), 3);
  EXPECT_EQ(text(summary["smallest_id"]), all[0]);
  EXPECT_EQ(text(summary["largest_id"]), all[2]);
  EXPECT_EQ(int64_t(summary["consumers"]["relay-a"]), 2);
  EXPECT_EQ(int64_t(summary["consumers"]["relay-b"]), 1);
  EXPECT_EQ(ids(a->json), all);
  dom::element first = a->json["entries"].at(0);
  EXPECT_EQ(text(first["consumer"]), "relay-a");
  EXPECT_EQ(int64_t(first["deliveries"]), 1);
  EXPECT_GE(int64_t(first["idle_ms"]), 0);
  EXPECT_EQ(text(a->json["entries"].at(2)["consumer"]), "relay-b");

  a = get(admin(), std::string(kChat) + "/pending?consumer=relay-a&count=1");
  ASSERT_EQ(a->status, 200) << a->body;
  EXPECT_EQ(ids(a->json), std::vector<std::string>{all[0]});
  EXPECT_EQ(text(a->json["next"]), all[1]);
  EXPECT_EQ(text(a->json["consumer"]), "relay-a");

  expect_error(*get(admin(), std::string(kChat) + "/pending?group=nobody"), 404, "unknown_group");
  // A configured stream not written yet has no group either.
  expect_error(*get(admin(), "/api/v1/events/streams/events%3Aticket/pending"), 404,
               "unknown_group");
}

TEST_F(Inspection, DeadLettersNewestFirstWithTheirOrigin) {
  start();
  auto dead = [&](const std::string& event_id, const std::string& error) {
    RedisValue id =
        redis_.command(entry_xadd_command("events:dlq", "*", event_id, "r-1", "chat_message",
                                          "{\"event_id\":\"" + event_id + "\"}", "1700000000000",
                                          {{"dlq_error", error},
                                           {"dlq_deliveries", "5"},
                                           {"dlq_source_stream", "events:chat"},
                                           {"dlq_source_id", "1700000000000-" + event_id},
                                           {"dlq_consumer", "relay-0"},
                                           {"dlq_ts_ms", "1700000001000"}}));
    return id.str;
  };
  std::string older = dead("1", "target answered 400");
  std::string newer = dead("2", "target answered 500");
  auto a = get(admin(), "/api/v1/events/dlq?count=1");
  ASSERT_EQ(a->status, 200) << a->body;
  EXPECT_EQ(text(a->json["stream"]), "events:dlq");
  EXPECT_EQ(ids(a->json, "dead_letters"), std::vector<std::string>{newer});
  EXPECT_EQ(text(a->json["next"]), older);
  dom::element d = a->json["dead_letters"].at(0);
  EXPECT_EQ(text(d["error"]), "target answered 500");
  EXPECT_EQ(text(d["source_stream"]), "events:chat");
  EXPECT_EQ(text(d["source_id"]), "1700000000000-2");
  EXPECT_EQ(int64_t(d["deliveries"]), 5);
  EXPECT_EQ(text(d["consumer"]), "relay-0");
  EXPECT_EQ(int64_t(d["ts_ms"]), 1700000001000);
  EXPECT_EQ(text(d["fields"]["event_id"]), "2");
  EXPECT_FALSE(d["fields"]["dlq_error"].error() == simdjson::SUCCESS);
  EXPECT_EQ(text(d["body"]["event_id"]), "2");
  a = get(admin(), "/api/v1/events/dlq?end=" + text(a->json["next"]));
  EXPECT_EQ(ids(a->json, "dead_letters"), std::vector<std::string>{older});
  // The DLQ is a readable stream too.
  EXPECT_EQ(get(admin(), "/api/v1/events/streams/events%3Adlq/entries")->status, 200);
}

TEST_F(Inspection, TheDlqIsTheStreamStreamshiftDlqStreamNames) {
  start({{"STREAMSHIFT_DLQ_STREAM", "ops:dead"}});
  std::string id = redis_.command({"XADD", "ops:dead", "*", "dlq_error", "boom"}).str;
  redis_.command({"XADD", "events:dlq", "*", "dlq_error", "elsewhere"});
  auto a = get(admin(), "/api/v1/events/dlq");
  ASSERT_EQ(a->status, 200) << a->body;
  EXPECT_EQ(text(a->json["stream"]), "ops:dead");
  EXPECT_EQ(ids(a->json, "dead_letters"), std::vector<std::string>{id});
  EXPECT_EQ(text(a->json["dead_letters"].at(0)["error"]), "boom");
  expect_error(*get(admin(), "/api/v1/events/streams/events%3Adlq/entries"), 404, "unknown_stream");
}

TEST_F(Inspection, RefusalsHaveTheApiErrorShape) {
  start();
  post("ev-1");
  auto a = get(admin(), std::string(kChat) + "/entries", "");
  expect_error(*a, 401, "unauthorized");
  expect_error(*get(admin(), "/api/v1/events/dlq", "wrong"), 401, "unauthorized");
  expect_error(*get(admin(), "/api/v1/events/streams/secret%3Akeys/entries"), 404,
               "unknown_stream");
  expect_error(*get(admin(), "/api/v1/events/streams/events%3Achat%3A%7Bs0%7D/entries"), 404,
               "unknown_stream");
  expect_error(*get(admin(), std::string(kChat) + "/entries?start=yesterday"), 400, "invalid_id");
  expect_error(*get(admin(), std::string(kChat) + "/entries?end=%28%2B"), 400, "invalid_id");
  expect_error(*get(admin(), std::string(kChat) + "/entries?count=ten"), 400, "invalid_count");
  expect_error(*get(admin(), std::string(kChat) + "/entries?reverse=2"), 400, "invalid_reverse");
  expect_error(*get(admin(), std::string(kChat) + "/entries?limit=2"), 400, "invalid_query");
  expect_error(*get(admin(), std::string(kChat) + "/nothing"), 404, "not_found");
  // A configured name holding something else than a stream: Redis's own error.
  ASSERT_EQ(redis_.command({"SET", "events:ticket", "not a stream"}).str, "OK");
  expect_error(*get(admin(), "/api/v1/events/streams/events%3Aticket/entries"), 502, "redis_error");
  // Still serving after all that.
  EXPECT_EQ(get(admin(), std::string(kChat) + "/entries")->status, 200);
}

TEST_F(Inspection, WithoutATokenTheApiIsOff) {
  ASSERT_TRUE(redis_.ready());
  sidecar_ = std::make_unique<Sidecar>(
      upstream_.port(), std::map<std::string, std::string>{{"REDIS_URL", redis_.url()}});
  ASSERT_TRUE(sidecar_->ready()) << sidecar_->process().output();
  expect_error(*get(admin(), std::string(kChat) + "/entries"), 403, "forbidden");
}

TEST_F(Inspection, ShardedStreamsAreReadByShard) {
  start({{"EVENT_TRANSPORT_STREAM_SHARDS", "2"}});
  TestClient client(sidecar_->port());
  auto r = client.request(make_request("POST", "/internal/broadcast/chat",
                                       "{\"event_type\":\"chat_message\",\"room_id\":\"r-1\"}",
                                       "Content-Type: application/json\r\n"));
  ASSERT_TRUE(r && r->status == 202) << (r ? r->body : "");
  std::string shard = shard_stream_name("events:chat", 2, room_shard("r-1", 2));
  auto a = get(admin(), std::string(kChat) + "/entries");
  expect_error(*a, 400, "sharded_stream");
  EXPECT_NE(a->body.find("events:chat:{s0}, events:chat:{s1}"), std::string::npos) << a->body;
  std::string encoded = "events%3Achat%3A%7Bs" + shard.substr(shard.size() - 2, 1) + "%7D";
  a = get(admin(), "/api/v1/events/streams/" + encoded + "/entries");
  ASSERT_EQ(a->status, 200) << a->body;
  EXPECT_EQ(text(a->json["stream"]), shard);
  EXPECT_EQ(ids(a->json).size(), 1u);
}

TEST_F(Inspection, RedisDownIs503) {
  start();
  redis_.kill_hard();
  ASSERT_TRUE(eventually(
      [&] {
        auto a = get(admin(), std::string(kChat) + "/entries");
        return a->status == 503 && a->body.find("\"redis_unavailable\"") != std::string::npos;
      },
      seconds(30)));
  expect_error(*get(admin(), "/api/v1/events/dlq"), 503, "redis_unavailable");
}

}  // namespace
}  // namespace streamshift::testing
