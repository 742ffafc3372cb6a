// `streamshift dlq`'s pure parts: its arguments, which source streams take
// a redrive (configured ones only; on Redis Cluster only in the DLQ's
// slot), the dead-letter reasons' names, and reading XRANGE replies.
#include <gtest/gtest.h>

#include "relay/dlq_main.h"
#include "relay/dlq_redrive.h"

namespace streamshift {
namespace {

std::string error_of(const std::vector<std::string_view>& args) {
  auto parsed = parse_dlq_args(args);
  const std::string* e = std::get_if<std::string>(&parsed);
  return e != nullptr ? *e : "";
}

DlqArgs args_of(const std::vector<std::string_view>& args) {
  auto parsed = parse_dlq_args(args);
  EXPECT_TRUE(std::holds_alternative<DlqArgs>(parsed)) << error_of(args);
  return std::holds_alternative<DlqArgs>(parsed) ? std::get<DlqArgs>(parsed) : DlqArgs{};
}

TEST(DlqArgs, ValidCommands) {
  EXPECT_EQ(args_of({"list"}).count, 100);
  EXPECT_EQ(args_of({"list", "--count", "7"}).count, 7);
  DlqArgs show = args_of({"show", "1-0"});
  EXPECT_EQ(show.verb, DlqArgs::Verb::kShow);
  EXPECT_EQ(show.ids, std::vector<std::string>{"1-0"});
  DlqArgs ids = args_of({"redrive", "--id", "1-0", "--id", "2-5"});
  EXPECT_EQ(ids.ids, (std::vector<std::string>{"1-0", "2-5"}));
  EXPECT_FALSE(ids.all);
  EXPECT_FALSE(ids.reason);
  DlqArgs all = args_of({"redrive", "--all", "--reason", "max_deliveries"});
  EXPECT_TRUE(all.all);
  EXPECT_EQ(all.reason, DeadLetterReason::kMaxDeliveries);
}

TEST(DlqArgs, UsageErrorsAreNamed) {
  EXPECT_NE(error_of({}), "");
  EXPECT_NE(error_of({"purge"}).find("unknown subcommand"), std::string::npos);
  EXPECT_NE(error_of({"list", "--count", "0"}).find("--count"), std::string::npos);
  EXPECT_NE(error_of({"list", "--count", "x"}).find("--count"), std::string::npos);
  EXPECT_NE(error_of({"list", "--count"}).find("--count"), std::string::npos);
  EXPECT_NE(error_of({"show"}), "");
  EXPECT_NE(error_of({"show", "nope"}).find("not a stream id"), std::string::npos);
  EXPECT_NE(error_of({"redrive"}), "");
  EXPECT_NE(error_of({"redrive", "--all", "--id", "1-0"}), "");
  EXPECT_NE(error_of({"redrive", "--id"}).find("--id"), std::string::npos);
  EXPECT_NE(error_of({"redrive", "--all", "--reason", "bad"}).find("--reason"), std::string::npos);
  EXPECT_NE(error_of({"redrive", "--all", "--reason"}).find("--reason"), std::string::npos);
  EXPECT_NE(error_of({"redrive", "--all", "--force"}).find("unexpected"), std::string::npos);
}

TEST(DeadLetterReasons, NamesRoundTrip) {
  for (auto r : {DeadLetterReason::kPermanentStatus, DeadLetterReason::kMaxDeliveries,
                 DeadLetterReason::kMalformed})
    EXPECT_EQ(parse_dead_letter_reason(dead_letter_reason_name(r)), r);
  EXPECT_EQ(dead_letter_reason_name(DeadLetterReason::kPermanentStatus), "permanent_status");
  EXPECT_FALSE(parse_dead_letter_reason("Malformed"));
}

RelaySettings settings_with(std::string dlq, std::vector<std::string> streams, bool cluster) {
  RelaySettings s;
  s.dlq_stream = std::move(dlq);
  s.streams = std::move(streams);
  if (cluster) s.redis.cluster_seeds = {RedisHost{"127.0.0.1", 7000}};
  return s;
}

TEST(RedriveSource, OnlyConfiguredStreams) {
  RelaySettings s = settings_with("events:dlq", {"events:chat:{s0}", "events:chat:{s1}"}, false);
  EXPECT_FALSE(check_redrive_source(s, "events:chat:{s1}"));
  EXPECT_NE(check_redrive_source(s, "events:chat")->find("not one the relays consume"),
            std::string::npos);
  EXPECT_TRUE(check_redrive_source(s, ""));
}

TEST(RedriveSource, OnRedisClusterOnlyInTheDlqsSlot) {
  RelaySettings apart = settings_with("events:dlq", {"events:{chat}"}, true);
  EXPECT_NE(check_redrive_source(apart, "events:{chat}")->find("different slots"),
            std::string::npos);
  RelaySettings together = settings_with("events:{chat}:dlq", {"events:{chat}"}, true);
  EXPECT_FALSE(check_redrive_source(together, "events:{chat}"));
}

TEST(DeadLetters, ParsedFromAnXrangeReply) {
  auto bulk = [](std::string s) {
    OwnedReply r;
    r.type = REDIS_REPLY_STRING;
    r.str = std::move(s);
    return r;
  };
  auto array = [](std::vector<OwnedReply> e) {
    OwnedReply r;
    r.type = REDIS_REPLY_ARRAY;
    r.elements = std::move(e);
    return r;
  };
  OwnedReply reply = array({array({bulk("5-1"), array({bulk("event_id"), bulk("ev-1"),
                                                       bulk("dlq_reason"), bulk("malformed")})})});
  std::vector<DeadLetter> letters = parse_dead_letters(reply);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].id, "5-1");
  EXPECT_EQ(letters[0].field("event_id"), "ev-1");
  EXPECT_EQ(letters[0].field("dlq_reason"), "malformed");
  EXPECT_EQ(letters[0].field("room_id"), "");
}

}  // namespace
}  // namespace streamshift
