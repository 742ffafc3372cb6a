// Secrets in configuration never leave the real binary in clear: not in
// `check-config` (sidecar and relay), not in the configuration errors on
// stderr, not in the "invalid configuration" log line of a refused start.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace streamshift::testing {
namespace {

using std::chrono::seconds;

struct Outcome {
  int code;
  std::string output;  // stdout and stderr
};

Outcome run(std::vector<std::string> args, std::map<std::string, std::string> env) {
  args.insert(args.begin(), streamshift_binary());
  ChildProcess p(args, std::move(env));
  int code = p.wait(seconds(20));
  return {code, p.output()};
}

// Every way the binary shows its configuration.
const std::vector<std::vector<std::string>> kCommands = {
    {"check-config"}, {"check-config", "relay"}, {"proxy"}, {"relay"}};

struct Secret {
  std::string redis_url;
  std::vector<std::string> password_parts;  // none may appear anywhere
  std::string shown;  // what check-config prints for a valid URL ("" when invalid)
};

// The masking followed the first "/" and the first "@", the parser the last
// "@": each of these printed the password, or most of it.
const Secret kValid[] = {
    {"redis://:Zm9v/YmFyc2VjcmV0@127.0.0.1:16379/0",
     {"Zm9v", "YmFyc2VjcmV0"},
     "redis://:****@127.0.0.1:16379/0"},
    {"redis://:p@ssw0rdXYZ@127.0.0.1:16379/0",
     {"p@ss", "ssw0rd"},
     "redis://:****@127.0.0.1:16379/0"},
    {"redis://:s://:*secret@host:6380/2", {"secret", "s://:*s"}, "redis://:****@host:6380/2"},
    {"rediss://:s://:*secret@host:6380/2", {"secret", "s://:*s"}, "rediss://:****@host:6380/2"},
};

void expect_no_password(const std::string& output, const std::vector<std::string>& parts,
                        const std::string& what) {
  for (const std::string& part : parts) {
    EXPECT_EQ(output.find(part), std::string::npos)
        << what << " shows '" << part << "' of the password:\n"
        << output;
  }
}

TEST(ConfigSecrets, CheckConfigShowsTheRedisUrlWithoutItsPassword) {
  for (const Secret& s : kValid) {
    for (const char* program : {"proxy", "relay"}) {
      Outcome r = run({"check-config", program}, {{"REDIS_URL", s.redis_url}});
      EXPECT_EQ(r.code, 0) << r.output;
      EXPECT_NE(r.output.find("REDIS_URL=" + s.shown + "\t(set)"), std::string::npos) << r.output;
      expect_no_password(r.output, s.password_parts, s.redis_url + " in check-config " + program);
    }
  }
}

// A value that does not parse is shown as its scheme and length only: all
// of it may be a password.
TEST(ConfigSecrets, AnInvalidRedisUrlIsNeverEchoed) {
  const Secret kInvalid[] = {
      {"redis://:Zm9v/YmFyc2VjcmV0@127.0.0.1:16379/99", {"Zm9v", "YmFyc2VjcmV0"}, ""},
      {"redis://:p@ssw0rdXYZ@127.0.0.1:99999", {"p@ss", "ssw0rd"}, ""},
      {"rediss://:s://:*secret@host:6380/16", {"secret", "s://:*s"}, ""},
      {"hunter2-pasted-alone", {"hunter2", "pasted"}, ""},
  };
  for (const Secret& s : kInvalid) {
    for (const std::vector<std::string>& command : kCommands) {
      Outcome r = run(command, {{"REDIS_URL", s.redis_url}});
      std::string what = s.redis_url + " in " + command[0] + (command.size() > 1 ? " relay" : "");
      EXPECT_EQ(r.code, 2) << what << "\n" << r.output;
      EXPECT_NE(r.output.find("REDIS_URL=\""), std::string::npos) << what << "\n" << r.output;
      EXPECT_NE(r.output.find("<invalid, " + std::to_string(s.redis_url.size()) + " bytes>"),
                std::string::npos)
          << what << "\n"
          << r.output;
      expect_no_password(r.output, s.password_parts, what);
    }
    // A refused start also logs each bad variable as JSON.
    Outcome start = run({"proxy"}, {{"REDIS_URL", s.redis_url}});
    EXPECT_NE(start.output.find("\"msg\":\"invalid configuration\""), std::string::npos)
        << start.output;
  }
}

// A redis-cluster:// URL parses, but no program speaks to a cluster yet
// (issue 18): both refuse to start, and check-config fails, saying so,
// with the URL shown without its password.
TEST(ConfigSecrets, AClusterUrlIsRefusedAtStartWithoutItsPassword) {
  for (const char* url : {"redis-cluster://:clu5terpw@127.0.0.1:7000,127.0.0.1:7001",
                          "rediss-cluster://app:clu5terpw@127.0.0.1:7000/0"}) {
    for (const std::vector<std::string>& command : kCommands) {
      Outcome r = run(command, {{"REDIS_URL", url}});
      std::string what =
          std::string(url) + " in " + command[0] + (command.size() > 1 ? " relay" : "");
      EXPECT_EQ(r.code, 2) << what << "\n" << r.output;
      EXPECT_NE(r.output.find("redis-cluster:// is not supported yet"), std::string::npos)
          << what << "\n"
          << r.output;
      EXPECT_NE(r.output.find(":****@127.0.0.1:7000"), std::string::npos) << what << "\n"
                                                                          << r.output;
      expect_no_password(r.output, {"clu5terpw"}, what);
    }
  }
}

TEST(ConfigSecrets, TheAdminTokenAndUrlCredentialsAreNeverShown) {
  std::map<std::string, std::string> env = {
      {"STREAMSHIFT_ADMIN_TOKEN", "tok-7f3a9c"},
      {"STREAMSHIFT_UPSTREAM_URL", "http://app:upw-51d2e8@signalr:5000"},
      {"STREAMSHIFT_RELAY_TARGET_URL", "http://signalr:5000/api?key=tpw-0c4b6a"},
  };
  for (const std::vector<std::string>& command : kCommands) {
    Outcome r = run(command, env);
    EXPECT_EQ(r.code, 2) << r.output;
    expect_no_password(r.output, {"tok-7f3a9c", "upw-51d2e8", "tpw-0c4b6a"}, command[0]);
  }
  Outcome shown = run({"check-config"}, {{"STREAMSHIFT_ADMIN_TOKEN", "tok-7f3a9c"}});
  EXPECT_NE(shown.output.find("STREAMSHIFT_ADMIN_TOKEN=****\t(set)"), std::string::npos)
      << shown.output;
}

}  // namespace
}  // namespace streamshift::testing
