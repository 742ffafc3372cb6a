// Secrets in configuration never leave the real binary in clear: not in
// `check-config` (sidecar and relay), not in the configuration errors on
// stderr, not in the "invalid configuration" log line of a refused start.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/redis_cluster.h"

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

// A redis-cluster:// URL starts both programs (the cluster client: core/
// redis_cluster_client.h), and its password is shown nowhere: not by
// check-config, not in the log of a sidecar whose seeds do not answer.
TEST(ConfigSecrets, AClusterUrlStartsAndItsPasswordIsNeverShown) {
  const std::string seeds =
      "127.0.0.1:" + std::to_string(free_port()) + ",127.0.0.1:" + std::to_string(free_port());
  for (const std::string scheme : {"redis-cluster", "rediss-cluster"}) {
    const std::string url = scheme + "://app:clu5terpw@" + seeds + "/0";
    for (const char* program : {"proxy", "relay"}) {
      Outcome r = run({"check-config", program}, {{"REDIS_URL", url}});
      EXPECT_EQ(r.code, 0) << url << " in check-config " << program << "\n" << r.output;
      EXPECT_NE(r.output.find("REDIS_URL=" + scheme + "://app:****@" + seeds + "/0\t(set)"),
                std::string::npos)
          << r.output;
      expect_no_password(r.output, {"clu5terpw"}, url + " in check-config " + program);
    }
  }
  Sidecar sidecar(free_port(), {{"REDIS_URL", "redis-cluster://app:clu5terpw@" + seeds}});
  ASSERT_TRUE(sidecar.ready()) << sidecar.process().output();
  EXPECT_TRUE(sidecar.process().wait_output("redis unavailable, reconnecting", seconds(10)));
  EXPECT_TRUE(sidecar.process().running());
  expect_no_password(sidecar.process().output(), {"clu5terpw"}, "the sidecar's log");
}

// Both programs on a real cluster: the sidecar's transport and events API
// connect to the primaries, the relay creates its groups and is ready.
TEST(ConfigSecrets, BothProgramsConnectToARealCluster) {
  RedisClusterSet cluster;
  ASSERT_TRUE(cluster.ready());
  Sidecar sidecar(free_port(), {{"REDIS_URL", cluster.seed_url()},
                                {"EVENT_TRANSPORT_USE_REDIS_STREAMS", "true"},
                                {"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"}});
  ASSERT_TRUE(sidecar.ready()) << sidecar.process().output();
  EXPECT_TRUE(sidecar.wait_redis_connected());
  EXPECT_TRUE(sidecar.wait_redis_connected("admin"));
  RelayProcess relay(cluster.seed_url(), free_port());
  EXPECT_TRUE(relay.ready()) << relay.process().output();
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
