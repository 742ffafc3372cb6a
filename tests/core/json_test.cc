#include "core/json.h"

#include <gtest/gtest.h>

namespace streamshift {
namespace {

std::string quoted(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(Json, EscapesQuotesControlsAndInvalidUtf8) {
  EXPECT_EQ(quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quoted("line\nnext\t\x01"), "\"line\\nnext\\t\\u0001\"");
  EXPECT_EQ(quoted("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(quoted("bad\xff"), "\"bad\\ufffd\"");
  EXPECT_EQ(quoted("\xc3"), "\"\\ufffd\"");  // truncated sequence
}

TEST(Json, ErrorBodyShape) {
  EXPECT_EQ(json_error_body("upstream_timeout", "no \"answer\""),
            "{\"error\":\"upstream_timeout\",\"detail\":\"no \\\"answer\\\"\"}");
}

}  // namespace
}  // namespace streamshift
