// RedisReplyReader: bytes to replies, bounded, the first error final.
#include "core/redis_reply_reader.h"

#include <gtest/gtest.h>

#include <string>

namespace streamshift {
namespace {

TEST(RedisReplyReader, RepliesComeWholeWhateverTheCuts) {
  std::string stream = "+OK\r\n:42\r\n$5\r\nhello\r\n*2\r\n$1\r\na\r\n$-1\r\n-ERR no\r\n";
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    RedisReplyReader reader{RedisReplyLimits{}};
    ASSERT_TRUE(reader.feed(stream.data(), cut));
    std::vector<int> types;
    while (ReplyPtr r = reader.next()) types.push_back(r->type);
    ASSERT_TRUE(reader.feed(stream.data() + cut, stream.size() - cut));
    while (ReplyPtr r = reader.next()) types.push_back(r->type);
    EXPECT_EQ(types, (std::vector<int>{REDIS_REPLY_STATUS, REDIS_REPLY_INTEGER, REDIS_REPLY_STRING,
                                       REDIS_REPLY_ARRAY, REDIS_REPLY_ERROR}))
        << "cut at " << cut;
    EXPECT_TRUE(reader.error().empty());
    EXPECT_EQ(reader.buffered(), 0u);
  }
}

TEST(RedisReplyReader, GarbageIsAProtocolErrorAndFinal) {
  RedisReplyReader reader{RedisReplyLimits{}};
  ASSERT_TRUE(reader.feed("+OK\r\n?what\r\n", 12));
  ReplyPtr ok = reader.next();
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(reader.next(), nullptr);
  EXPECT_NE(reader.error().find("protocol error"), std::string::npos) << reader.error();
  EXPECT_FALSE(reader.feed("+OK\r\n", 5));
  EXPECT_EQ(reader.next(), nullptr);
}

TEST(RedisReplyReader, AnOversizedBulkStringIsRefusedBeforeItsBytesCome) {
  RedisReplyLimits limits;
  limits.max_bulk_bytes = 1000;
  RedisReplyReader reader{limits};
  ASSERT_TRUE(reader.feed("$1000000000\r\nabc", 16));
  EXPECT_EQ(reader.next(), nullptr);
  EXPECT_NE(reader.error().find("bulk string of 1000000000 bytes"), std::string::npos)
      << reader.error();
}

TEST(RedisReplyReader, AHugeArrayIsRefusedWithTheBoundsReason) {
  RedisReplyLimits limits;
  limits.max_array_elements = 10;
  RedisReplyReader reader{limits};
  ASSERT_TRUE(reader.feed("*2000000000\r\n", 13));
  EXPECT_EQ(reader.next(), nullptr);
  EXPECT_NE(reader.error().find("array of 2000000000 elements"), std::string::npos)
      << reader.error();
}

}  // namespace
}  // namespace streamshift
