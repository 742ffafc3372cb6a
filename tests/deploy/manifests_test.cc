// deploy/k8s against the binary: every kustomization renders with kubectl;
// each overlay changes exactly the environment values it promises; no
// kustomization carries a Secret's data; the ConfigMaps hold exactly the
// variables `streamshift check-config` lists and every overlay's values pass
// it; the probes ask the real binary, started with the rendered environment,
// for paths it serves on the port it listens on; only streamshift's own
// containers run as its user with a read-only root; the PrometheusRule
// passes `promtool check rules` and its unit tests (tests/deploy/
// alerts_test.yaml); the dashboard only queries metrics the binaries expose
// and rules the PrometheusRule records.
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "tests/support/command.h"
#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_upstream.h"
#include "tests/support/tls_certs.h"

namespace streamshift::testing {
namespace {

using std::chrono::seconds;

const std::string kDeploy = source_path("deploy/k8s");

std::vector<YAML::Node> render(const std::string& dir) {
  CommandOutput out = run_command("kubectl kustomize " + kDeploy + "/" + dir + " 2>/dev/null");
  EXPECT_EQ(out.status, 0) << "kubectl kustomize " << dir;
  std::vector<YAML::Node> docs;
  for (const YAML::Node& d : YAML::LoadAll(out.text))
    if (d.IsMap()) docs.push_back(d);
  return docs;
}

YAML::Node find(const std::vector<YAML::Node>& docs, const std::string& kind,
                const std::string& name_prefix) {
  for (const YAML::Node& d : docs) {
    if (d["kind"].as<std::string>() == kind &&
        d["metadata"]["name"].as<std::string>().rfind(name_prefix, 0) == 0)
      return d;
  }
  ADD_FAILURE() << "no " << kind << " " << name_prefix;
  return YAML::Node();
}

std::map<std::string, std::string> config_data(const std::vector<YAML::Node>& docs,
                                               const std::string& name) {
  std::map<std::string, std::string> data;
  YAML::Node cm = find(docs, "ConfigMap", name + "-");
  if (cm && cm["data"])
    for (const auto& kv : cm["data"])
      data[kv.first.as<std::string>()] = kv.second.as<std::string>();
  return data;
}

// A runtime ConfigMap (STREAMSHIFT_RUNTIME_DIR): no hash suffix, its name exact.
std::map<std::string, std::string> runtime_data(const std::vector<YAML::Node>& docs,
                                                const std::string& name = "streamshift-runtime") {
  std::map<std::string, std::string> data;
  for (const YAML::Node& d : docs) {
    if (d["kind"].as<std::string>() != "ConfigMap" ||
        d["metadata"]["name"].as<std::string>() != name)
      continue;
    for (const auto& kv : d["data"]) data[kv.first.as<std::string>()] = kv.second.as<std::string>();
    return data;
  }
  ADD_FAILURE() << "no ConfigMap " << name;
  return data;
}

std::string emitted(const YAML::Node& node) {
  YAML::Emitter e;
  e << node;
  return e.c_str();
}

YAML::Node container(const YAML::Node& deployment, const std::string& list,
                     const std::string& name) {
  for (const YAML::Node& c : deployment["spec"]["template"]["spec"][list])
    if (c["name"].as<std::string>() == name) return c;
  ADD_FAILURE() << "no container " << name << " in " << list;
  return YAML::Node();
}

// Variables the binary reads, from `streamshift check-config [program]`,
// without aliases (setting an alias beside its variable is refused).
std::set<std::string> binary_variables(const std::string& program) {
  CommandOutput out =
      run_command("env -i PATH=/usr/bin:/bin " + streamshift_binary() + " check-config " + program);
  EXPECT_EQ(out.status, 0) << out.text;
  std::set<std::string> names;
  std::regex line(R"(^([A-Z][A-Z0-9_]*)=[^\t]*\t\((set|default)\) (.*)$)");
  size_t pos = 0;
  while (pos < out.text.size()) {
    size_t eol = out.text.find('\n', pos);
    std::string l = out.text.substr(pos, eol - pos);
    pos = eol == std::string::npos ? out.text.size() : eol + 1;
    std::smatch m;
    if (std::regex_match(l, m, line) && m[3].str().rfind("alias of", 0) != 0) names.insert(m[1]);
  }
  EXPECT_GT(names.size(), 10u) << out.text;
  return names;
}

std::set<std::string> explicit_env(const YAML::Node& c) {
  std::set<std::string> names;
  for (const YAML::Node& e : c["env"]) names.insert(e["name"].as<std::string>());
  return names;
}

// Every container of a Deployment's pods, init containers included.
std::vector<YAML::Node> all_containers(const YAML::Node& deployment) {
  std::vector<YAML::Node> out;
  for (const char* list : {"initContainers", "containers"})
    for (const YAML::Node& c : deployment["spec"]["template"]["spec"][list]) out.push_back(c);
  return out;
}

// Every Secret key the rendered pods read, with the Secret's name.
std::map<std::string, std::string> secret_keys_read(const std::vector<YAML::Node>& docs) {
  std::map<std::string, std::string> keys;
  for (const YAML::Node& d : docs) {
    if (d["kind"].as<std::string>() != "Deployment") continue;
    for (const YAML::Node& c : all_containers(d))
      for (const YAML::Node& e : c["env"])
        if (e["valueFrom"] && e["valueFrom"]["secretKeyRef"])
          keys[e["valueFrom"]["secretKeyRef"]["key"].as<std::string>()] =
              e["valueFrom"]["secretKeyRef"]["name"].as<std::string>();
  }
  return keys;
}

// The Secret's env file as deploy/k8s/README.md shows it: from the line
// "# streamshift-secrets.env" to the end of its code block.
std::string readme_secret_file() {
  std::string readme = read_source("deploy/k8s/README.md");
  size_t start = readme.find("\n# streamshift-secrets.env\n");
  if (start == std::string::npos) return "";
  return readme.substr(start + 1, readme.find("```", start) - start - 1);
}

std::map<std::string, std::string> readme_secret_env() {
  std::map<std::string, std::string> env;
  std::istringstream file(readme_secret_file());
  std::regex line(R"(([A-Z][A-Z0-9_]*)=(.*))");
  for (std::string l; std::getline(file, l);) {
    std::smatch m;
    if (std::regex_match(l, m, line)) env[m[1]] = m[2];
  }
  return env;
}

// A directory of this test's own (tests may run in parallel processes).
std::string test_dir() {
  std::string dir = ::testing::TempDir() + "/streamshift-" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" +
                    std::to_string(getpid());
  std::filesystem::create_directories(dir);
  return dir;
}

class Manifests : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(have_command("kubectl"))
        << "kubectl is missing: install Debian's kubernetes-client (scripts/setup-deps.sh)";
  }
};

const std::vector<std::string> kOverlays = {"canary-10", "canary-25", "canary-50", "full",
                                            "rollback"};
// The rollout steps, and the TLS variant (tested on its own below).
const std::vector<std::string> kAllOverlays = {"canary-10", "canary-25", "canary-50",
                                               "full",      "rollback",  "tls"};

TEST_F(Manifests, EveryKustomizationRenders) {
  for (const std::string& dir : {std::string("base"), std::string("monitoring")}) {
    EXPECT_GE(render(dir).size(), 3u) << dir;
  }
  for (const std::string& o : kAllOverlays) EXPECT_GE(render("overlays/" + o).size(), 5u) << o;
}

// A rollout step changes the runtime ConfigMap only (issue 19): every other
// document, the environment's ConfigMap and its hash included, is the base's.
TEST_F(Manifests, EachOverlayChangesExactlyTheRuntimeValuesOfItsRolloutStep) {
  const std::map<std::string, std::map<std::string, std::string>> promised = {
      {"canary-10",
       {{"EVENT_TRANSPORT_USE_REDIS_STREAMS", "true"},
        {"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "10"},
        {"EVENT_TRANSPORT_FALLBACK_TO_HTTP", "true"}}},
      {"canary-25",
       {{"EVENT_TRANSPORT_USE_REDIS_STREAMS", "true"},
        {"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "25"},
        {"EVENT_TRANSPORT_FALLBACK_TO_HTTP", "true"}}},
      {"canary-50",
       {{"EVENT_TRANSPORT_USE_REDIS_STREAMS", "true"},
        {"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "50"},
        {"EVENT_TRANSPORT_FALLBACK_TO_HTTP", "true"}}},
      {"full",
       {{"EVENT_TRANSPORT_USE_REDIS_STREAMS", "true"},
        {"EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE", "100"},
        {"EVENT_TRANSPORT_FALLBACK_TO_HTTP", "false"},
        {"EVENT_TRANSPORT_STREAM_MAX_LEN", "20000"},
        {"EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS", "100"}}},
      {"rollback", {{"EVENT_TRANSPORT_USE_REDIS_STREAMS", "false"}}},
  };
  std::vector<YAML::Node> base = render("base");
  std::map<std::string, std::string> base_runtime = runtime_data(base);
  for (const auto& [overlay, values] : promised) {
    std::vector<YAML::Node> docs = render("overlays/" + overlay);
    std::map<std::string, std::string> runtime = runtime_data(docs);
    ASSERT_EQ(runtime.size(), base_runtime.size()) << overlay;
    for (const auto& [name, value] : base_runtime) {
      auto it = values.find(name);
      EXPECT_EQ(runtime[name], it != values.end() ? it->second : value) << overlay << " " << name;
    }
    for (const auto& [name, value] : values)
      EXPECT_EQ(base_runtime.count(name), 1u) << overlay << " sets " << name << " beyond the base";
    ASSERT_EQ(docs.size(), base.size()) << overlay;
    for (size_t i = 0; i < docs.size(); ++i) {
      std::string name = docs[i]["metadata"]["name"].as<std::string>();
      if (name == "streamshift-runtime") continue;
      EXPECT_EQ(emitted(docs[i]), emitted(base[i])) << overlay << " " << name;
    }
  }
}

// `kubectl apply -k` of a rollout step restarts no pod: every Deployment's
// pod template renders exactly as the base's (a changed hash suffix of a
// ConfigMap the pods read would roll them all).
TEST_F(Manifests, ApplyingARolloutOverlayChangesNoPodTemplate) {
  std::map<std::string, std::string> base_templates;
  for (const YAML::Node& d : render("base")) {
    if (d["kind"].as<std::string>() == "Deployment")
      base_templates[d["metadata"]["name"].as<std::string>()] = emitted(d["spec"]["template"]);
  }
  ASSERT_EQ(base_templates.size(), 2u);
  for (const std::string& o : kOverlays) {
    size_t seen = 0;
    for (const YAML::Node& d : render("overlays/" + o)) {
      if (d["kind"].as<std::string>() != "Deployment") continue;
      std::string name = d["metadata"]["name"].as<std::string>();
      ++seen;
      EXPECT_EQ(emitted(d["spec"]["template"]), base_templates[name]) << o << " " << name;
    }
    EXPECT_EQ(seen, base_templates.size()) << o;
  }
}

// Each program reads its runtime ConfigMap as a whole-volume mount (subPath
// mounts are never updated) where its STREAMSHIFT_RUNTIME_DIR points, and
// the ConfigMap holds only variables that program reads.
TEST_F(Manifests, EachProgramMountsItsRuntimeConfigMapWhereItsRuntimeDirPoints) {
  struct Program {
    std::string name, config_map, runtime_map, deployment, list, container;
  };
  std::vector<YAML::Node> docs = render("base");
  for (const Program& p : {Program{"proxy", "streamshift-config", "streamshift-runtime",
                                   "support-center-backend", "initContainers", "streamshift"},
                           Program{"relay", "streamshift-relay-config", "streamshift-relay-runtime",
                                   "streamshift-relay", "containers", "relay"}}) {
    std::string dir = config_data(docs, p.config_map)["STREAMSHIFT_RUNTIME_DIR"];
    ASSERT_FALSE(dir.empty()) << p.name;
    YAML::Node deployment = find(docs, "Deployment", p.deployment);
    YAML::Node c = container(deployment, p.list, p.container);
    std::string volume;
    for (const YAML::Node& m : c["volumeMounts"]) {
      if (m["mountPath"].as<std::string>() != dir) continue;
      volume = m["name"].as<std::string>();
      EXPECT_FALSE(m["subPath"]) << "a subPath mount never sees the ConfigMap's updates";
    }
    ASSERT_FALSE(volume.empty()) << p.name << ": nothing mounted at " << dir;
    bool found = false;
    for (const YAML::Node& v : deployment["spec"]["template"]["spec"]["volumes"]) {
      if (v["name"].as<std::string>() != volume) continue;
      found = true;
      EXPECT_EQ(v["configMap"]["name"].as<std::string>(), p.runtime_map) << p.name;
    }
    EXPECT_TRUE(found) << p.name << ": no volume " << volume;
    std::set<std::string> reads = binary_variables(p.name);
    std::map<std::string, std::string> runtime = runtime_data(docs, p.runtime_map);
    EXPECT_FALSE(runtime.empty()) << p.runtime_map;
    for (const auto& [name, value] : runtime)
      EXPECT_EQ(reads.count(name), 1u) << name << " is in " << p.runtime_map << " but not read";
  }
}

TEST_F(Manifests, ConfigMapsHoldExactlyWhatTheBinaryReadsAndEveryOverlayPassesCheckConfig) {
  struct Program {
    std::string name, config_map, deployment, list, container;
  };
  for (const Program& p :
       {Program{"proxy", "streamshift-config", "support-center-backend", "initContainers",
                "streamshift"},
        Program{"relay", "streamshift-relay-config", "streamshift-relay", "containers", "relay"}}) {
    std::vector<YAML::Node> docs = render("base");
    std::map<std::string, std::string> data = config_data(docs, p.config_map);
    YAML::Node c = container(find(docs, "Deployment", p.deployment), p.list, p.container);
    std::set<std::string> from_env = explicit_env(c);
    std::set<std::string> configured;
    for (const auto& [name, value] : data) {
      configured.insert(name);
      EXPECT_EQ(from_env.count(name), 0u) << name << " is in the ConfigMap and set explicitly";
    }
    configured.insert(from_env.begin(), from_env.end());
    std::set<std::string> reads = binary_variables(p.name);
    for (const std::string& name : reads)
      EXPECT_EQ(configured.count(name), 1u) << p.name << " reads " << name << ": not configured";
    for (const std::string& name : configured)
      EXPECT_EQ(reads.count(name), 1u) << name << " is configured but " << p.name << " ignores it";
  }
  // Every overlay's sidecar environment, with the Secret the README has the
  // operator create, is accepted by the binary.
  std::map<std::string, std::string> secret_env = readme_secret_env();
  ASSERT_FALSE(secret_env.empty()) << "deploy/k8s/README.md shows no streamshift-secrets.env";
  std::string secrets;
  for (const auto& [name, value] : secret_env) secrets += " " + name + "='" + value + "'";
  for (const std::string& o : kOverlays) {
    // The runtime directory's values win over the environment's.
    std::vector<YAML::Node> docs = render("overlays/" + o);
    std::map<std::string, std::string> values = config_data(docs, "streamshift-config");
    for (const auto& [name, value] : runtime_data(docs)) values[name] = value;
    values.erase("STREAMSHIFT_RUNTIME_DIR");  // not mounted here
    std::string env;
    for (const auto& [name, value] : values) env += " " + name + "='" + value + "'";
    CommandOutput out = run_command("env -i PATH=/usr/bin:/bin" + env + secrets + " " +
                                    streamshift_binary() + " check-config 2>&1");
    EXPECT_EQ(out.status, 0) << o << "\n" << out.text;
    EXPECT_EQ(out.text.find("warning"), std::string::npos) << o << "\n" << out.text;
  }
}

// `kubectl apply -k` of any of them must never replace the operator's
// Secret with placeholders.
TEST_F(Manifests, NoKustomizationRendersASecretWithData) {
  std::vector<std::string> dirs = {"base", "monitoring"};
  for (const std::string& o : kAllOverlays) dirs.push_back("overlays/" + o);
  for (const std::string& dir : dirs) {
    for (const YAML::Node& d : render(dir)) {
      if (d["kind"].as<std::string>() != "Secret") continue;
      EXPECT_FALSE(d["data"] || d["stringData"])
          << dir << " renders Secret " << d["metadata"]["name"].as<std::string>() << " with data";
    }
  }
}

TEST_F(Manifests, ThePodsReadTheSecretTheReadmeHasTheOperatorCreate) {
  std::map<std::string, std::string> read = secret_keys_read(render("base"));
  std::map<std::string, std::string> documented = readme_secret_env();
  ASSERT_FALSE(read.empty());
  for (const auto& [key, secret] : read) {
    EXPECT_EQ(secret, "streamshift-secrets") << key;
    EXPECT_EQ(documented.count(key), 1u) << key << " is read but the README's Secret lacks it";
  }
  for (const auto& [key, value] : documented)
    EXPECT_EQ(read.count(key), 1u) << key << " is in the README's Secret but no pod reads it";
  // The README's command, on the README's file, makes that Secret.
  const std::string command =
      "kubectl create secret generic streamshift-secrets --from-env-file=streamshift-secrets.env";
  ASSERT_NE(read_source("deploy/k8s/README.md").find(command), std::string::npos);
  std::string dir = test_dir();
  std::ofstream(dir + "/streamshift-secrets.env") << readme_secret_file();
  CommandOutput made = run_command("cd " + dir + " && " + command + " --dry-run=client -o yaml");
  ASSERT_EQ(made.status, 0) << made.text;
  YAML::Node secret = YAML::Load(made.text);
  EXPECT_EQ(secret["metadata"]["name"].as<std::string>(), "streamshift-secrets");
  EXPECT_EQ(secret["data"].size(), documented.size()) << made.text;
  for (const auto& [key, value] : documented) EXPECT_TRUE(secret["data"][key]) << key;
}

// The TLS overlay: the base plus the certificates' Secret, mounted
// read-only into streamshift's containers only, and REDIS_TLS_* naming its
// files. With those files (the fixture's certificates in their place) and a
// rediss:// REDIS_URL, both programs accept the rendered environment; the
// README's command makes the Secret the pods mount, with the files they read.
TEST_F(Manifests, TheTlsOverlayMountsTheCertificatesBothProgramsAccept) {
  const std::string kMount = "/etc/streamshift/redis-tls";
  const std::map<std::string, std::string> kFiles = {{"REDIS_TLS_CA_FILE", "ca.crt"},
                                                     {"REDIS_TLS_CERT_FILE", "tls.crt"},
                                                     {"REDIS_TLS_KEY_FILE", "tls.key"}};
  TestCertificates certs;
  ASSERT_TRUE(certs.ok());
  std::string dir = test_dir();
  std::filesystem::copy_file(certs.ca(), dir + "/ca.crt");
  std::filesystem::copy_file(certs.client_cert(), dir + "/tls.crt");
  std::filesystem::copy_file(certs.client_key(), dir + "/tls.key");

  std::vector<YAML::Node> base = render("base");
  std::vector<YAML::Node> docs = render("overlays/tls");
  ASSERT_EQ(docs.size(), base.size());
  std::string secret_name;
  struct Pod {
    std::string program, config_map, deployment, list, container;
  };
  for (const Pod& p :
       {Pod{"", "streamshift-config", "support-center-backend", "initContainers", "streamshift"},
        Pod{"relay", "streamshift-relay-config", "streamshift-relay", "containers", "relay"}}) {
    std::map<std::string, std::string> base_env = config_data(base, p.config_map);
    std::map<std::string, std::string> env = config_data(docs, p.config_map);
    ASSERT_EQ(env.size(), base_env.size()) << p.config_map;
    for (const auto& [name, value] : base_env) {
      auto file = kFiles.find(name);
      EXPECT_EQ(env[name], file != kFiles.end() ? kMount + "/" + file->second : value)
          << p.config_map << " " << name;
    }
    YAML::Node d = find(docs, "Deployment", p.deployment);
    size_t mounts = 0;
    for (const YAML::Node& c : all_containers(d)) {
      for (const YAML::Node& m : c["volumeMounts"]) {
        if (m["name"].as<std::string>() != "redis-tls") continue;
        ++mounts;
        EXPECT_EQ(c["name"].as<std::string>(), p.container) << "only streamshift reads the key";
        EXPECT_EQ(m["mountPath"].as<std::string>(), kMount);
        EXPECT_TRUE(m["readOnly"].as<bool>(false));
      }
    }
    EXPECT_EQ(mounts, 1u) << p.deployment;
    bool volume = false;
    for (const YAML::Node& v : d["spec"]["template"]["spec"]["volumes"]) {
      if (v["name"].as<std::string>() != "redis-tls") continue;
      volume = true;
      std::string name = v["secret"]["secretName"].as<std::string>("");
      EXPECT_TRUE(secret_name.empty() || secret_name == name) << name;
      secret_name = name;
    }
    EXPECT_TRUE(volume) << p.deployment;

    std::string vars = " REDIS_URL='rediss://:pw@redis:6380/0'";
    for (auto [name, value] : env) {
      if (value.rfind(kMount, 0) == 0) value = dir + value.substr(kMount.size());
      vars += " " + name + "='" + value + "'";
    }
    CommandOutput out = run_command("env -i PATH=/usr/bin:/bin" + vars + " " +
                                    streamshift_binary() + " check-config " + p.program + " 2>&1");
    EXPECT_EQ(out.status, 0) << p.deployment << "\n" << out.text;
    EXPECT_NE(out.text.find("redis tls: verified"), std::string::npos) << out.text;
  }

  const std::string command = "kubectl create secret generic " + secret_name +
                              " --from-file=ca.crt --from-file=tls.crt --from-file=tls.key";
  ASSERT_NE(read_source("deploy/k8s/README.md").find(command), std::string::npos) << command;
  CommandOutput made = run_command("cd " + dir + " && " + command + " --dry-run=client -o yaml");
  ASSERT_EQ(made.status, 0) << made.text;
  YAML::Node secret = YAML::Load(made.text);
  EXPECT_EQ(secret["metadata"]["name"].as<std::string>(), "streamshift-redis-tls");
  EXPECT_EQ(secret["data"].size(), kFiles.size());
  for (const auto& [name, file] : kFiles) EXPECT_TRUE(secret["data"][file]) << file;
}

// The container's probes, as {path, port number}.
std::vector<std::pair<std::string, int>> probes(const YAML::Node& c) {
  std::map<std::string, int> ports;
  for (const YAML::Node& p : c["ports"])
    ports[p["name"].as<std::string>()] = p["containerPort"].as<int>();
  std::vector<std::pair<std::string, int>> out;
  for (const char* kind : {"startupProbe", "readinessProbe", "livenessProbe"}) {
    if (!c[kind]) continue;
    YAML::Node get = c[kind]["httpGet"];
    std::string port = get["port"].as<std::string>();
    int number = ports.count(port) ? ports[port] : std::stoi(port);
    out.emplace_back(get["path"].as<std::string>(), number);
  }
  return out;
}

int port_of(const std::string& host_port) {
  return std::stoi(host_port.substr(host_port.rfind(':') + 1));
}

TEST_F(Manifests, ProbesAskTheBinaryForPathsItServesOnThePortItListensOn) {
  std::vector<YAML::Node> docs = render("base");
  RedisServer redis;
  ASSERT_TRUE(redis.ready());
  TestUpstream signalr;

  // The sidecar, started with the rendered environment (listeners moved to
  // free loopback ports, Redis and SignalR to the test's).
  YAML::Node sidecar = container(find(docs, "Deployment", "support-center-backend"),
                                 "initContainers", "streamshift");
  std::map<std::string, std::string> env = config_data(docs, "streamshift-config");
  std::vector<std::pair<std::string, int>> sidecar_probes = probes(sidecar);
  ASSERT_EQ(sidecar_probes.size(), 3u);
  for (const auto& [path, port] : sidecar_probes)
    EXPECT_EQ(port, port_of(env["STREAMSHIFT_ADMIN_LISTEN"])) << path;
  EXPECT_EQ(sidecar["restartPolicy"].as<std::string>(), "Always");  // a native sidecar
  env.erase("STREAMSHIFT_LISTEN");
  env.erase("STREAMSHIFT_ADMIN_LISTEN");
  env.erase("STREAMSHIFT_UPSTREAM_URL");
  env["REDIS_URL"] = redis.url();
  Sidecar process(signalr.port(), env);
  ASSERT_TRUE(process.ready()) << process.process().output();
  for (const auto& [path, port] : sidecar_probes) {
    std::optional<ParsedResponse> r = http_get(process.admin_port(), path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path << " " << r->body;
  }

  YAML::Node relay =
      container(find(docs, "Deployment", "streamshift-relay"), "containers", "relay");
  std::map<std::string, std::string> relay_env = config_data(docs, "streamshift-relay-config");
  std::vector<std::pair<std::string, int>> relay_probes = probes(relay);
  ASSERT_EQ(relay_probes.size(), 2u);
  for (const auto& [path, port] : relay_probes)
    EXPECT_EQ(port, port_of(relay_env["STREAMSHIFT_ADMIN_LISTEN"])) << path;
  relay_env.erase("STREAMSHIFT_ADMIN_LISTEN");
  relay_env.erase("STREAMSHIFT_RELAY_TARGET_URL");
  RelayProcess relay_process(redis.url(), signalr.port(), relay_env);
  ASSERT_TRUE(relay_process.ready()) << relay_process.process().output();
  for (const auto& [path, port] : relay_probes) {
    std::optional<ParsedResponse> r = http_get(relay_process.admin_port(), path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path << " " << r->body;
  }
}

TEST_F(Manifests, PodsDrainLongerThanTheBinaryAndRelaysSurviveANodeDrain) {
  std::vector<YAML::Node> docs = render("base");
  struct Pod {
    std::string deployment, config_map, list, container;
  };
  for (const Pod& p :
       {Pod{"support-center-backend", "streamshift-config", "initContainers", "streamshift"},
        Pod{"streamshift-relay", "streamshift-relay-config", "containers", "relay"}}) {
    YAML::Node d = find(docs, "Deployment", p.deployment);
    int drain_ms = std::stoi(config_data(docs, p.config_map)["STREAMSHIFT_DRAIN_TIMEOUT_MS"]);
    EXPECT_GT(d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"].as<int>() * 1000,
              drain_ms + 5000)
        << p.deployment;
    YAML::Node c = container(d, p.list, p.container);
    EXPECT_TRUE(c["resources"]["requests"]["cpu"]);
    EXPECT_TRUE(c["resources"]["limits"]["memory"]);
  }
  YAML::Node relay = find(docs, "Deployment", "streamshift-relay");
  EXPECT_GE(relay["spec"]["replicas"].as<int>(), 2);
  YAML::Node pdb = find(docs, "PodDisruptionBudget", "streamshift-relay");
  EXPECT_EQ(
      pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"].as<std::string>(),
      relay["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"].as<std::string>());
  EXPECT_LT(pdb["spec"]["minAvailable"].as<int>(), relay["spec"]["replicas"].as<int>());
}

// The image's USER line, as {uid, gid}.
std::pair<int, int> image_user() {
  std::string dockerfile = read_source("Dockerfile");
  std::smatch m;
  if (!std::regex_search(dockerfile, m, std::regex(R"(\nUSER (\d+):(\d+)\n)"))) {
    ADD_FAILURE() << "the Dockerfile has no USER uid:gid";
    return {-1, -1};
  }
  return {std::stoi(m[1]), std::stoi(m[2])};
}

// The app's container is the user's: streamshift's uid and read-only root
// belong on streamshift's containers, never on the pod or on the app.
TEST_F(Manifests, OnlyStreamshiftsContainersRunAsItsUserWithAReadOnlyRoot) {
  std::vector<YAML::Node> docs = render("base");
  auto [uid, gid] = image_user();
  int apps = 0;
  const std::map<std::string, std::string> ours = {{"support-center-backend", "streamshift"},
                                                   {"streamshift-relay", "relay"}};
  for (const auto& [deployment, name] : ours) {
    YAML::Node d = find(docs, "Deployment", deployment);
    YAML::Node pod = d["spec"]["template"]["spec"]["securityContext"];
    for (const char* field :
         {"runAsUser", "runAsGroup", "runAsNonRoot", "fsGroup", "seccompProfile"})
      EXPECT_FALSE(pod && pod[field]) << deployment << ": pod-level " << field;
    for (const YAML::Node& c : all_containers(d)) {
      YAML::Node sc = c["securityContext"];
      std::string container_name = c["name"].as<std::string>();
      if (container_name != name) {
        ++apps;
        for (const char* field : {"runAsUser", "runAsGroup", "readOnlyRootFilesystem"})
          EXPECT_FALSE(sc && sc[field]) << container_name << " is the app's container: " << field;
        continue;
      }
      ASSERT_TRUE(sc) << name;
      EXPECT_TRUE(sc["runAsNonRoot"].as<bool>()) << name;
      EXPECT_EQ(sc["runAsUser"].as<int>(), uid) << name;
      EXPECT_EQ(sc["runAsGroup"].as<int>(), gid) << name;
      EXPECT_TRUE(sc["readOnlyRootFilesystem"].as<bool>()) << name;
      EXPECT_FALSE(sc["allowPrivilegeEscalation"].as<bool>()) << name;
      EXPECT_EQ(sc["capabilities"]["drop"][0].as<std::string>(), "ALL") << name;
      EXPECT_EQ(sc["seccompProfile"]["type"].as<std::string>(), "RuntimeDefault") << name;
    }
  }
  EXPECT_EQ(apps, 1);  // the backend, beside the sidecar
}

// The PrometheusRule's groups as a rules file, dir/streamshift-rules.yaml.
YAML::Node write_rule_file(const std::string& dir) {
  YAML::Node rule = find(render("monitoring"), "PrometheusRule", "streamshift");
  YAML::Node file;
  file["groups"] = rule["spec"]["groups"];
  YAML::Emitter e;
  e << file;
  std::ofstream(dir + "/streamshift-rules.yaml") << e.c_str();
  return file;
}

std::map<std::string, YAML::Node> rules_by(const YAML::Node& file, const std::string& kind) {
  std::map<std::string, YAML::Node> out;
  for (const YAML::Node& g : file["groups"])
    for (const YAML::Node& r : g["rules"])
      if (r[kind]) out[r[kind].as<std::string>()] = r;
  return out;
}

TEST_F(Manifests, ThePrometheusRulePassesPromtoolWithTheDocumentsAlerts) {
  ASSERT_TRUE(have_command("promtool")) << "promtool is missing: install Debian's prometheus";
  std::string dir = test_dir();
  YAML::Node file = write_rule_file(dir);
  CommandOutput out = run_command("promtool check rules " + dir + "/streamshift-rules.yaml 2>&1");
  EXPECT_EQ(out.status, 0) << out.text;
  // The consumer-lag document's alerts: names, thresholds, durations,
  // severities and annotations as written there, on the lag per stream and
  // group (one alert however many pods export the gauge).
  std::map<std::string, YAML::Node> alerts = rules_by(file, "alert");
  std::map<std::string, YAML::Node> records = rules_by(file, "record");
  struct Documented {
    std::string name, threshold, duration, severity, summary, description;
  };
  for (const Documented& doc :
       {Documented{"HighEventConsumerLag", "1000", "5m", "warning",
                   "High consumer lag on stream {{ $labels.stream }}",
                   "{{ $value }} unprocessed entries"},
        Documented{"CriticalEventConsumerLag", "5000", "2m", "critical",
                   "Critical consumer lag on stream {{ $labels.stream }}",
                   "{{ $value }} unprocessed entries, consumer may be stuck"}}) {
    ASSERT_EQ(alerts.count(doc.name), 1u) << doc.name;
    YAML::Node a = alerts[doc.name];
    EXPECT_EQ(a["expr"].as<std::string>(), "streamshift:event_consumer_lag:max > " + doc.threshold);
    EXPECT_EQ(a["for"].as<std::string>(), doc.duration);
    EXPECT_EQ(a["labels"]["severity"].as<std::string>(), doc.severity);
    EXPECT_EQ(a["annotations"]["summary"].as<std::string>(), doc.summary);
    EXPECT_EQ(a["annotations"]["description"].as<std::string>(), doc.description);
  }
  std::string lag = records["streamshift:event_consumer_lag:max"]["expr"].as<std::string>("");
  EXPECT_NE(lag.find("max by (stream, consumer_group) (event_consumer_lag)"), std::string::npos)
      << lag;
  EXPECT_EQ(alerts["HighEventTransportFallbackRate"]["expr"].as<std::string>(""),
            "streamshift:event_transport_fallback:ratio_rate5m > 0.01");
}

// tests/deploy/alerts_test.yaml feeds input series to the rules: one alert
// for many pods' lag, a fallback ratio of 1 with the circuit open, each
// new alert firing and staying quiet when it should. Every alert and
// recording rule has a case there.
TEST_F(Manifests, EveryAlertPassesItsPromtoolUnitTests) {
  ASSERT_TRUE(have_command("promtool")) << "promtool is missing: install Debian's prometheus";
  std::string dir = test_dir();
  YAML::Node file = write_rule_file(dir);
  std::string tests = read_source("tests/deploy/alerts_test.yaml");
  ASSERT_FALSE(tests.empty());
  std::ofstream(dir + "/alerts_test.yaml") << tests;
  CommandOutput out = run_command("cd " + dir + " && promtool test rules alerts_test.yaml 2>&1");
  EXPECT_EQ(out.status, 0) << out.text;

  std::set<std::string> tested;
  for (const YAML::Node& t : YAML::Load(tests)["tests"]) {
    for (const YAML::Node& a : t["alert_rule_test"])
      tested.insert(a["alertname"].as<std::string>());
    for (const YAML::Node& e : t["promql_expr_test"]) tested.insert(e["expr"].as<std::string>());
  }
  for (const char* kind : {"alert", "record"})
    for (const auto& [name, rule] : rules_by(file, kind))
      EXPECT_EQ(tested.count(name), 1u) << name << " has no case in tests/deploy/alerts_test.yaml";
}

// The PodMonitor sets the job label the alerts select on, from the
// containers' names.
TEST_F(Manifests, ThePodMonitorNamesTheJobsTheAlertsSelect) {
  std::vector<YAML::Node> docs = render("base");
  YAML::Node monitor = find(render("monitoring"), "PodMonitor", "streamshift");
  std::map<std::string, std::string> job_of_container;
  for (const YAML::Node& r : monitor["spec"]["podMetricsEndpoints"][0]["relabelings"]) {
    if (r["targetLabel"].as<std::string>() != "job") continue;
    EXPECT_EQ(r["sourceLabels"][0].as<std::string>(), "__meta_kubernetes_pod_container_name");
    job_of_container[r["regex"].as<std::string>()] = r["replacement"].as<std::string>();
  }
  EXPECT_EQ(job_of_container,
            (std::map<std::string, std::string>{{"streamshift", "streamshift-sidecar"},
                                                {"relay", "streamshift-relay"}}));
  // Those containers carry the scraped port.
  for (const auto& [deployment, list, name] :
       {std::make_tuple("support-center-backend", "initContainers", "streamshift"),
        std::make_tuple("streamshift-relay", "containers", "relay")}) {
    YAML::Node c = container(find(docs, "Deployment", deployment), list, name);
    EXPECT_EQ(c["ports"][0]["name"].as<std::string>(),
              monitor["spec"]["podMetricsEndpoints"][0]["port"].as<std::string>());
  }
  // Every job a rule names is one of them.
  YAML::Node rule = find(render("monitoring"), "PrometheusRule", "streamshift");
  std::regex job(R"re(job=~?"([^"]+)")re");
  size_t named = 0;
  for (const YAML::Node& g : rule["spec"]["groups"]) {
    for (const YAML::Node& r : g["rules"]) {
      std::string expr = r["expr"].as<std::string>();
      for (std::sregex_iterator it(expr.begin(), expr.end(), job), end; it != end; ++it) {
        std::string jobs = (*it)[1];
        for (size_t pos = 0; pos <= jobs.size();) {
          size_t bar = std::min(jobs.find('|', pos), jobs.size());
          std::string one = jobs.substr(pos, bar - pos);
          EXPECT_TRUE(one == "streamshift-sidecar" || one == "streamshift-relay") << one;
          ++named;
          pos = bar + 1;
        }
      }
    }
  }
  EXPECT_GE(named, 3u);
}

// What the dashboard's expressions query: metric names (suffixes of
// histograms removed) and recording rules (level:metric:operations).
struct DashboardQueries {
  std::set<std::string> metrics, recorded;
};

DashboardQueries dashboard_queries() {
  DashboardQueries q;
  std::string json = read_source("deploy/k8s/monitoring/dashboards/streamshift.json");
  EXPECT_FALSE(json.empty()) << "dashboard missing";
  YAML::Node dash = YAML::Load(json);  // JSON is YAML
  std::regex recorded(R"(\b[a-z_]+:[a-z0-9_:]+)");
  // Metric names, not label names (those are followed by a matcher).
  std::regex metric(R"(\b((event|events|streamshift)_[a-z_]+)\b(?!\s*[=!~]))");
  for (const YAML::Node& panel : dash["panels"]) {
    for (const YAML::Node& t : panel["targets"]) {
      std::string expr = t["expr"].as<std::string>();
      for (std::sregex_iterator it(expr.begin(), expr.end(), recorded), end; it != end; ++it)
        q.recorded.insert((*it)[0]);
      expr = std::regex_replace(expr, recorded, " ");
      for (std::sregex_iterator it(expr.begin(), expr.end(), metric), end; it != end; ++it) {
        std::string name = (*it)[1];
        for (const char* suffix : {"_bucket", "_sum", "_count"}) {
          std::string s(suffix);
          if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0)
            name.resize(name.size() - s.size());
        }
        q.metrics.insert(name);
      }
    }
  }
  return q;
}

TEST_F(Manifests, TheDashboardQueriesOnlyMetricsTheBinariesExposeAndRulesTheyRecord) {
  DashboardQueries q = dashboard_queries();
  EXPECT_GE(q.metrics.size(), 8u);
  std::map<std::string, YAML::Node> records = rules_by(write_rule_file(test_dir()), "record");
  for (const std::string& name : q.recorded)
    EXPECT_EQ(records.count(name), 1u) << name << " is not recorded by the PrometheusRule";
  RedisServer redis;
  TestUpstream signalr;
  Sidecar sidecar(signalr.port(), {{"REDIS_URL", redis.url()}});
  RelayProcess relay(redis.url(), signalr.port());
  ASSERT_TRUE(sidecar.ready() && relay.ready());
  std::string exposed = http_get(sidecar.admin_port(), "/metrics")->body +
                        http_get(relay.admin_port(), "/metrics")->body;
  for (const std::string& name : q.metrics)
    EXPECT_NE(exposed.find("# TYPE " + name + " "), std::string::npos) << name;
}

// An operator sees the rollout step in force, the Redis connections and the
// ingress (rate, errors, latency) next to the transport, and the fallback
// rate and lag exactly as the alerts compute them.
TEST_F(Manifests, TheDashboardShowsRolloutRedisConnectionsIngressAndWhatTheAlertsSee) {
  DashboardQueries q = dashboard_queries();
  for (const char* name :
       {"streamshift_rollout_redis_percentage", "streamshift_redis_connections_ready",
        "streamshift_http_requests_total", "streamshift_http_request_duration_seconds"})
    EXPECT_EQ(q.metrics.count(name), 1u) << name;
  for (const char* name :
       {"streamshift:event_transport_fallback:ratio_rate5m", "streamshift:event_consumer_lag:max"})
    EXPECT_EQ(q.recorded.count(name), 1u) << name;
}

}  // namespace
}  // namespace streamshift::testing
