// Redis Cluster for tests; see redis_cluster.h.
//
// Why a failover is fast here (about 2-3 s from a SIGKILL on a loaded 2-core
// machine):
// - cluster-node-timeout 1000: a primary silent for a second is suspected
//   (PFAIL) by each node, and failed (FAIL) as soon as a majority of the
//   primaries reported it in their gossip; its replica then waits 0.5-1 s
//   (plus a second per better-ranked sibling: there are none here) and asks
//   the primaries for their votes.
// - cluster-replica-validity-factor 0: a replica takes over however long it
//   has not heard from its primary. With the default (10) a replica of an
//   idle primary, which pings it only every 10 s, could refuse.
// - repl-diskless-sync-delay 0: a replica's first full sync starts at once
//   instead of after redis' default 5 s, so the set settles sooner.
#include "tests/support/redis_cluster.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <sstream>

#include "tests/support/eventually.h"
#include "tests/support/net.h"
#include "tests/support/process.h"

namespace streamshift::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kRedisServer = "/usr/bin/redis-server";
constexpr const char* kRedisCli = "/usr/bin/redis-cli";
// Short: a node that does not answer at once is asked again next poll.
constexpr milliseconds kPollTimeout(500);
// Generous: the machine is shared; settling takes 1-3 s.
constexpr milliseconds kSettleTimeout(30000);
constexpr milliseconds kCliTimeout(60000);
// A settled() check opens about 15 connections: polled at most this often.
constexpr milliseconds kSettlePace(20);

uint16_t crc16(std::string_view data) {
  uint32_t crc = 0;
  for (unsigned char c : data) {
    crc ^= static_cast<uint32_t>(c) << 8;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1;
  }
  return static_cast<uint16_t>(crc & 0xFFFF);
}

std::string_view hash_tag(std::string_view key) {
  size_t open = key.find('{');
  if (open == std::string_view::npos) return key;
  size_t close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

std::vector<std::string> node_args(uint16_t bus_port) {
  return {"--cluster-enabled",
          "yes",
          "--cluster-config-file",
          "nodes.conf",  // in the node's own --dir
          "--cluster-node-timeout",
          std::to_string(RedisClusterSet::kNodeTimeoutMs),
          "--cluster-port",
          std::to_string(bus_port),
          "--cluster-replica-validity-factor",
          "0",
          "--repl-diskless-sync-delay",
          "0"};
}

/// `redis-cli --cluster <args>`; false (and a test failure showing its
/// output) unless it exits 0.
bool run_cluster_cli(const std::vector<std::string>& args, const std::string& what) {
  std::vector<std::string> argv = {kRedisCli, "--cluster"};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess cli(argv, {});
  int rc = cli.wait(kCliTimeout);
  if (rc == 0) return true;
  ADD_FAILURE() << what << ": redis-cli --cluster " << args.at(0)
                << (rc == -1 ? " did not finish within 60 s" : " exited with " + std::to_string(rc))
                << ":\n"
                << cli.output();
  return false;
}

/// True at most once per kSettlePace.
class Pace {
 public:
  bool due() {
    Clock::time_point now = Clock::now();
    if (now < next_) return false;
    next_ = now + kSettlePace;
    return true;
  }

 private:
  Clock::time_point next_{};
};

milliseconds since(Clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - t);
}

std::string first_line(const std::string& s) {
  return s.substr(0, s.find_first_of("\r\n"));
}

}  // namespace

uint16_t slot_of(std::string_view key) {
  return crc16(hash_tag(key)) % kClusterSlots;
}

std::string key_in_slots(uint16_t first, uint16_t last, std::string_view prefix) {
  // Tags "0", "1", ... reach every slot within about 200 000 (CRC16 spreads
  // them evenly); a tag is a few bytes, so even one slot takes about a
  // millisecond.
  char tag[16];
  for (uint32_t n = 0; n < 10000000; ++n) {
    std::string_view t(tag, static_cast<size_t>(std::to_chars(tag, tag + sizeof tag, n).ptr - tag));
    uint16_t slot = crc16(t) % kClusterSlots;
    if (first <= slot && slot <= last) return std::string(prefix) + "{" + std::string(t) + "}";
  }
  return "";  // not reached: every slot has a tag below that
}

std::string key_in_slot(uint16_t slot, std::string_view prefix) {
  return key_in_slots(slot, slot, prefix);
}

std::string cluster_url(const std::vector<uint16_t>& ports, std::string_view scheme) {
  std::string url(scheme);
  url += "://";
  for (size_t i = 0; i < ports.size(); ++i) {
    if (i > 0) url += ",";
    url += "127.0.0.1:" + std::to_string(ports[i]);
  }
  return url;
}

std::vector<ClusterNodeView> parse_cluster_nodes(std::string_view text) {
  // <id> <ip:port@bus[,hostname]> <flags> <primary id|-> <ping> <pong> <epoch> <link> <slots>...
  std::vector<ClusterNodeView> out;
  std::istringstream lines{std::string(text)};
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string addr, flags, primary, ping, pong, epoch, link;
    ClusterNodeView v;
    if (!(fields >> v.id >> addr >> flags >> primary >> ping >> pong >> epoch >> link)) continue;
    size_t colon = addr.rfind(':', addr.find('@'));
    if (colon == std::string::npos) continue;
    v.port = static_cast<uint16_t>(std::strtoul(addr.c_str() + colon + 1, nullptr, 10));
    std::istringstream flag_list(flags);
    for (std::string flag; std::getline(flag_list, flag, ',');) {
      v.primary = v.primary || flag == "master";
      v.failing = v.failing || flag == "fail" || flag == "fail?" || flag == "noaddr";
    }
    if (primary != "-") v.primary_id = primary;
    for (std::string range; fields >> range;) {
      if (range.front() == '[') continue;  // [slot->-id] migrating, [slot-<-id] importing
      size_t dash = range.find('-');
      auto first = static_cast<uint16_t>(std::strtoul(range.c_str(), nullptr, 10));
      auto last = dash == std::string::npos
                      ? first
                      : static_cast<uint16_t>(std::strtoul(range.c_str() + dash + 1, nullptr, 10));
      v.slots.emplace_back(first, last);
    }
    out.push_back(std::move(v));
  }
  return out;
}

RedisClusterSet::RedisClusterSet(ClusterShape shape) {
  if (access(kRedisServer, X_OK) != 0 || access(kRedisCli, X_OK) != 0) {
    ADD_FAILURE() << "Redis Cluster tests need redis-server and redis-cli: install Debian's "
                     "redis-server and redis-tools (scripts/setup-deps.sh)";
    return;
  }
  if (shape.primaries == 0) {
    ADD_FAILURE() << "a cluster needs a primary";
    return;
  }
  for (size_t i = 0; i < shape.nodes(); ++i) {
    // The bus port is in the arguments, so a node that cannot bind it exits
    // and RedisServer's own retries (fresh client ports) would not help.
    std::unique_ptr<RedisServer> node;
    uint16_t bus_port = 0;
    for (int attempt = 0; attempt < 3 && !(node && node->ready()); ++attempt) {
      bus_port = free_port();
      node = std::make_unique<RedisServer>(node_args(bus_port));
    }
    if (!node->ready()) {
      ADD_FAILURE() << "cluster node " << i << " did not start";
      return;
    }
    ids_.push_back(node->command({"CLUSTER", "MYID"}).str);
    nodes_.push_back(std::move(node));
    bus_ports_.push_back(bus_port);
    live_.push_back(true);
  }
  if (shape.primaries < 3) {
    if (!join_by_hand(shape)) return;
  } else {
    std::vector<std::string> create = {"create"};
    for (uint16_t port : ports()) create.push_back("127.0.0.1:" + std::to_string(port));
    create.insert(create.end(), {"--cluster-replicas", std::to_string(shape.replicas_per_primary),
                                 "--cluster-yes"});
    if (!run_cluster_cli(create, "creating the cluster")) return;
  }
  ready_ = wait_settled(kSettleTimeout, "the new cluster");
}

bool RedisClusterSet::join_by_hand(const ClusterShape& shape) {
  auto expect_ok = [&](size_t i, const std::vector<std::string>& args) {
    RedisValue r = nodes_[i]->command(args);
    if (r.str == "OK") return true;
    ADD_FAILURE() << args[0] << " " << args[1] << " on " << name(i) << " answered " << r.str;
    return false;
  };
  for (size_t p = 0; p < shape.primaries; ++p) {
    const size_t first = p * kClusterSlots / shape.primaries;
    const size_t last = (p + 1) * kClusterSlots / shape.primaries - 1;
    // Distinct epochs, as redis-cli sets them: no collision to resolve.
    if (!expect_ok(p, {"CLUSTER", "SET-CONFIG-EPOCH", std::to_string(p + 1)}) ||
        !expect_ok(p, {"CLUSTER", "ADDSLOTSRANGE", std::to_string(first), std::to_string(last)}))
      return false;
  }
  for (size_t i = 1; i < nodes_.size(); ++i) {
    if (!expect_ok(i, {"CLUSTER", "MEET", "127.0.0.1", std::to_string(nodes_[0]->port()),
                       std::to_string(bus_ports_[0])}))
      return false;
  }
  const std::string known = "cluster_known_nodes:" + std::to_string(nodes_.size());
  for (size_t i = shape.primaries; i < nodes_.size(); ++i) {
    // A replica can follow only a primary it knows.
    auto met = eventually(
        [&] {
          return nodes_[i]->command({"CLUSTER", "INFO"}, kPollTimeout).str.find(known) !=
                 std::string::npos;
        },
        kSettleTimeout, name(i) + " knowing every node");
    if (!met) {
      ADD_FAILURE() << met.message();
      return false;
    }
    if (!expect_ok(i, {"CLUSTER", "REPLICATE", ids_[(i - shape.primaries) % shape.primaries]}))
      return false;
  }
  return true;
}

std::vector<StreamEntryView> RedisClusterSet::read_stream(const std::string& stream) const {
  size_t owner = node_for_slot(slot_of(stream));
  if (owner == kNone) {
    ADD_FAILURE() << "no node owns " << stream << "'s slot " << slot_of(stream);
    return {};
  }
  return streamshift::testing::read_stream(*nodes_[owner], stream);
}

RedisClusterSet::~RedisClusterSet() = default;

std::vector<uint16_t> RedisClusterSet::ports() const {
  std::vector<uint16_t> out;
  for (const auto& n : nodes_) out.push_back(n->port());
  return out;
}

std::string RedisClusterSet::seed_url(std::string_view scheme) const {
  return cluster_url(ports(), scheme);
}

size_t RedisClusterSet::first_live() const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (live(i)) return i;
  }
  return kNone;
}

size_t RedisClusterSet::node_at(uint16_t port) const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i]->port() == port) return i;
  }
  return kNone;
}

size_t RedisClusterSet::node_with_id(const std::string& id) const {
  auto it = std::find(ids_.begin(), ids_.end(), id);
  return it == ids_.end() ? kNone : static_cast<size_t>(it - ids_.begin());
}

std::string RedisClusterSet::name(size_t i) const {
  if (i == kNone) return "an unknown node";
  return "node " + std::to_string(i) + " (port " + std::to_string(nodes_.at(i)->port()) + ")";
}

std::vector<ClusterNodeView> RedisClusterSet::topology() const {
  size_t asked = first_live();
  if (asked == kNone) return {};
  return parse_cluster_nodes(nodes_[asked]->command({"CLUSTER", "NODES"}, kPollTimeout).str);
}

std::vector<size_t> RedisClusterSet::primaries() const {
  std::vector<std::pair<uint16_t, size_t>> by_first_slot;
  for (const ClusterNodeView& v : topology()) {
    size_t i = node_at(v.port);
    if (v.primary && !v.slots.empty() && i != kNone && live(i))
      by_first_slot.emplace_back(v.slots.front().first, i);
  }
  std::sort(by_first_slot.begin(), by_first_slot.end());
  std::vector<size_t> out;
  for (const auto& entry : by_first_slot) out.push_back(entry.second);
  return out;
}

size_t RedisClusterSet::replica_of(size_t primary) const {
  return replica_of_in(topology(), ids_.at(primary));
}

size_t RedisClusterSet::primary_of(size_t replica) const {
  for (const ClusterNodeView& v : topology()) {
    if (v.port == nodes_.at(replica)->port() && !v.primary) return node_with_id(v.primary_id);
  }
  return kNone;
}

size_t RedisClusterSet::node_for_slot(uint16_t slot) const {
  for (const ClusterNodeView& v : topology()) {
    for (auto [first, last] : v.slots) {
      if (v.primary && first <= slot && slot <= last) return node_at(v.port);
    }
  }
  return kNone;
}

RedisValue RedisClusterSet::command_asking(size_t node,
                                           const std::vector<std::string>& args) const {
  return nodes_.at(node)->commands({{"ASKING"}, args}).back();
}

std::string RedisClusterSet::role_of(size_t i) const {
  RedisValue role = nodes_.at(i)->command({"ROLE"}, kPollTimeout);
  return role.elements.empty() ? role.str : role.elements[0].str;
}

std::string RedisClusterSet::describe_live(const std::vector<ClusterNodeView>& views,
                                           std::string* why) const {
  std::vector<std::string> lines;
  for (const ClusterNodeView& v : views) {
    size_t i = node_at(v.port);
    if (i == kNone || !live(i)) continue;  // a killed node: flagged sooner or later
    if (v.failing) {
      *why = "flags " + name(i) + " as failing";
      return "";
    }
    std::string line = "node " + std::to_string(i) +
                       (v.primary ? " primary" : " replica of " + name(node_with_id(v.primary_id)));
    for (auto [first, last] : v.slots)
      line += " " + std::to_string(first) + (first == last ? "" : "-" + std::to_string(last));
    lines.push_back(std::move(line));
  }
  size_t live_nodes = static_cast<size_t>(std::count(live_.begin(), live_.end(), true));
  if (lines.size() != live_nodes) {
    *why = "lists " + std::to_string(lines.size()) + " entries for the " +
           std::to_string(live_nodes) + " live nodes";
    return "";
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

bool RedisClusterSet::settled(std::string* why) const {
  size_t first = kNone;
  std::string first_view;
  std::vector<ClusterNodeView> views;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!live(i)) continue;
    std::vector<RedisValue> r =
        nodes_[i]->commands({{"CLUSTER", "INFO"}, {"CLUSTER", "NODES"}}, kPollTimeout);
    if (r[0].str.find("cluster_state:ok") == std::string::npos) {
      *why = name(i) + " says " + first_line(r[0].str);
      return false;
    }
    views = parse_cluster_nodes(r[1].str);
    std::string view = describe_live(views, why);
    if (view.empty()) {
      *why = name(i) + " " + *why;
      return false;
    }
    if (first == kNone) {
      first = i;
      first_view = view;
    } else if (view != first_view) {
      *why = "the nodes disagree: " + name(first) + " sees\n" + first_view + name(i) + " sees\n" +
             view;
      return false;
    }
  }
  if (first == kNone) {
    *why = "every node is down";
    return false;
  }
  for (const ClusterNodeView& p : views) {
    if (!p.primary || p.slots.empty()) continue;
    size_t primary = node_at(p.port);
    if (primary == kNone || !live(primary)) {
      *why = name(primary) + " is down and still owns slots";
      return false;
    }
    size_t replica = replica_of_in(views, p.id);
    if (replica == kNone) continue;
    // Acknowledged something on this link (not everything: under load the
    // replica's offset trails by a second's writes): WAIT gets answers.
    RedisServer::ReplicaAck ack = nodes_[primary]->replica_ack(key_in_slots(
        p.slots.front().first, p.slots.front().second, RedisServer::kReplicationProbe));
    if (!ack.online || ack.acknowledged <= 0) {
      *why = name(replica) + " is not online and acknowledging for " + name(primary) + " (offset " +
             std::to_string(ack.acknowledged) + " of " + std::to_string(ack.written) + ")";
      return false;
    }
  }
  return true;
}

size_t RedisClusterSet::replica_of_in(const std::vector<ClusterNodeView>& views,
                                      const std::string& primary_id) const {
  for (const ClusterNodeView& v : views) {
    size_t i = node_at(v.port);
    if (!v.primary && v.primary_id == primary_id && i != kNone && live(i)) return i;
  }
  return kNone;
}

bool RedisClusterSet::wait_settled(milliseconds timeout, const std::string& what,
                                   const std::function<bool(std::string*)>& and_then) {
  std::string why;
  Pace pace;
  auto done =
      eventually([&] { return pace.due() && settled(&why) && (!and_then || and_then(&why)); },
                 timeout, what + " settled");
  if (!done) ADD_FAILURE() << done.message() << "; last: " << why;
  return static_cast<bool>(done);
}

bool RedisClusterSet::reshard(size_t from, size_t to, int slots) {
  bool moved = run_cluster_cli(
      {"reshard", "127.0.0.1:" + std::to_string(nodes_.at(from)->port()), "--cluster-from",
       ids_.at(from), "--cluster-to", ids_.at(to), "--cluster-slots", std::to_string(slots),
       "--cluster-yes"},
      "moving " + std::to_string(slots) + " slots from " + name(from) + " to " + name(to));
  return moved && wait_settled(kSettleTimeout, "the cluster after resharding");
}

bool RedisClusterSet::begin_migration(uint16_t slot, size_t from, size_t to) {
  const std::string s = std::to_string(slot);
  // The target first: a client sent there by ASK must find it importing.
  RedisValue importing = nodes_.at(to)->command({"CLUSTER", "SETSLOT", s, "IMPORTING", ids_[from]});
  RedisValue migrating = nodes_.at(from)->command({"CLUSTER", "SETSLOT", s, "MIGRATING", ids_[to]});
  if (importing.str != "OK" || migrating.str != "OK") {
    ADD_FAILURE() << "slot " << slot << " from " << name(from) << " to " << name(to)
                  << ": SETSLOT IMPORTING answered " << importing.str << ", MIGRATING "
                  << migrating.str;
    return false;
  }
  migrations_[slot] = {from, to};
  return true;
}

bool RedisClusterSet::migrate_keys(uint16_t slot) {
  auto it = migrations_.find(slot);
  if (it == migrations_.end()) {
    ADD_FAILURE() << "no migration of slot " << slot << " was begun";
    return false;
  }
  RedisServer& from = *nodes_.at(it->second.from);
  const std::string to_port = std::to_string(nodes_.at(it->second.to)->port());
  for (;;) {
    RedisValue keys = from.command({"CLUSTER", "GETKEYSINSLOT", std::to_string(slot), "100"});
    if (keys.type != REDIS_REPLY_ARRAY) {
      ADD_FAILURE() << "CLUSTER GETKEYSINSLOT " << slot << " answered " << keys.str;
      return false;
    }
    if (keys.elements.empty()) return true;
    std::vector<std::string> migrate = {"MIGRATE", "127.0.0.1", to_port, "", "0", "5000", "KEYS"};
    for (const RedisValue& k : keys.elements) migrate.push_back(k.str);
    RedisValue r = from.command(migrate, seconds(10));
    if (r.str != "OK") {
      ADD_FAILURE() << "MIGRATE of slot " << slot << "'s keys answered " << r.str;
      return false;
    }
  }
}

bool RedisClusterSet::finish_migration(uint16_t slot) {
  if (!migrate_keys(slot)) return false;
  const Migration m = migrations_.at(slot);
  migrations_.erase(slot);
  // The target first (it bumps its epoch and owns the slot), then the
  // source (it stops redirecting with ASK), then the other primaries, so
  // that no node has to wait for gossip.
  std::vector<size_t> order = {m.to, m.from};
  for (size_t p : primaries()) {
    if (p != m.to && p != m.from) order.push_back(p);
  }
  for (size_t n : order) {
    RedisValue r =
        nodes_[n]->command({"CLUSTER", "SETSLOT", std::to_string(slot), "NODE", ids_[m.to]});
    if (r.str != "OK") {
      ADD_FAILURE() << "CLUSTER SETSLOT " << slot << " NODE on " << name(n) << " answered "
                    << r.str;
      return false;
    }
  }
  return wait_settled(kSettleTimeout, "slot " + std::to_string(slot) + " on " + name(m.to),
                      [&](std::string* why) {
                        *why = "slot " + std::to_string(slot) + " still routed elsewhere";
                        return node_for_slot(slot) == m.to;
                      });
}

ClusterPromotion RedisClusterSet::failover(size_t replica, milliseconds timeout) {
  const size_t primary = primary_of(replica);
  if (primary == kNone) {
    ADD_FAILURE() << name(replica) << " is not a replica";
    return {};
  }
  const Clock::time_point started = Clock::now();
  RedisValue r = nodes_.at(replica)->command({"CLUSTER", "FAILOVER"});
  if (r.str != "OK") {
    ADD_FAILURE() << "CLUSTER FAILOVER on " << name(replica) << " answered " << r.str;
    return {};
  }
  return await_promotion(replica, primary, started, timeout);
}

void RedisClusterSet::kill_primary(size_t primary) {
  successor_ = replica_of(primary);
  if (successor_ == kNone) ADD_FAILURE() << name(primary) << " has no live replica to take over";
  killed_ = primary;
  killed_at_ = Clock::now();
  nodes_.at(primary)->kill_hard();
  live_[primary] = false;
}

ClusterPromotion RedisClusterSet::wait_for_promotion(milliseconds timeout) {
  if (killed_ == kNone || successor_ == kNone) {
    ADD_FAILURE() << "wait_for_promotion() without kill_primary() of a primary with a replica";
    return {};
  }
  return await_promotion(successor_, killed_, killed_at_, timeout);
}

ClusterPromotion RedisClusterSet::await_promotion(size_t candidate, size_t former,
                                                  Clock::time_point from, milliseconds timeout) {
  ClusterPromotion p;
  p.node = candidate;
  bool says_master = false;
  std::string why;
  Pace pace;
  auto done = eventually(
      [&] {
        if (!says_master) {
          std::string role = role_of(candidate);
          if (role != "master") {
            why = name(candidate) + "'s ROLE says " + role;
            return false;
          }
          says_master = true;
          p.replica_master = since(from);
        }
        if (!pace.due() || !settled(&why)) return false;
        std::vector<size_t> owners = primaries();
        if (std::find(owners.begin(), owners.end(), candidate) == owners.end()) {
          why = name(candidate) + " owns no slots";
          return false;
        }
        // The former primary, when alive (CLUSTER FAILOVER), follows it.
        if (live(former) && replica_of(candidate) != former) {
          why = name(former) + " is not yet a replica of " + name(candidate);
          return false;
        }
        return true;
      },
      timeout - std::min(timeout, since(from)),
      name(candidate) + " taking over from " + name(former));
  if (!done) {
    ADD_FAILURE() << done.message() << "; last: " << why;
    return p;
  }
  p.settled = since(from);
  p.promoted = true;
  return p;
}

bool RedisClusterSet::rejoin() {
  if (killed_ == kNone) {
    ADD_FAILURE() << "rejoin() without kill_primary()";
    return false;
  }
  const size_t back = killed_;
  killed_ = kNone;
  if (!nodes_[back]->restart()) {
    ADD_FAILURE() << name(back) << " did not start again";
    return false;
  }
  live_[back] = true;
  // Its nodes.conf still says it owns its slots; the others' newer epoch
  // makes it a replica of the node that took them.
  return wait_settled(kSettleTimeout, name(back) + " back as a replica", [&](std::string* why) {
    *why = name(back) + " is not yet a replica of " + name(successor_);
    return replica_of(successor_) == back;
  });
}

}  // namespace streamshift::testing
