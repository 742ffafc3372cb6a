// check-config's pieces and the refusal to start, over a real environment
// (unknown variables are found in the process environment).
#include "core/config_report.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>

#include "tests/support/env_map.h"

namespace streamshift {
namespace {

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Sets a variable for one test and removes it after.
struct ScopedVariable {
  ScopedVariable(const char* variable, const char* value) : name(variable) {
    setenv(name, value, 1);
  }
  ~ScopedVariable() { unsetenv(name); }
  const char* name;
};

TEST(ConfigReport, UnknownVariablesAreOursThatNothingRead) {
  ScopedVariable typo("STREAMSHIFT_WORKER", "2");
  ScopedVariable read("STREAMSHIFT_WORKERS", "2");
  ScopedVariable coalescing("EVENT_COALESCING_WINDOW", "1");
  ScopedVariable other("SOMEONE_ELSES_WORKER", "2");
  ScopedVariable tls_typo("REDIS_TLS_CA_FIEL", "/etc/ca.crt");
  ScopedVariable redis_other("REDIS_HOST", "redis");
  EnvReader env = testing::env_from({{"STREAMSHIFT_WORKERS", "2"}});
  env.integer("STREAMSHIFT_WORKERS", 1, 1, 64, "workers");
  std::vector<std::string> unknown = unknown_variables(env);
  EXPECT_TRUE(contains(unknown, "STREAMSHIFT_WORKER"));
  EXPECT_TRUE(contains(unknown, "EVENT_COALESCING_WINDOW"));
  EXPECT_TRUE(contains(unknown, "REDIS_TLS_CA_FIEL"));
  EXPECT_FALSE(contains(unknown, "REDIS_HOST"));  // not a prefix of ours
  EXPECT_FALSE(contains(unknown, "STREAMSHIFT_WORKERS"));
  EXPECT_FALSE(contains(unknown, "SOMEONE_ELSES_WORKER"));
}

TEST(ConfigReport, StrictMakesUnknownVariablesErrorsOtherwiseWarnings) {
  ScopedVariable typo("EVENT_TRANSPORT_USE_REDIS_STREAM", "true");
  EnvReader lenient = testing::env_from({});
  ::testing::internal::CaptureStderr();
  check_unknown_variables(lenient, false);
  std::string warned = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(lenient.ok());
  EXPECT_NE(warned.find("warning: EVENT_TRANSPORT_USE_REDIS_STREAM is set but not used"),
            std::string::npos)
      << warned;
  EnvReader strict = testing::env_from({});
  check_unknown_variables(strict, true);
  ASSERT_EQ(strict.errors().size(), 1u);
  EXPECT_EQ(strict.errors()[0].name, "EVENT_TRANSPORT_USE_REDIS_STREAM");
}

TEST(ConfigReport, ListingShowsTheGivenValueOfAnInvalidVariableNeverTheDefault) {
  EnvReader env = testing::env_from({{"STREAMSHIFT_WORKERS", "500"}});
  env.integer("STREAMSHIFT_WORKERS", 1, 1, 64, "workers");
  env.text("LOG_LEVEL", "info", "log level");
  ::testing::internal::CaptureStdout();
  print_configuration(env, "proxy");
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(out, std::string("streamshift proxy ") + STREAMSHIFT_VERSION +
                     ": INVALID configuration (errors on stderr)\n"
                     "STREAMSHIFT_WORKERS=500\t(INVALID, allowed: an integer from 1 to 64) "
                     "workers\n"
                     "LOG_LEVEL=info\t(default) log level\n");
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(configuration_status(env), 2);
  EXPECT_EQ(::testing::internal::GetCapturedStderr().rfind("invalid configuration:\n", 0), 0u);
}

TEST(ConfigReport, ARefusedStartNamesTheProgramAndEveryError) {
  EnvReader env = testing::env_from({{"A_VAR", "x"}});
  env.reject("A_VAR", "x", "y");
  env.reject("B_VAR", "z", "w");
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(refuse_to_start(env, "streamshift relay"), 2);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err.rfind("streamshift relay: invalid configuration:\n", 0), 0u) << err;
  EXPECT_NE(err.find("A_VAR"), std::string::npos) << err;
  EXPECT_NE(err.find("B_VAR"), std::string::npos) << err;
}

}  // namespace
}  // namespace streamshift
