// A real redis-server for tests; see redis_server.h.
#include "tests/support/redis_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/support/eventually.h"
#include "tests/support/net.h"

namespace streamshift::testing {
namespace {

RedisValue convert(const redisReply* r) {
  RedisValue v;
  if (r == nullptr) return v;
  v.type = r->type;
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
      r->type == REDIS_REPLY_ERROR) {
    v.str.assign(r->str, r->len);
  } else if (r->type == REDIS_REPLY_INTEGER) {
    v.integer = r->integer;
  } else if (r->type == REDIS_REPLY_ARRAY) {
    for (size_t i = 0; i < r->elements; ++i) v.elements.push_back(convert(r->element[i]));
  }
  return v;
}

}  // namespace

RedisServer::RedisServer(std::vector<std::string> extra_args, uint16_t port)
    : args_(std::move(extra_args)) {
  start(port);
}

RedisServer::RedisServer(std::optional<RedisTlsPort> tls, std::string sentinel_config,
                         std::vector<std::string> extra_args)
    : args_(std::move(extra_args)),
      tls_(std::move(tls)),
      sentinel_config_(std::move(sentinel_config)) {
  start(0);
}

std::unique_ptr<RedisServer> RedisServer::with_tls(RedisTlsPort tls,
                                                   std::vector<std::string> extra_args) {
  return std::unique_ptr<RedisServer>(new RedisServer(std::move(tls), "", std::move(extra_args)));
}

std::unique_ptr<RedisServer> RedisServer::sentinel(std::string config) {
  return std::unique_ptr<RedisServer>(new RedisServer(std::nullopt, std::move(config), {}));
}

std::string RedisServer::sentinel_config_path() const {
  return dir_ + "/sentinel.conf";
}

void RedisServer::start(uint16_t port) {
  if (access("/usr/bin/redis-server", X_OK) != 0) {
    ADD_FAILURE() << "redis-server is not installed: install Debian's redis-server, which is also "
                     "Sentinel (`redis-server --sentinel`) (scripts/setup-deps.sh)";
    return;
  }
  char tmpl[] = "/tmp/streamshift-redis-XXXXXX";
  dir_ = mkdtemp(tmpl);
  if (!sentinel_config_.empty() && !(std::ofstream(sentinel_config_path()) << sentinel_config_)) {
    ADD_FAILURE() << "cannot write " << sentinel_config_path();
    return;
  }
  for (int attempt = 0; attempt < 3 && !ready_; ++attempt) {
    port_ = port != 0 ? port : free_port();
    if (tls_) tls_port_ = free_port();
    ready_ = launch();
    if (!ready_ && pid_ > 0) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
}

RedisServer::~RedisServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

bool RedisServer::launch() {
  std::vector<std::string> argv = {"/usr/bin/redis-server"};
  if (!sentinel_config_.empty()) argv.insert(argv.end(), {sentinel_config_path(), "--sentinel"});
  argv.insert(argv.end(),
              {"--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "", "--dir", dir_,
               "--daemonize", "no", "--loglevel", "warning", "--enable-debug-command", "local"});
  bool has_aof = false;
  for (const auto& a : args_) has_aof = has_aof || a == "--appendonly";
  if (!has_aof) {
    argv.push_back("--appendonly");
    argv.push_back("no");
  }
  if (tls_) {
    argv.insert(argv.end(),
                {"--tls-port", std::to_string(tls_port_), "--tls-cert-file", tls_->cert_file,
                 "--tls-key-file", tls_->key_file, "--tls-ca-cert-file", tls_->ca_file,
                 "--tls-auth-clients", tls_->auth_clients ? "yes" : "no"});
  }
  argv.insert(argv.end(), args_.begin(), args_.end());
  pid_ = fork();
  if (pid_ == 0) {
    // Dies with the test process, even when that one crashes (a sanitizer
    // abort skips the destructors that would stop it).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int log = open((dir_ + "/redis.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(log, 1);
    dup2(log, 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  bool answering = false;
  eventually(
      [&] {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: the port was taken, say
          pid_ = -1;
          return true;
        }
        RedisValue pong = command({"PING"});
        answering = pong.type == REDIS_REPLY_STATUS ||
                    (pong.type == REDIS_REPLY_ERROR && pong.str.find("NOAUTH") == 0);
        return answering;
      },
      std::chrono::seconds(10));
  return answering;
}

std::string RedisServer::url(const std::string& userinfo) const {
  return "redis://" + (userinfo.empty() ? "" : userinfo + "@") +
         "127.0.0.1:" + std::to_string(port_);
}

std::string RedisServer::tls_url(const std::string& userinfo, const std::string& host) const {
  return "rediss://" + (userinfo.empty() ? "" : userinfo + "@") + host + ":" +
         std::to_string(tls_port_);
}

void RedisServer::pause() {
  ::kill(pid_, SIGSTOP);
}
void RedisServer::resume() {
  ::kill(pid_, SIGCONT);
}

void RedisServer::kill_hard() {
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

bool RedisServer::restart() {
  if (pid_ > 0) kill_hard();
  ready_ = launch();
  return ready_;
}

RedisValue RedisServer::command(const std::vector<std::string>& args,
                                std::chrono::milliseconds timeout) const {
  return commands({args}, timeout).front();
}

std::vector<RedisValue> RedisServer::commands(const std::vector<std::vector<std::string>>& pipeline,
                                              std::chrono::milliseconds timeout) const {
  auto failed = [&](std::string why) {
    RedisValue error;
    error.type = REDIS_REPLY_ERROR;
    error.str = std::move(why);
    return std::vector<RedisValue>(pipeline.size(), error);
  };
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
  if (c == nullptr || c->err != 0) {
    if (c != nullptr) redisFree(c);
    return failed("connect failed");
  }
  redisSetTimeout(c, tv);
  if (!password_.empty()) {
    redisReply* auth = user_.empty()
                           ? static_cast<redisReply*>(redisCommand(c, "AUTH %s", password_.c_str()))
                           : static_cast<redisReply*>(
                                 redisCommand(c, "AUTH %s %s", user_.c_str(), password_.c_str()));
    if (auth != nullptr) freeReplyObject(auth);
  }
  for (const auto& args : pipeline) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data());
  }
  std::vector<RedisValue> results;
  for (size_t i = 0; i < pipeline.size(); ++i) {
    void* reply = nullptr;
    if (redisGetReply(c, &reply) != REDIS_OK || reply == nullptr) {
      std::vector<RedisValue> rest = failed(c->errstr);
      results.insert(results.end(), rest.begin() + static_cast<ptrdiff_t>(i), rest.end());
      break;
    }
    results.push_back(convert(static_cast<redisReply*>(reply)));
    freeReplyObject(reply);
  }
  redisFree(c);
  return results;
}

std::string StreamEntryView::field(const std::string& name) const {
  for (const auto& [k, v] : fields) {
    if (k == name) return v;
  }
  return "<missing>";
}

std::vector<StreamEntryView> read_stream(const RedisServer& redis, const std::string& stream) {
  std::vector<StreamEntryView> out;
  RedisValue r = redis.command({"XRANGE", stream, "-", "+"});
  for (const RedisValue& e : r.elements) {
    StreamEntryView view;
    view.id = e.elements.at(0).str;
    const auto& kv = e.elements.at(1).elements;
    for (size_t i = 0; i + 1 < kv.size(); i += 2)
      view.fields.emplace_back(kv[i].str, kv[i + 1].str);
    out.push_back(std::move(view));
  }
  return out;
}

}  // namespace streamshift::testing

namespace streamshift::testing {

RedisServer::ReplicaAck RedisServer::replica_ack(const std::string& probe_key) const {
  auto number_after = [](const std::string& info, const std::string& key) -> long long {
    size_t at = info.find(key);
    return at == std::string::npos ? -1 : std::atoll(info.c_str() + at + key.size());
  };
  std::string info = command({"INFO", "replication"}).str;
  ReplicaAck ack;
  ack.written = number_after(info, "master_repl_offset:");
  if (ack.written == 0) command({"SET", probe_key, "1"});
  size_t replica = info.find("slave0:");
  if (replica == std::string::npos) return ack;
  std::string line = info.substr(replica, info.find('\n', replica) - replica);
  ack.online = line.find("state=online") != std::string::npos;
  ack.acknowledged = number_after(line, "offset=");
  return ack;
}

}  // namespace streamshift::testing
