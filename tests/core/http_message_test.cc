// Header blocks: which fields a proxy forwards, field text, response heads.
#include "core/http_message.h"

#include <gtest/gtest.h>

#include <string>

namespace streamshift {
namespace {

HeaderBlock block(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  HeaderBlock h;
  for (auto [n, v] : fields) h.add(n, v);
  return h;
}

// The names of the fields a proxy would forward, ";"-terminated.
std::string forwarded_names(const HeaderBlock& h) {
  ForwardedFields f(h);
  std::string kept;
  for (size_t i = 0; i < h.size(); ++i) {
    if (f.forwarded(i)) kept += std::string(h.name(i)) + ";";
  }
  return kept;
}

TEST(ForwardedFields, DropsHopByHopAndConnectionNamedFields) {
  HeaderBlock h = block({{"Host", "a"},
                         {"Connection", "keep-alive, X-Hop"},
                         {"Keep-Alive", "timeout=5"},
                         {"x-hop", "1"},
                         {"X-End", "2"},
                         {"Connection", "x-other"},
                         {"X-OTHER", "3"},
                         {"Transfer-Encoding", "chunked"}});
  EXPECT_EQ(forwarded_names(h), "Host;X-End;");
}

TEST(ForwardedFields, ManyTokensGiveTheSameAnswer) {
  std::string tokens;
  for (int i = 0; i < 20; ++i) tokens += "t" + std::to_string(i) + (i % 2 ? " , " : ",");
  HeaderBlock h = block({{"T3", "a"},
                         {"Connection", tokens},
                         {"t7", "b"},
                         {"t70", "kept"},
                         {"T7", "c"},
                         {"a", "kept"},
                         {"t19", "d"},
                         {"t", "kept"}});
  EXPECT_EQ(forwarded_names(h), "t70;a;t;");
}

TEST(ForwardedFields, KeepsEverythingWithoutConnection) {
  EXPECT_EQ(forwarded_names(block({{"A", "1"}, {"B", "2"}, {"Upgrade", "x"}})), "A;B;");
}

TEST(IsFieldText, RefusesControlCharactersButTab) {
  EXPECT_TRUE(is_field_text("Created Thing\t\xc3\xa9"));
  EXPECT_TRUE(is_field_text(""));
  EXPECT_FALSE(is_field_text("O\x0bK"));
  EXPECT_FALSE(is_field_text("O\x0cK"));
  EXPECT_FALSE(is_field_text("O\x7fK"));
  EXPECT_FALSE(is_field_text(std::string("O\0K", 3)));
}

TEST(SerializeResponseHead, LeavesOutFieldsConnectionNames) {
  HeaderBlock h = block({{"Connection", "X-Secret"}, {"X-Secret", "s"}, {"X-Public", "p"}});
  std::string out;
  serialize_response_head(out, 505, status_reason(505), &h, "", 0, false, false);
  EXPECT_EQ(out,
            "HTTP/1.1 505 HTTP Version Not Supported\r\nX-Public: p\r\nContent-Length: 0\r\n\r\n");
}

}  // namespace
}  // namespace streamshift
