// `streamshift replay`'s command line, its range bounds, its filters, and
// the streams a name covers.
#include "relay/replay_args.h"

#include <gtest/gtest.h>

#include "relay/replay_range.h"

namespace streamshift {
namespace {

constexpr int64_t kNow = 1796040000000;  // 2026-11-30T12:00:00Z

std::string parse(std::vector<std::string_view> args, ReplayArgs* out) {
  return parse_replay_args(args, kNow, out);
}

TEST(ReplayArgs, TimesBecomeTheFirstAndLastIdOfTheirMillisecond) {
  ReplayArgs a;
  ASSERT_EQ(parse({"--stream", "events:chat", "--from", "2026-11-30T11:50:00Z", "--to",
                   "2026-11-30T13:00:00.5+01:00"},
                  &a),
            "");
  EXPECT_EQ(a.stream, "events:chat");
  EXPECT_EQ(a.from_id, "1796039400000-0");
  EXPECT_EQ(a.to_id, "1796040000500-18446744073709551615");
  EXPECT_FALSE(a.dry_run);
  EXPECT_FALSE(a.skip_delivered);
  EXPECT_EQ(a.rate, 0u);
}

TEST(ReplayArgs, IdsAndDefaults) {
  ReplayArgs a;
  ASSERT_EQ(parse({"--stream=events:chat", "--from=1700000000000-3", "--dry-run",
                   "--skip-delivered", "--rate", "50", "--room", "r-1", "--event-type=chat"},
                  &a),
            "");
  EXPECT_EQ(a.from_id, "1700000000000-3");
  EXPECT_EQ(a.to_id, "1796040000000-18446744073709551615");  // now
  EXPECT_TRUE(a.dry_run);
  EXPECT_TRUE(a.skip_delivered);
  EXPECT_EQ(a.rate, 50u);
  EXPECT_EQ(a.room, "r-1");
  EXPECT_EQ(a.event_type, "chat");
  // A bare millisecond: all of it, at either end.
  EXPECT_EQ(range_bound_id("1700000000000", RangeEnd::kFrom), "1700000000000-0");
  EXPECT_EQ(range_bound_id("1700000000000", RangeEnd::kTo), "1700000000000-18446744073709551615");
  EXPECT_EQ(range_bound_id("1700000000000-7", RangeEnd::kTo), "1700000000000-7");
  EXPECT_EQ(range_bound_id("yesterday", RangeEnd::kTo), std::nullopt);
}

TEST(ReplayArgs, HelpAloneIsEnough) {
  ReplayArgs a;
  ASSERT_EQ(parse({"--help"}, &a), "");
  EXPECT_TRUE(a.help);
}

TEST(ReplayArgs, RefusesBadArgumentsWithAReason) {
  struct Case {
    std::vector<std::string_view> args;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {{}, "--stream is required"},
           {{"--stream", "s"}, "--from is required"},
           {{"--stream", "s", "--from"}, "--from needs a value"},
           {{"--stream", "s", "--from="}, "--from needs a value"},
           {{"--stream", "s", "--from", "noon"}, "--from 'noon' is neither"},
           {{"--stream", "s", "--from", "0", "--to", "2026-11-30"}, "--to '2026-11-30' is neither"},
           {{"--stream", "s", "--from", "20-0", "--to", "10-0"}, "--to is before --from"},
           {{"--stream", "s", "--from", "0", "--rate", "0"}, "--rate must be"},
           {{"--stream", "s", "--from", "0", "--rate", "2.5"}, "--rate must be"},
           {{"--stream", "s", "--from", "0", "--from", "1"}, "--from given twice"},
           {{"--stream", "s", "--stream", "t", "--from", "0"}, "--stream given twice"},
           {{"--stream", "s", "--from", "0", "--follow"}, "unexpected argument '--follow'"},
           {{"--stream", "s", "--from", "0", "extra"}, "unexpected argument 'extra'"},
       }) {
    ReplayArgs a;
    std::string error = parse(c.args, &a);
    EXPECT_EQ(error.rfind(c.error, 0), 0u) << "got: " << error << "\nwanted: " << c.error;
  }
}

TEST(ReplayArgs, FiltersSelectOnRoomAndEventType) {
  ReplayArgs a;
  EventEntry e;
  e.room_id = "r-1";
  e.event_type = "chat_message";
  EXPECT_TRUE(a.selects(e));
  a.room = "r-1";
  EXPECT_TRUE(a.selects(e));
  a.event_type = "typing";
  EXPECT_FALSE(a.selects(e));
  a.event_type = "chat_message";
  EXPECT_TRUE(a.selects(e));
  a.room = "r-10";
  EXPECT_FALSE(a.selects(e));
}

TEST(ReplayStreams, ALogicalStreamCoversEveryShardAShardItself) {
  RelaySettings s;
  s.logical_streams = {"events:chat", "events:ticket"};
  s.stream_shards = 4;
  s.streams = StreamShards(s.logical_streams, 4).physical();
  EXPECT_EQ(replay_streams(s, "events:ticket"), (std::vector<size_t>{4, 5, 6, 7}));
  EXPECT_EQ(replay_streams(s, "events:chat:{s2}"), (std::vector<size_t>{2}));
  EXPECT_TRUE(replay_streams(s, "events:other").empty());
  EXPECT_TRUE(replay_streams(s, "events:chat:{s4}").empty());

  RelaySettings unsharded;
  unsharded.logical_streams = {"events:chat"};
  unsharded.streams = {"events:chat"};
  EXPECT_EQ(replay_streams(unsharded, "events:chat"), (std::vector<size_t>{0}));
}

}  // namespace
}  // namespace streamshift
