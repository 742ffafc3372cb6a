// RFC 3339 timestamps read into epoch milliseconds.
#include "core/rfc3339.h"

#include <gtest/gtest.h>

namespace streamshift {
namespace {

TEST(Rfc3339, UtcSecondsAndFractions) {
  EXPECT_EQ(parse_rfc3339_ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339_ms("2026-11-30T12:00:00Z"), 1796040000000);
  EXPECT_EQ(parse_rfc3339_ms("2026-11-30T12:00:00.5Z"), 1796040000500);
  EXPECT_EQ(parse_rfc3339_ms("2026-11-30T12:00:00.123456789z"), 1796040000123);
  EXPECT_EQ(parse_rfc3339_ms("2026-11-30t12:00:00Z"), 1796040000000);
  EXPECT_EQ(parse_rfc3339_ms("2024-02-29T00:00:00Z"), 1709164800000);  // leap day
}

TEST(Rfc3339, OffsetsMoveToUtc) {
  EXPECT_EQ(parse_rfc3339_ms("2026-11-30T13:00:00+01:00"), 1796040000000);
  EXPECT_EQ(parse_rfc3339_ms("2026-11-30T06:30:00.250-05:30"), 1796040000250);
  EXPECT_EQ(parse_rfc3339_ms("2026-11-30T12:00:00+00:00"), 1796040000000);
}

TEST(Rfc3339, ALeapSecondOnlyAt235960Utc) {
  EXPECT_EQ(parse_rfc3339_ms("2016-12-31T23:59:60Z"), parse_rfc3339_ms("2017-01-01T00:00:00Z"));
  EXPECT_EQ(parse_rfc3339_ms("1990-12-31T15:59:60-08:00"),  // RFC 3339 5.8
            parse_rfc3339_ms("1991-01-01T00:00:00Z"));
  EXPECT_EQ(parse_rfc3339_ms("2017-01-01T00:59:60+01:00"),  // 23:59:60 UTC
            parse_rfc3339_ms("2017-01-01T00:00:00Z"));
  EXPECT_EQ(parse_rfc3339_ms("2016-12-31T23:59:60.5Z"), 1483228800500);
  for (const char* bad : {"2026-11-30T12:34:60Z", "2026-11-30T23:58:60Z",
                          "2016-12-31T23:59:60+01:00", "2016-12-31T23:59:60-00:30"}) {
    EXPECT_EQ(parse_rfc3339_ms(bad), std::nullopt) << bad;
  }
}

TEST(Rfc3339, RefusesWhatIsNotOne) {
  for (const char* bad :
       {"", "2026-11-30", "2026-11-30T12:00Z", "2026-11-30 12:00:00Z", "2026-11-30T12:00:00",
        "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-11-31T00:00:00Z",
        "2026-11-30T24:00:00Z", "2026-11-30T12:60:00Z", "2026-11-30T12:00:00.Z",
        "2026-11-30T12:00:00+0100", "2026-11-30T12:00:00Zx", "1969-12-31T23:59:59Z",
        "1970-01-01T00:30:00+01:00", "１９７０-01-01T00:00:00Z", "2026-11-30T12:00:00+24:00"}) {
    EXPECT_EQ(parse_rfc3339_ms(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace streamshift
