// Consumer-lag look-ups; see lag_monitor.h.
#include "proxy/lag_monitor.h"

#include <hiredis/hiredis.h>

#include <algorithm>

#include "core/loop.h"

namespace streamshift {
namespace {

enum class Kind { kStream, kGroups, kConsumers };

bool missing_key(std::string_view error) {
  return error.find("no such key") != std::string_view::npos || error.rfind("NOGROUP", 0) == 0;
}

}  // namespace

struct LagMonitor::Round {
  LagMonitor* monitor;
  LagSnapshot snapshot;
  int pending = 0;
  std::vector<Done> waiting;
  std::vector<std::unique_ptr<Reply>> replies;
};

struct LagMonitor::Reply {
  Round* round;
  size_t stream;
  Kind kind;
};

LagMonitor::LagMonitor(uv_loop_t* loop, RedisOptions redis, StreamShards streams, std::string group,
                       uint64_t cache_ms, uint64_t timeout_ms)
    : loop_(loop),
      connect_timeout_ms_(redis.connect_timeout_ms),
      redis_(make_redis_client(loop, with_ready_hook(std::move(redis), this))),
      layout_(std::move(streams)),
      streams_(layout_.physical()),
      group_(std::move(group)),
      cache_ms_(cache_ms),
      timeout_ms_(timeout_ms) {
  uv_timer_init(loop_, &connect_wait_);
  connect_wait_.data = this;
}

RedisOptions LagMonitor::with_ready_hook(RedisOptions options, LagMonitor* self) {
  options.on_ready_change = [self](int delta) {
    if (delta > 0) self->stop_waiting_for_connect();
  };
  return options;
}

void LagMonitor::start() {
  redis_->start();
  uv_timer_start(
      &connect_wait_,
      [](uv_timer_t* t) { static_cast<LagMonitor*>(t->data)->stop_waiting_for_connect(); },
      connect_timeout_ms_ + 100, 0);
}

void LagMonitor::stop_waiting_for_connect() {
  if (!waiting_for_connect_) return;
  waiting_for_connect_ = false;
  uv_timer_stop(&connect_wait_);
  std::vector<Done> early = std::move(early_);
  for (Done& done : early) get(std::move(done));
}

LagMonitor::~LagMonitor() = default;

void LagMonitor::shutdown(std::function<void()> on_closed) {
  stop_waiting_for_connect();
  close_handle(reinterpret_cast<uv_handle_t*>(&connect_wait_), nullptr);
  // Look-ups only: nothing to finish. A graceful disconnect would wait for
  // the replies of a Redis that may never answer (stopped, half-open).
  redis_->shutdown(std::move(on_closed));
  redis_->close_now();
}

std::vector<StreamLag> sum_shards(const StreamShards& layout, std::vector<StreamLag> physical) {
  if (layout.count() == 1) return physical;
  size_t n = static_cast<size_t>(layout.count());
  std::vector<StreamLag> logical(layout.logical().size());
  for (size_t l = 0; l < logical.size(); ++l) {
    StreamLag& sum = logical[l];
    sum.name = layout.logical()[l];
    sum.lag = 0;
    for (size_t k = 0; k < n; ++k) {
      StreamLag& shard = physical[l * n + k];
      if (shard.failed && !sum.failed) {
        sum.failed = true;
        sum.error = shard.name + ": " + shard.error;
      }
      if (!shard.lag && sum.lag) {
        sum.lag.reset();
        sum.lag_unknown_reason = shard.name + ": " + shard.lag_unknown_reason;
      }
      if (sum.lag) *sum.lag += *shard.lag;
      for (const std::string& c : shard.consumers) {
        if (std::find(sum.consumers.begin(), sum.consumers.end(), c) == sum.consumers.end())
          sum.consumers.push_back(c);
      }
      sum.length += shard.length;
      sum.groups = std::max(sum.groups, shard.groups);
      sum.group_exists = sum.group_exists || shard.group_exists;
      sum.trimmed_unread = sum.trimmed_unread || shard.trimmed_unread;
      sum.shards.push_back(std::move(shard));
    }
    if (sum.failed) {
      sum.lag.reset();
      sum.lag_unknown_reason.clear();
    }
  }
  return logical;
}

void LagMonitor::get(Done done) {
  if (waiting_for_connect_) {
    early_.push_back(std::move(done));
    return;
  }
  uint64_t now = uv_now(loop_);
  if (cached_ && now - cached_at_ < cache_ms_) {
    done(*cached_);
    return;
  }
  if (in_flight_ != nullptr) {
    in_flight_->waiting.push_back(std::move(done));
    return;
  }
  ++rounds_;
  auto* round = new Round{this, {}, 0, {}, {}};
  round->waiting.push_back(std::move(done));
  round->snapshot.redis_connected = redis_->ready_connections() > 0;
  round->snapshot.streams.resize(streams_.size());
  in_flight_ = round;
  round->pending = static_cast<int>(streams_.size()) * 3;
  for (size_t i = 0; i < streams_.size(); ++i) {
    round->snapshot.streams[i].name = streams_[i];
    for (Kind kind : {Kind::kStream, Kind::kGroups, Kind::kConsumers}) {
      round->replies.push_back(std::make_unique<Reply>(Reply{round, i, kind}));
      const std::string& s = streams_[i];
      if (kind == Kind::kStream) {
        const char* argv[] = {"XINFO", "STREAM", s.c_str()};
        size_t lens[] = {5, 6, s.size()};
        redis_->command(3, argv, lens, timeout_ms_, on_reply, round->replies.back().get());
      } else if (kind == Kind::kGroups) {
        const char* argv[] = {"XINFO", "GROUPS", s.c_str()};
        size_t lens[] = {5, 6, s.size()};
        redis_->command(3, argv, lens, timeout_ms_, on_reply, round->replies.back().get());
      } else {
        const char* argv[] = {"XINFO", "CONSUMERS", s.c_str(), group_.c_str()};
        size_t lens[] = {5, 9, s.size(), group_.size()};
        redis_->command(4, argv, lens, timeout_ms_, on_reply, round->replies.back().get());
      }
    }
  }
}

void LagMonitor::on_reply(void* data, const RedisResult& result) {
  auto* reply = static_cast<Reply*>(data);
  Round* round = reply->round;
  LagMonitor* self = round->monitor;
  StreamLag& s = round->snapshot.streams[reply->stream];
  const redisReply* r = result.reply;
  if (result.status == RedisStatus::kErrorReply && missing_key(result.error)) {
    // NOGROUP or no such stream: nothing to consume, lag 0.
  } else if (result.status != RedisStatus::kOk) {
    if (!s.failed) {
      s.failed = true;
      s.error = result.status == RedisStatus::kErrorReply
                    ? std::string(result.error)
                    : "redis " + std::string(redis_status_name(result.status));
    }
  } else if (reply->kind == Kind::kStream) {
    XinfoStream info = parse_xinfo_stream(r);
    s.length = info.length;
    s.groups = info.groups;
    s.max_deleted_id = std::move(info.max_deleted_id);
  } else if (reply->kind == Kind::kGroups) {
    XinfoGroup group = parse_xinfo_group(r, self->group_);
    if (group.found) {
      s.group_exists = true;
      s.last_delivered_id = std::move(group.last_delivered_id);
      if (group.lag) {
        s.lag = *group.lag;
      } else {
        s.lag_unknown_reason =
            "Redis reports no lag for this group (entries deleted inside its unread range, or the "
            "group "
            "was created at an arbitrary id)";
      }
    }
  } else {
    s.consumers = parse_xinfo_consumers(r);
  }
  if (--round->pending == 0) self->finish(round);
}

void LagMonitor::finish(Round* round) {
  std::unique_ptr<Round> owned(round);
  in_flight_ = nullptr;
  for (StreamLag& s : round->snapshot.streams) {
    if (s.failed) {
      s.lag.reset();
      s.lag_unknown_reason.clear();
      continue;
    }
    if (!s.group_exists) {
      s.lag = 0;  // no group yet: the document's NOGROUP rule
      s.lag_unknown_reason.clear();
    }
    if (s.group_exists) s.trimmed_unread = trimmed_unread(s.last_delivered_id, s.max_deleted_id);
  }
  round->snapshot.redis_connected =
      round->snapshot.redis_connected || redis_->ready_connections() > 0;
  if (!round->snapshot.redis_connected) {
    round->snapshot.redis_error =
        redis_->last_error().empty() ? "not connected yet" : redis_->last_error();
  }
  round->snapshot.streams = sum_shards(layout_, std::move(round->snapshot.streams));
  cached_ = round->snapshot;
  cached_at_ = uv_now(loop_);
  for (Done& done : round->waiting) done(*cached_);
}

}  // namespace streamshift
