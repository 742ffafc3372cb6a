// The commands in flight on one Redis connection, on a clock the test sets:
// replies in order, deadlines answered at once, late replies only freeing,
// and the bounds on replies owed.
#include "core/redis_command_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace streamshift {
namespace {

struct Calls {
  std::vector<RedisStatus> statuses;
};

void record(void* data, const RedisResult& r) {
  static_cast<Calls*>(data)->statuses.push_back(r.status);
}

redisReply status_reply(const char* text) {
  redisReply r{};
  r.type = REDIS_REPLY_STATUS;
  r.str = const_cast<char*>(text);
  r.len = std::char_traits<char>::length(text);
  return r;
}

TEST(RedisCommandQueue, RepliesAnswerTheOldestCommandFirst) {
  RedisCommandQueue q;
  Calls first, second;
  q.push(record, &first, 100);
  q.push(record, &second, 100);
  redisReply ok = status_reply("OK");
  q.reply(&ok);
  EXPECT_EQ(first.statuses, std::vector<RedisStatus>{RedisStatus::kOk});
  EXPECT_TRUE(second.statuses.empty());
  EXPECT_EQ(q.size(), 1u);
  q.reply(nullptr);  // the connection went
  EXPECT_EQ(second.statuses, std::vector<RedisStatus>{RedisStatus::kConnectionLost});
  EXPECT_EQ(q.size(), 0u);
}

TEST(RedisCommandQueue, AnErrorReplyCarriesItsText) {
  redisReply err{};
  err.type = REDIS_REPLY_ERROR;
  err.str = const_cast<char*>("ERR nope");
  err.len = 8;
  RedisResult r = redis_result_of(&err);
  EXPECT_EQ(r.status, RedisStatus::kErrorReply);
  EXPECT_EQ(r.error, "ERR nope");
  EXPECT_EQ(redis_result_of(nullptr).status, RedisStatus::kConnectionLost);
}

TEST(RedisCommandQueue, ADeadlineAnswersTimeoutOnceAndTheLateReplyOnlyFrees) {
  RedisCommandQueue q;
  Calls slow, next;
  q.push(record, &slow, 100);
  q.push(record, &next, 500);
  EXPECT_EQ(q.next_due(1000), 100u);
  q.expire(99);
  EXPECT_TRUE(slow.statuses.empty());
  q.expire(100);
  EXPECT_EQ(slow.statuses, std::vector<RedisStatus>{RedisStatus::kTimeout});
  EXPECT_TRUE(next.statuses.empty());
  EXPECT_EQ(q.late(), 1u);
  EXPECT_EQ(q.next_due(1000), 500u);  // the next deadline comes before the grace ends
  EXPECT_EQ(q.next_due(300), 400u);   // the grace of the late one ends first
  redisReply ok = status_reply("OK");
  q.reply(&ok);  // the late reply: nobody is told twice
  EXPECT_EQ(slow.statuses.size(), 1u);
  EXPECT_TRUE(next.statuses.empty());
  q.reply(&ok);
  EXPECT_EQ(next.statuses, std::vector<RedisStatus>{RedisStatus::kOk});
  EXPECT_FALSE(q.next_due(1000).has_value());
}

// Deadlines are checked from the oldest waiting command on: one behind a
// longer deadline waits for it (replies come in order anyway).
TEST(RedisCommandQueue, DeadlinesAreCheckedInSendOrder) {
  RedisCommandQueue q;
  Calls long_one, short_one;
  q.push(record, &long_one, 1000);
  q.push(record, &short_one, 10);
  q.expire(500);
  EXPECT_TRUE(short_one.statuses.empty());
  q.expire(1000);
  EXPECT_EQ(long_one.statuses.size(), 1u);
  EXPECT_EQ(short_one.statuses.size(), 1u);
}

TEST(RedisCommandQueue, RepliesOwedPastTheBoundsAreOverdue) {
  RedisReplyLimits limits;
  limits.max_late_replies = 2;
  limits.late_reply_grace_ms = 1000;
  RedisCommandQueue q;
  Calls calls;
  for (int i = 0; i < 3; ++i) q.push(record, &calls, 100);
  q.expire(100);
  EXPECT_EQ(q.late(), 3u);
  EXPECT_EQ(q.overdue(100, limits), "3 replies to timed-out commands still owed");
  q.reply(nullptr);
  EXPECT_EQ(q.overdue(100, limits), "");
  EXPECT_EQ(q.overdue(1099, limits), "");
  EXPECT_EQ(q.overdue(1100, limits), "a reply owed for 1000 ms past its deadline");
}

// A timeout's callback may drop the connection: every command is then
// answered kConnectionLost, except those answered already.
struct DropOnTimeout {
  RedisCommandQueue* q;
  Calls calls;
};

void drop_connection(void* data, const RedisResult& r) {
  auto* d = static_cast<DropOnTimeout*>(data);
  d->calls.statuses.push_back(r.status);
  while (d->q->size() > 0) d->q->reply(nullptr);
}

TEST(RedisCommandQueue, ACallbackThatDropsTheConnectionIsSafe) {
  RedisCommandQueue q;
  DropOnTimeout dropper{&q, {}};
  Calls other, later;
  q.push(drop_connection, &dropper, 10);
  q.push(record, &other, 10);
  q.push(record, &later, 50);
  q.expire(20);
  EXPECT_EQ(dropper.calls.statuses, std::vector<RedisStatus>{RedisStatus::kTimeout});
  EXPECT_EQ(other.statuses, std::vector<RedisStatus>{RedisStatus::kConnectionLost});
  EXPECT_EQ(later.statuses, std::vector<RedisStatus>{RedisStatus::kConnectionLost});
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.late(), 0u);
  EXPECT_EQ(q.waits(), 0u);
}

}  // namespace
}  // namespace streamshift

namespace streamshift {
namespace {

// Durable commands: their replies are held for the WAIT after them.
struct Texts {
  std::vector<RedisStatus> statuses;
  std::vector<std::string> replies;  // the command's own reply, when attached
  std::string error;
};

void record_text(void* data, const RedisResult& r) {
  auto* t = static_cast<Texts*>(data);
  t->statuses.push_back(r.status);
  if (r.reply != nullptr && r.reply->str != nullptr)
    t->replies.emplace_back(r.reply->str, r.reply->len);
  t->error = std::string(r.error);
}

// A reply parsed from RESP, owned as the connection owns one.
ReplyPtr parsed(std::string_view resp) {
  RedisReplyReader reader(RedisReplyLimits{});
  EXPECT_TRUE(reader.feed(resp.data(), resp.size()));
  ReplyPtr r = reader.next();
  EXPECT_NE(r, nullptr) << resp;
  return r;
}

TEST(DurableCommands, AreAnsweredOnlyWhenTheirWaitSaysEnoughReplicasHaveThem) {
  RedisCommandQueue q;
  Texts a, b, plain;
  q.push(record_text, &a, 100, 1);
  q.push(record_text, &plain, 100);
  q.push(record_text, &b, 100, 1);
  q.push_wait(1, 100);
  q.reply(parsed("$3\r\n1-1\r\n"));
  q.reply(parsed("+OK\r\n"));
  q.reply(parsed("$3\r\n1-2\r\n"));
  EXPECT_TRUE(a.statuses.empty()) << "held for the WAIT";
  EXPECT_EQ(plain.statuses, std::vector<RedisStatus>{RedisStatus::kOk}) << "not durable";
  EXPECT_EQ(q.held(), 2u);
  EXPECT_EQ(q.size(), 1u) << "the WAIT";
  q.reply(parsed(":1\r\n"));
  EXPECT_EQ(a.statuses, std::vector<RedisStatus>{RedisStatus::kOk});
  EXPECT_EQ(a.replies, std::vector<std::string>{"1-1"});
  EXPECT_EQ(b.replies, std::vector<std::string>{"1-2"});
  EXPECT_EQ(q.held(), 0u);
  EXPECT_EQ(q.size(), 0u);
}

TEST(DurableCommands, TooFewReplicasAnswerNotReplicatedWithTheCommandsOwnReply) {
  RedisCommandQueue q;
  Texts a;
  q.push(record_text, &a, 100, 2);
  q.push_wait(2, 100);
  q.reply(parsed("$3\r\n1-1\r\n"));
  q.reply(parsed(":1\r\n"));
  EXPECT_EQ(a.statuses, std::vector<RedisStatus>{RedisStatus::kNotReplicated});
  EXPECT_EQ(a.replies, std::vector<std::string>{"1-1"}) << "the entry may be in the stream";
  EXPECT_EQ(a.error, "1 of 2 replicas acknowledged in time");
}

TEST(DurableCommands, AnErrorReplyIsNotHeldAndAWaitErrorFailsTheHeldOnes) {
  RedisCommandQueue q;
  Texts failed, held;
  q.push(record_text, &failed, 100, 1);
  q.push(record_text, &held, 100, 1);
  q.push_wait(1, 100);
  q.reply(parsed("-WRONGTYPE no\r\n"));
  EXPECT_EQ(failed.statuses, std::vector<RedisStatus>{RedisStatus::kErrorReply});
  q.reply(parsed("$3\r\n1-1\r\n"));
  q.reply(parsed("-ERR WAIT cannot be used with replica instances\r\n"));
  EXPECT_EQ(held.statuses, std::vector<RedisStatus>{RedisStatus::kNotReplicated});
  EXPECT_EQ(held.error, "WAIT: ERR WAIT cannot be used with replica instances");
}

// Stored, but its replication not confirmed in time: kNotReplicated, with
// its own reply, not kTimeout.
TEST(DurableCommands, AHeldCommandPastItsDeadlineIsNotReplicated) {
  RedisCommandQueue q;
  Texts a, b;
  q.push(record_text, &a, 100, 1);
  q.push(record_text, &b, 300, 1);
  q.push_wait(1, 300);
  q.reply(parsed("$3\r\n1-1\r\n"));
  q.reply(parsed("$3\r\n1-2\r\n"));
  EXPECT_EQ(q.next_due(10000), 100u) << "the held command's own deadline";
  EXPECT_EQ(q.waits(), 1u);
  EXPECT_EQ(q.outstanding(), 3u);
  q.expire(100);
  EXPECT_EQ(a.statuses, std::vector<RedisStatus>{RedisStatus::kNotReplicated});
  EXPECT_EQ(a.replies, std::vector<std::string>{"1-1"});
  EXPECT_EQ(a.error, "replication not confirmed within the deadline");
  EXPECT_EQ(q.held(), 1u);
  q.expire(300);  // the WAIT is late now, and b is answered too
  EXPECT_EQ(b.statuses, std::vector<RedisStatus>{RedisStatus::kNotReplicated});
  EXPECT_EQ(q.late(), 1u);
  EXPECT_EQ(q.waits(), 1u) << "still blocking the connection on the server";
  q.reply(parsed(":1\r\n"));  // the late WAIT's reply only frees it
  EXPECT_EQ(a.statuses.size(), 1u);
  EXPECT_EQ(b.statuses.size(), 1u);
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.late(), 0u);
}

TEST(DurableCommands, ALostConnectionAnswersTheHeldOnes) {
  RedisCommandQueue q;
  Texts a, b;
  q.push(record_text, &a, 100, 1);
  q.push_wait(1, 100);
  q.push(record_text, &b, 100, 1);
  q.reply(parsed("$3\r\n1-1\r\n"));
  while (q.size() > 0) q.reply(nullptr);
  EXPECT_EQ(a.statuses, std::vector<RedisStatus>{RedisStatus::kConnectionLost});
  EXPECT_EQ(b.statuses, std::vector<RedisStatus>{RedisStatus::kConnectionLost});
  EXPECT_EQ(q.held(), 0u);
}

}  // namespace
}  // namespace streamshift
