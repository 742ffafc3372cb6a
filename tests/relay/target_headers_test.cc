// The relay's headers file: what it renders, and what it refuses (naming the
// line, never the value).
#include "relay/target_headers.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace streamshift {
namespace {

TEST(TargetHeaders, RendersNameValueLinesSkippingBlankLinesAndComments) {
  TargetHeadersParse p = parse_target_headers(
      "# the SignalR internal API's key\n"
      "\n"
      "X-Api-Key:   s3cret-value \t\r\n"
      "   # indented comment\n"
      "X-Tenant:acme\n"
      "X-Empty:\n"
      "X-Colon: a:b:c");  // no final newline
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.headers.block,
            "X-Api-Key: s3cret-value\r\nX-Tenant: acme\r\nX-Empty: \r\nX-Colon: a:b:c\r\n");
  EXPECT_EQ(p.headers.names,
            (std::vector<std::string>{"X-Api-Key", "X-Tenant", "X-Empty", "X-Colon"}));
  EXPECT_EQ(header_names_text(p.headers), "X-Api-Key, X-Tenant, X-Empty, X-Colon");
}

TEST(TargetHeaders, AnEmptyFileOrOnlyCommentsIsNoHeaders) {
  for (const char* text : {"", "\n\n", "# nothing yet\n"}) {
    TargetHeadersParse p = parse_target_headers(text);
    EXPECT_EQ(p.error, "") << text;
    EXPECT_EQ(p.headers.block, "") << text;
  }
}

TEST(TargetHeaders, RefusesBadLinesNamingTheLineNeverTheValue) {
  struct Case {
    std::string text;
    std::string error;
  };
  const std::string secret = "s3cret-value";
  std::vector<Case> cases = {
      {"X-Ok: 1\n" + secret + "\n", "line 2: not a `Name: value` line"},
      {"X Api Key: " + secret + "\n", "line 1: the name is not an HTTP token"},
      {": " + secret + "\n", "line 1: the name is not an HTTP token"},
      {"X-Api-Key : " + secret + "\n", "line 1: the name is not an HTTP token"},
      {"# c\n\nHost: " + secret + "\n", "line 3: the relay sets Host itself"},
      {"content-length: " + secret + "\n", "line 1: the relay sets content-length itself"},
      {"X-Event-Transport: " + secret + "\n", "line 1: the relay sets X-Event-Transport itself"},
      {"Transfer-Encoding: chunked\n", "line 1: the relay sets Transfer-Encoding itself"},
      {"Connection: close\n", "line 1: the relay sets Connection itself"},
      {"X-Event-Id: 1\n", "line 1: the relay sets X-Event-Id itself"},
      {"Content-Type: text/plain\n", "line 1: the relay sets Content-Type itself"},
      {"X-Api-Key: a\nx-api-key: " + secret + "\n", "line 2: x-api-key is given twice"},
      {"X-Api-Key: " + secret + std::string("\0", 1) + "\n",
       "line 1: the value holds a control character"},
      {"X-Api-Key: " + secret + "\rX-Injected: 1\n", "line 1: the value holds a control character"},
      {"X-Api-Key: " + secret + "\x7f\n", "line 1: the value holds a control character"},
  };
  for (const Case& c : cases) {
    TargetHeadersParse p = parse_target_headers(c.text);
    EXPECT_EQ(p.error.rfind(c.error, 0), 0u) << testing::PrintToString(c.text) << " -> " << p.error;
    EXPECT_EQ(p.error.find(secret), std::string::npos) << p.error;
    EXPECT_EQ(p.headers.block, "");
    EXPECT_TRUE(p.headers.names.empty());
  }
  // A tab inside a value is a header value's own byte.
  EXPECT_EQ(parse_target_headers("X-Api-Key: a\tb\n").headers.block, "X-Api-Key: a\tb\r\n");
}

TEST(TargetHeaders, LoadingNamesThePathOfAMissingOrOversizedFile) {
  TargetHeadersParse missing = load_target_headers("/nonexistent/streamshift/headers");
  EXPECT_NE(missing.error.find("/nonexistent/streamshift/headers: cannot open"), std::string::npos)
      << missing.error;

  char dir_template[] = "/tmp/target-headers-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  std::string file = std::string(dir_template) + "/headers";
  std::ofstream(file) << "X-Api-Key: " << std::string(kTargetHeadersMaxBytes, 'k') << "\n";
  TargetHeadersParse big = load_target_headers(file);
  EXPECT_NE(big.error.find(file + ": longer than 65536 bytes"), std::string::npos) << big.error;
  std::ofstream(file) << "X-Api-Key: k1\n";
  TargetHeadersParse ok = load_target_headers(file);
  EXPECT_EQ(ok.error, "");
  EXPECT_EQ(ok.headers.block, "X-Api-Key: k1\r\n");
  std::ofstream(file) << "X-Api-Key: k1\nbad\n";
  EXPECT_EQ(load_target_headers(file).error, file + ": line 2: not a `Name: value` line");
  std::remove(file.c_str());
  rmdir(dir_template);
}

}  // namespace
}  // namespace streamshift
