// Commands routed by slot over a Redis Cluster; see redis_cluster_client.h.
#include "core/redis_cluster_client.h"

#include <algorithm>
#include <utility>

#include "core/completion.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/redis_cluster_redirect.h"
#include "core/redis_command_keys.h"
#include "core/redis_key_slot.h"

namespace streamshift {
namespace {

constexpr uint64_t kRetryFirstMs = 20;
constexpr uint64_t kRetryMaxMs = 200;
constexpr int kKeyless = -1;

// Every argument of a record is valid until its callback: the node client
// may reference them all rather than copy them again.
uint64_t all_borrowed(int argc) {
  return argc >= 64 ? ~uint64_t{0} : (uint64_t{1} << argc) - 1;
}

uint64_t backoff_ms(int retries) {
  return std::min(kRetryMaxMs, kRetryFirstMs << std::min(retries, 4));
}

}  // namespace

struct RedisClusterClient::Request {
  RedisClusterClient* owner = nullptr;
  RedisCallback callback = nullptr;
  void* data = nullptr;
  uint64_t deadline = 0;
  int slot = kKeyless;  // kKeyless: any primary
  int argc = 0;
  uint8_t replicas = 0;
  int redirects = 0;
  int retries = 0;
  Node* at = nullptr;       // the node sent to last (alive while the send is)
  Request* next = nullptr;  // behind it in its slot's Wait
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  std::string copies;  // the arguments not borrowed, end to end
};

RedisClusterClient::RedisClusterClient(uv_loop_t* loop, RedisOptions options)
    : loop_(loop), options_(std::move(options)), route_(kRedisClusterSlots, nullptr) {
  RedisOptions seeds = options_;
  seeds.name = options_.name + "-seeds";
  seeds.hosts = options_.endpoint.cluster_seeds;
  seeds.endpoint.cluster_seeds.clear();
  seeds.endpoint.host.clear();
  seeds.connections = 1;
  seeds.on_push = nullptr;
  seeds.primary_status = nullptr;
  seeds.on_ready_change = [this](int delta) {
    if (delta > 0) request_refresh();
  };
  seeds_ = std::make_unique<RedisClient>(loop, std::move(seeds));
  for (uv_timer_t* t : {&retry_timer_, &refresh_timer_}) {
    uv_timer_init(loop, t);
    t->data = this;
  }
  open_parts_ = 3;  // the seed client and the two timers
}

RedisClusterClient::~RedisClusterClient() {
  if (open_parts_ > 0) {
    log_line(LogLevel::kError, "redis cluster client destroyed before it was shut down",
             {{"client", options_.name}});
  }
  for (Request* r : take_waiting()) delete r;
}

void RedisClusterClient::start() {
  if (started_) return;
  started_ = true;
  if (options_.primary_status) options_.primary_status->watching();
  seeds_->start();
  schedule_refresh(kSeedRefreshMs);
}

// --- commands ---------------------------------------------------------------

void RedisClusterClient::command(const RedisCommandArgs& args, uint64_t timeout_ms,
                                 RedisCallback callback, void* data) {
  if (shutting_down_ || !map_) {
    RedisResult refused;
    refused.status = RedisStatus::kNotConnected;
    callback(data, refused);
    return;
  }
  auto* r = new Request;
  r->owner = this;
  r->callback = callback;
  r->data = data;
  r->deadline = uv_now(loop_) + timeout_ms;
  r->argc = args.argc;
  r->replicas = args.replicas;
  std::optional<std::string_view> key = redis_command_key(args.argc, args.argv, args.lens);
  if (key) r->slot = redis_key_slot(*key);
  size_t copied = 0;
  auto borrowed = [&](int i) { return i < 64 && (args.borrowed >> i & 1) != 0; };
  for (int i = 0; i < args.argc; ++i) copied += borrowed(i) ? 0 : args.lens[i];
  r->copies.reserve(copied);  // no reallocation below: argv points into it
  r->argv.resize(static_cast<size_t>(args.argc));
  r->lens.assign(args.lens, args.lens + args.argc);
  for (int i = 0; i < args.argc; ++i) {
    if (borrowed(i)) {
      r->argv[i] = args.argv[i];
    } else {
      r->argv[i] = r->copies.data() + r->copies.size();
      r->copies.append(args.argv[i], args.lens[i]);
    }
  }
  if (!waits_.empty()) {  // its slot's waiters go first
    auto it = waits_.find(r->slot);
    if (it != waits_.end()) return wait_behind(it->second, r);
  }
  dispatch(r);
}

RedisClusterClient::Node* RedisClusterClient::route(const Request& r) {
  if (r.slot != kKeyless) return route_[static_cast<size_t>(r.slot)];
  Node* any = nullptr;
  for (const auto& n : nodes_) {
    if (!n->serves) continue;
    if (n->client->ready_connections() > 0) return n.get();
    if (any == nullptr) any = n.get();
  }
  return any;
}

void RedisClusterClient::dispatch(Request* r) {
  const uint64_t now = uv_now(loop_);
  if (shutting_down_) return finish(r, RedisStatus::kNotConnected);
  if (now >= r->deadline) return finish(r, RedisStatus::kTimeout);
  Node* node = route(*r);
  if (node == nullptr) {  // the slot is served by no primary we know
    request_refresh();
    return retry_later(r);
  }
  send(r, node, false);
}

void RedisClusterClient::send(Request* r, Node* node, bool asking) {
  const uint64_t now = uv_now(loop_);
  if (now >= r->deadline) return finish(r, RedisStatus::kTimeout);
  RedisCommandArgs args{r->argc,     r->argv.data(), r->lens.data(), all_borrowed(r->argc),
                        r->replicas, asking};
  r->at = node;
  ++node->in_flight;
  node->client->command(args, r->deadline - now, on_node_reply, r);
}

void RedisClusterClient::on_node_reply(void* data, const RedisResult& result) {
  auto* r = static_cast<Request*>(data);
  RedisClusterClient* self = r->owner;
  --r->at->in_flight;
  switch (result.status) {
    case RedisStatus::kErrorReply:
      self->redirected(r, result);
      return;
    case RedisStatus::kNotConnected:
      // Never sent: the node is down or failing over. The map may say where
      // its slots are now, by the time the backoff ends.
      self->request_refresh();
      self->retry_later(r, result.status);
      return;
    case RedisStatus::kConnectionLost:
      // It may have run: the caller decides (standalone answers the same).
      self->request_refresh();
      self->finish(r, result);
      return;
    default:
      self->finish(r, result);
  }
}

void RedisClusterClient::redirected(Request* r, const RedisResult& result) {
  RedisClusterReply c = classify_redis_cluster_error(result.error, r->at->address);
  switch (redis_cluster_action(c.error)) {
    case RedisClusterAction::kReturn:
    case RedisClusterAction::kFail:
      return finish(r, result);
    case RedisClusterAction::kRedirect:
      count(RedisClusterEvent::kMoved, moved_);
      if (++r->redirects > kMaxRedirects) return finish(r, result);
      map_->move(c.slot, c.target);
      route_[c.slot] = node_at(c.target, true);
      request_refresh();  // a MOVED seldom comes alone: a reshard or a failover
      if (route_[c.slot] == nullptr) return dispatch(r);  // shutting down
      route_[c.slot]->serves = true;
      // There, whatever slot our key table made of the command.
      return send(r, route_[c.slot], false);
    case RedisClusterAction::kAsking: {
      count(RedisClusterEvent::kAsk, asked_);
      if (++r->redirects > kMaxRedirects) return finish(r, result);
      Node* target = node_at(c.target, true);
      if (target == nullptr) return dispatch(r);  // shutting down
      target->asked_until = uv_now(loop_) + kClusterRefreshMs;
      return send(r, target, true);  // ASK holds for one send
    }
    case RedisClusterAction::kRefreshTopology:
      request_refresh();
      return retry_later(r);
    case RedisClusterAction::kRetryLater:
      return retry_later(r);
  }
}

void RedisClusterClient::count(RedisClusterEvent event, uint64_t& counter) {
  ++counter;
  if (options_.primary_status) options_.primary_status->cluster_event(event);
}

void RedisClusterClient::retry_later(Request* r, RedisStatus status) {
  if (shutting_down_) return finish(r, status);
  const uint64_t now = uv_now(loop_);
  if (now >= r->deadline) return finish(r, RedisStatus::kTimeout);
  count(RedisClusterEvent::kRetry, retries_);
  const uint64_t delay = backoff_ms(r->retries++);
  auto [it, fresh] = waits_.try_emplace(r->slot);
  Wait& w = it->second;
  if (r == resending_) {  // refused again as it was resent: still first
    r->next = w.head;
    w.head = r;
    if (w.tail == nullptr) w.tail = r;
    w.due = now + delay;
  } else {
    if (fresh) w.due = now + delay;
    append(w, r);
  }
  arm_retry_timer(std::min(w.due, r->deadline));
}

void RedisClusterClient::wait_behind(Wait& w, Request* r) {
  append(w, r);
  arm_retry_timer(std::min(w.due, r->deadline));
}

void RedisClusterClient::append(Wait& w, Request* r) {
  r->next = nullptr;
  if (w.tail != nullptr) {
    w.tail->next = r;
  } else {
    w.head = r;
  }
  w.tail = r;
}

void RedisClusterClient::arm_retry_timer(uint64_t due) {
  if (shutting_down_) return;
  if (uv_is_active(reinterpret_cast<uv_handle_t*>(&retry_timer_)) && retry_due_ <= due) return;
  const uint64_t now = uv_now(loop_);
  retry_due_ = due;
  uv_timer_start(&retry_timer_, on_retry_timer, due > now ? due - now : 0, 0);
}

void RedisClusterClient::on_retry_timer(uv_timer_t* timer) {
  auto* self = static_cast<RedisClusterClient*>(timer->data);
  self->closed_.clear();  // node clients closed since: nothing refers to them now
  self->resend_due();
}

void RedisClusterClient::resend_due() {
  const uint64_t now = uv_now(loop_);
  // Waiters past their deadline leave their slot's line (the others keep
  // their order), answered once the lines are consistent again: the
  // callbacks may send commands.
  std::vector<Request*> expired;
  std::vector<int> due;
  for (auto it = waits_.begin(); it != waits_.end();) {
    Wait& w = it->second;
    Request** link = &w.head;
    w.tail = nullptr;
    while (*link != nullptr) {
      Request* r = *link;
      if (r->deadline <= now) {
        *link = r->next;
        expired.push_back(r);
      } else {
        w.tail = r;
        link = &r->next;
      }
    }
    if (w.head == nullptr) {
      it = waits_.erase(it);
      continue;
    }
    if (w.due <= now) due.push_back(it->first);
    ++it;
  }
  for (Request* r : expired) finish(r, RedisStatus::kTimeout);
  // Each due slot's waiters, oldest first, until one has to wait again.
  for (int slot : due) {
    for (;;) {
      auto it = waits_.find(slot);
      if (it == waits_.end() || it->second.due > now) break;
      Request* r = it->second.head;
      it->second.head = r->next;
      r->next = nullptr;
      if (it->second.head == nullptr) waits_.erase(it);
      resending_ = r;
      dispatch(r);
      resending_ = nullptr;
    }
  }
  uint64_t next = 0;
  for (const auto& [slot, w] : waits_) {
    uint64_t at = w.due;
    for (const Request* r = w.head; r != nullptr; r = r->next) at = std::min(at, r->deadline);
    next = next == 0 ? at : std::min(next, at);
  }
  if (next != 0) arm_retry_timer(next);
}

std::vector<RedisClusterClient::Request*> RedisClusterClient::take_waiting() {
  std::vector<Request*> all;
  for (auto& [slot, w] : waits_) {
    for (Request* r = w.head; r != nullptr; r = r->next) all.push_back(r);
  }
  waits_.clear();
  return all;
}

void RedisClusterClient::finish(Request* r, const RedisResult& result) {
  if (r == resending_) resending_ = nullptr;  // its address may be reused at once
  complete_once(r->callback, r->data, result);
  delete r;
}

void RedisClusterClient::finish(Request* r, RedisStatus status) {
  RedisResult result;
  result.status = status;
  finish(r, result);
}

// --- nodes --------------------------------------------------------------------

RedisClusterClient::Node* RedisClusterClient::node_at(const RedisHost& address, bool create) {
  for (const auto& n : nodes_) {
    if (n->address == address) return n.get();
  }
  if (!create || shutting_down_) return nullptr;
  auto node = std::make_unique<Node>();
  node->address = address;
  RedisOptions o = options_;
  o.endpoint.cluster_seeds.clear();
  o.endpoint.host = address.host;
  o.endpoint.port = address.port;
  o.endpoint.db = 0;
  o.hosts.clear();
  o.primary_status = nullptr;  // one per cluster client: told below
  o.on_ready_change = [this](int delta) {
    if (options_.on_ready_change) options_.on_ready_change(delta);
    if (options_.primary_status) options_.primary_status->ready_change(delta);
    if (delta < 0) request_refresh();
  };
  node->client = std::make_unique<RedisClient>(loop_, std::move(o));
  node->client->start();
  ++open_parts_;
  nodes_.push_back(std::move(node));
  return nodes_.back().get();
}

void RedisClusterClient::retire(Node* node) {
  auto it = std::find_if(nodes_.begin(), nodes_.end(),
                         [&](const std::unique_ptr<Node>& n) { return n.get() == node; });
  closing_.push_back(std::move(*it));
  nodes_.erase(it);
  if (!shutting_down_) {
    log_line(LogLevel::kInfo, "redis cluster: a node serves no slot any more, disconnecting",
             {{"client", options_.name}, {"address", redis_host_text(node->address)}});
  }
  node->client->shutdown([this, node] { node_closed(node); });
}

void RedisClusterClient::node_closed(Node* node) {
  auto it = std::find_if(closing_.begin(), closing_.end(),
                         [&](const std::unique_ptr<Node>& n) { return n.get() == node; });
  closed_connects_ += node->client->connects();
  // Freed later: this runs inside the node client's own close path.
  closed_.push_back(std::move(*it));
  closing_.erase(it);
  if (!shutting_down_) arm_retry_timer(uv_now(loop_));
  part_closed();
}

void RedisClusterClient::part_closed() {
  if (--open_parts_ == 0) complete_all(on_closed_);
}

// --- topology ---------------------------------------------------------------

void RedisClusterClient::request_refresh() {
  if (shutting_down_) return;
  if (refresh_in_flight_) {
    refresh_again_ = true;
    return;
  }
  const uint64_t now = uv_now(loop_);
  const uint64_t earliest = refreshed_ ? last_refresh_ + kMinRefreshGapMs : now;
  schedule_refresh(earliest > now ? earliest - now : 0);
}

void RedisClusterClient::schedule_refresh(uint64_t in_ms) {
  if (shutting_down_) return;
  if (uv_is_active(reinterpret_cast<uv_handle_t*>(&refresh_timer_)) &&
      uv_timer_get_due_in(&refresh_timer_) <= in_ms)
    return;
  uv_timer_start(&refresh_timer_, on_refresh_timer, in_ms, 0);
}

void RedisClusterClient::on_refresh_timer(uv_timer_t* timer) {
  static_cast<RedisClusterClient*>(timer->data)->refresh_now();
}

void RedisClusterClient::refresh_now() {
  if (shutting_down_ || refresh_in_flight_) return;
  RedisCommands* asked = nullptr;
  for (const auto& n : nodes_) {
    if (n->serves && n->client->ready_connections() > 0) {
      asked = n->client.get();
      refresh_asked_ = n->address;
      break;
    }
  }
  if (asked == nullptr && seeds_->ready_connections() > 0) {
    asked = seeds_.get();
    // Which seed answers is the seed client's business; a node listed
    // without an endpoint (rare: unknown-endpoint) is taken as the first.
    refresh_asked_ = options_.endpoint.cluster_seeds.front();
  }
  if (asked == nullptr) {  // the seed client and the nodes retry on their own
    schedule_refresh(map_ ? kMinRefreshGapMs * 5 : kSeedRefreshMs);
    return;
  }
  refreshed_ = true;
  refresh_in_flight_ = true;
  last_refresh_ = uv_now(loop_);
  static const char* const kArgv[] = {"CLUSTER", "SLOTS"};
  static const size_t kLens[] = {7, 5};
  asked->command(RedisCommandArgs{2, kArgv, kLens}, options_.connect_timeout_ms, on_slots, this);
}

void RedisClusterClient::on_slots(void* data, const RedisResult& result) {
  auto* self = static_cast<RedisClusterClient*>(data);
  self->refresh_in_flight_ = false;
  if (self->shutting_down_) return;
  std::string why;
  if (result.status == RedisStatus::kOk) {
    std::optional<RedisClusterSlots> map =
        RedisClusterSlots::parse(result.reply, self->refresh_asked_, &why);
    if (map) {
      self->count(RedisClusterEvent::kTopologyRefresh, self->refreshes_);
      self->topology_error_.clear();
      self->apply(std::move(*map));
    }
  } else {
    why = result.status == RedisStatus::kErrorReply ? std::string(result.error)
                                                    : std::string(redis_status_name(result.status));
  }
  if (!why.empty()) {
    if (why != self->topology_error_) {
      log_line(LogLevel::kWarn, "redis cluster: CLUSTER SLOTS failed",
               {{"client", self->options_.name},
                {"asked", redis_host_text(self->refresh_asked_)},
                {"error", why}});
    }
    self->topology_error_ = std::move(why);
  }
  if (std::exchange(self->refresh_again_, false)) {
    self->request_refresh();
  } else {
    self->schedule_refresh(self->map_ ? kClusterRefreshMs : kSeedRefreshMs);
  }
}

void RedisClusterClient::apply(RedisClusterSlots map) {
  map_ = std::move(map);
  for (const auto& n : nodes_) n->serves = false;
  const std::vector<RedisClusterShard>& shards = map_->shards();
  std::vector<Node*> node_of(shards.size(), nullptr);
  for (size_t i = 0; i < shards.size(); ++i) {
    if (shards[i].slots == 0) continue;
    node_of[i] = node_at(shards[i].primary.address, true);
    node_of[i]->serves = true;
  }
  for (size_t slot = 0; slot < kRedisClusterSlots; ++slot) {
    const RedisClusterShard* s = map_->shard_of(static_cast<uint16_t>(slot));
    route_[slot] = s == nullptr ? nullptr : node_of[static_cast<size_t>(s - shards.data())];
  }
  std::vector<Node*> idle;
  const uint64_t now = uv_now(loop_);
  for (const auto& n : nodes_) {
    // Not one still answering, nor an ASK target of a migration going on.
    if (!n->serves && n->in_flight == 0 && now >= n->asked_until) idle.push_back(n.get());
  }
  for (Node* n : idle) retire(n);
}

// --- state --------------------------------------------------------------------

size_t RedisClusterClient::ready_connections() const {
  size_t n = 0;
  for (const auto& node : nodes_) n += node->serves ? node->client->ready_connections() : 0;
  return n;
}

const std::string& RedisClusterClient::last_error() const {
  last_error_.clear();
  if (!map_) {
    if (seeds_->ready_connections() == 0 && !seeds_->last_error().empty()) {
      last_error_ = "no seed reachable: " + seeds_->last_error();
    } else {
      last_error_ =
          "no slot map yet" + (topology_error_.empty() ? std::string() : ": " + topology_error_);
    }
    return last_error_;
  }
  std::string uncovered = map_->uncovered_text();
  if (!uncovered.empty()) {
    last_error_ = "slots not covered: " + uncovered;
    return last_error_;
  }
  for (const auto& n : nodes_) {
    if (n->serves && n->client->ready_connections() == 0) {
      last_error_ =
          redis_host_text(n->address) + ": " +
          (n->client->last_error().empty() ? std::string("connecting") : n->client->last_error());
      break;
    }
  }
  return last_error_;
}

uint64_t RedisClusterClient::connects() const {
  uint64_t n = closed_connects_ + seeds_->connects();
  for (const auto& node : nodes_) n += node->client->connects();
  for (const auto& node : closing_) n += node->client->connects();
  return n;
}

void RedisClusterClient::shutdown(std::function<void()> on_closed) {
  if (!begin_shutdown(shutting_down_, open_parts_, on_closed_, std::move(on_closed))) return;
  for (Request* r : take_waiting()) finish(r, RedisStatus::kNotConnected);
  for (uv_timer_t* t : {&retry_timer_, &refresh_timer_}) {
    close_handle(reinterpret_cast<uv_handle_t*>(t),
                 [](uv_handle_t* h) { static_cast<RedisClusterClient*>(h->data)->part_closed(); });
  }
  seeds_->shutdown([this] { part_closed(); });
  std::vector<Node*> live;
  for (const auto& n : nodes_) live.push_back(n.get());
  for (Node* n : live) retire(n);
}

void RedisClusterClient::close_now() {
  if (!shutting_down_) shutdown(nullptr);
  seeds_->close_now();
  std::vector<RedisClient*> closing;
  for (const auto& n : closing_) closing.push_back(n->client.get());
  for (RedisClient* c : closing) c->close_now();
}

}  // namespace streamshift
