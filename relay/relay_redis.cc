// The relay's two Redis connections; see relay_redis.h.
#include "relay/relay_redis.h"

#include <memory>

namespace streamshift {
namespace {

struct Command {
  RelayMetrics* metrics;
  RedisDone done;
  static void on_reply(void* data, const RedisResult& result) {
    std::unique_ptr<Command> c(static_cast<Command*>(data));
    if (result.status != RedisStatus::kOk) c->metrics->redis_errors.Increment();
    c->done(result);
  }
};

}  // namespace

bool is_nogroup(const RedisResult& r) {
  return r.status == RedisStatus::kErrorReply && r.error.find("NOGROUP") != std::string_view::npos;
}

bool may_have_run(const RedisResult& r) {
  return r.status == RedisStatus::kTimeout || r.status == RedisStatus::kConnectionLost;
}

std::string describe(const RedisResult& r) {
  if (r.status == RedisStatus::kErrorReply) return std::string(r.error);
  return std::string(redis_status_name(r.status));
}

RelayRedisImpl::RelayRedisImpl(uv_loop_t* loop, const RelaySettings& settings,
                               RelayMetrics& metrics)
    : settings_(settings),
      metrics_(metrics),
      // After a reconnect the server may be a fresh one (restart without
      // persistence): the commands hook makes sure the groups exist.
      commands_(make_redis_client(loop, options("relay", &Hooks::commands_ready))) {
  size_t groups = settings.read_groups().size();
  for (size_t g = 0; g < groups; ++g) {
    // Unsharded, one reader keeps its old name.
    std::string name = groups == 1 ? "relay-read" : "relay-read-" + std::to_string(g);
    readers_.push_back(make_redis_client(loop, options(std::move(name), &Hooks::reader_ready)));
  }
}

RedisOptions RelayRedisImpl::options(std::string name,
                                     std::function<void()> RelayRedis::Hooks::*hook) {
  RedisOptions options = relay_redis_options(settings_, std::move(name));
  options.on_ready_change = [this, hook](int delta) {
    metrics_.redis_connections_ready.Increment(delta);
    if (delta > 0 && hooks_.*hook) (hooks_.*hook)();
  };
  options.primary_status = metrics_.redis_primary;
  return options;
}

void RelayRedisImpl::start(Hooks hooks) {
  hooks_ = std::move(hooks);
  for (auto& reader : readers_) reader->start();
  commands_->start();
}

void RelayRedisImpl::command(const RedisArgs& args, RedisDone done) {
  send(*commands_, args, std::move(done), settings_.redis_timeout_ms);
}

void RelayRedisImpl::read(size_t group, const RedisArgs& args, RedisDone done,
                          uint64_t timeout_ms) {
  send(*readers_[group], args, std::move(done), timeout_ms);
}

bool RelayRedisImpl::readers_ready() const {
  for (const auto& reader : readers_) {
    if (reader->ready_connections() == 0) return false;
  }
  return true;
}

void RelayRedisImpl::send(RedisCommands& client, const RedisArgs& args, RedisDone done,
                          uint64_t timeout_ms) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* c = new Command{&metrics_, std::move(done)};
  client.command(static_cast<int>(argv.size()), argv.data(), lens.data(), timeout_ms,
                 Command::on_reply, c);
}

void RelayRedisImpl::close_readers(std::function<void()> on_closed) {
  if (readers_.empty()) {
    on_closed();
    return;
  }
  auto left = std::make_shared<size_t>(readers_.size());
  auto done = std::make_shared<std::function<void()>>(std::move(on_closed));
  for (auto& reader : readers_) {
    reader->shutdown([left, done] {
      if (--*left == 0) (*done)();
    });
    reader->close_now();
  }
}

void RelayRedisImpl::close_commands(std::function<void()> on_closed) {
  commands_->shutdown(std::move(on_closed));
  commands_->close_now();
}

}  // namespace streamshift
