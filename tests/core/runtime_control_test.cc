// The pure parts of runtime control: the /runtime_modify query and the
// lookup a program's settings loader reads a runtime set through.
#include "core/runtime_control.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace streamshift {
namespace {

TEST(RuntimeQuery, PairsArePercentDecoded) {
  std::string why;
  auto v = parse_runtime_query("A=1&B=a%20b+c&C=&&D=%2F", &why);
  ASSERT_TRUE(v) << why;
  EXPECT_EQ(*v, (RuntimeValues{{"A", "1"}, {"B", "a b c"}, {"C", ""}, {"D", "/"}}));
}

TEST(RuntimeQuery, MalformedOrEmptyIsRefusedWithAReason) {
  for (std::string_view bad : {"", "&", "A", "=1", "A=%2", "A=%zz"}) {
    std::string why;
    EXPECT_FALSE(parse_runtime_query(bad, &why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

TEST(RuntimeLookup, TheMergedSetWinsOverTheEnvironment) {
  setenv("STREAMSHIFT_RUNTIME_TEST_A", "env-a", 1);
  setenv("STREAMSHIFT_RUNTIME_TEST_B", "env-b", 1);
  RuntimeValues merged{{"STREAMSHIFT_RUNTIME_TEST_A", "file-a"}};
  EnvReader::Lookup lookup = merged_over_environment(merged);
  EXPECT_EQ(lookup("STREAMSHIFT_RUNTIME_TEST_A"), "file-a");
  EXPECT_EQ(lookup("STREAMSHIFT_RUNTIME_TEST_B"), "env-b");
  EXPECT_EQ(lookup("STREAMSHIFT_RUNTIME_TEST_UNSET"), std::nullopt);
  EXPECT_EQ(runtime_values_in_environment({"STREAMSHIFT_RUNTIME_TEST_B", "STREAMSHIFT_RUNTIME_X"}),
            (RuntimeValues{{"STREAMSHIFT_RUNTIME_TEST_B", "env-b"}}));
  unsetenv("STREAMSHIFT_RUNTIME_TEST_A");
  unsetenv("STREAMSHIFT_RUNTIME_TEST_B");
}

}  // namespace
}  // namespace streamshift
