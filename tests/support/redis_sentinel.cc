// A primary, a replica and three Sentinels for tests; see redis_sentinel.h.
//
// Why failover is fast here (about 2-3 s from the kill on a loaded 2-core
// machine; the issue wants under 5 s to the first write):
// - down-after-milliseconds 1000: the primary is subjectively down one
//   second after its last answer; the Sentinels then ask each other
//   (is-master-down-by-addr, once a second) and reach quorum 2 at once.
// - failover-timeout 3000: a failed election (split votes) is retried
//   after twice that, so one bad round costs 6 s instead of the default
//   six minutes; 3 s is still far more than a promotion takes here.
// - The data nodes have repl-diskless-sync-delay 0: the replica's first full
//   sync starts at once instead of after redis' default 5 s, so the set is
//   ready sooner (this does not change the failover itself).
// - parallel-syncs 1 (the default) is written out: there is one replica.
//
// A relayed replica reports the relay's port as its primary's. A Sentinel
// "fixes" a replica pointing elsewhere than the primary it monitors
// (+fix-slave-config: REPLICAOF straight to the primary, bypassing the
// relay) once failover-timeout has passed since it first saw the replica,
// on its next INFO to it (every 10 s). So a relayed set starts its
// Sentinels with a failover-timeout far longer than a test
// (kRelayedFailoverTimeout), and kill_primary() sets the configured one
// back (SENTINEL SET) once the primary is dead: a Sentinel fixes a replica
// only while the primary looks sane, and the failover itself then runs
// with the usual settings.
#include "tests/support/redis_sentinel.h"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/support/eventually.h"

namespace streamshift::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Short: a Sentinel that does not answer at once is asked again next poll.
constexpr milliseconds kPollTimeout(500);
// Longer than any test keeps a set: no +fix-slave-config before the kill.
constexpr milliseconds kRelayedFailoverTimeout(600000);

/// The value of `key` in a flat [key, value, key, value...] reply.
std::string field(const RedisValue& flat, std::string_view key) {
  for (size_t i = 0; i + 1 < flat.elements.size(); i += 2) {
    if (flat.elements[i].str == key) return flat.elements[i + 1].str;
  }
  return "";
}

/// The port a Sentinel names for `master_name`; 0 when it names none.
uint16_t named_primary_port(const RedisServer& sentinel, const std::string& master_name) {
  RedisValue r =
      sentinel.command({"SENTINEL", "get-master-addr-by-name", master_name}, kPollTimeout);
  if (r.type != REDIS_REPLY_ARRAY || r.elements.size() != 2) return 0;
  return static_cast<uint16_t>(std::strtoul(r.elements[1].str.c_str(), nullptr, 10));
}

bool says_master(const RedisServer& node) {
  RedisValue role = node.command({"ROLE"}, kPollTimeout);
  return role.type == REDIS_REPLY_ARRAY && !role.elements.empty() &&
         role.elements[0].str == "master";
}

std::string sentinel_config(const SentinelSettings& s, uint16_t primary_port,
                            milliseconds failover_timeout) {
  std::ostringstream c;
  const std::string& m = s.master_name;
  c << "sentinel monitor " << m << " 127.0.0.1 " << primary_port << " " << s.quorum << "\n"
    << "sentinel down-after-milliseconds " << m << " " << s.down_after_ms << "\n"
    << "sentinel failover-timeout " << m << " " << failover_timeout.count() << "\n"
    << "sentinel parallel-syncs " << m << " 1\n";
  return c.str();
}

milliseconds since(Clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - t);
}

}  // namespace

std::string sentinel_url(const std::vector<uint16_t>& sentinel_ports, int db,
                         std::string_view master_name, std::string_view scheme) {
  std::string url(scheme);
  url += "://";
  for (size_t i = 0; i < sentinel_ports.size(); ++i) {
    if (i > 0) url += ",";
    url += "127.0.0.1:" + std::to_string(sentinel_ports[i]);
  }
  url += "/" + std::to_string(db) + "#";
  url += master_name;
  return url;
}

RedisFailoverSet::RedisFailoverSet(SentinelSettings settings, ReplicationLink link)
    : settings_(std::move(settings)) {
  const std::vector<std::string> data_args = {"--repl-diskless-sync-delay", "0"};
  nodes_[0] = std::make_unique<RedisServer>(data_args);
  if (!nodes_[0]->ready()) {
    ADD_FAILURE() << "the primary did not start";
    return;
  }
  uint16_t replicate_from = nodes_[0]->port();
  milliseconds failover_timeout(settings_.failover_timeout_ms);
  if (link == ReplicationLink::kRelayed) {
    replication_relay_ = std::make_unique<TcpRelay>(nodes_[0]->port());
    replicate_from = replication_relay_->port();
    failover_timeout = kRelayedFailoverTimeout;
  }
  std::vector<std::string> replica_args = data_args;
  replica_args.insert(replica_args.end(),
                      {"--replicaof", "127.0.0.1", std::to_string(replicate_from)});
  nodes_[1] = std::make_unique<RedisServer>(replica_args);
  if (!nodes_[1]->ready()) {
    ADD_FAILURE() << "the replica did not start";
    return;
  }
  for (int i = 0; i < 3; ++i) {
    sentinels_.push_back(
        RedisServer::sentinel(sentinel_config(settings_, nodes_[0]->port(), failover_timeout)));
    if (!sentinels_.back()->ready()) {
      ADD_FAILURE() << "Sentinel " << i << " did not start";
      return;
    }
  }
  std::string why;
  // Sentinels announce themselves every 2 s (hello messages on the data
  // nodes): the set is ready in 2-4 s.
  ready_ = eventually([&] { return settled(&why); }, std::chrono::seconds(30),
                      "the replica in sync and every Sentinel knowing the whole set");
  if (!ready_) ADD_FAILURE() << "the Sentinel set did not settle: " << why;
}

RedisFailoverSet::~RedisFailoverSet() = default;

bool RedisFailoverSet::settled(std::string* why) const {
  const RedisServer& replica = *nodes_[1 - primary_];
  std::string info = replica.command({"INFO", "replication"}, kPollTimeout).str;
  if (info.find("master_link_status:up") == std::string::npos) {
    *why = "replica not in sync: " + info;
    return false;
  }
  for (size_t i = 0; i < sentinels_.size(); ++i) {
    const RedisServer& s = *sentinels_[i];
    std::string who = "Sentinel " + std::to_string(i) + " ";
    RedisValue master = s.command({"SENTINEL", "MASTER", settings_.master_name}, kPollTimeout);
    if (field(master, "port") != std::to_string(nodes_[primary_]->port()) ||
        field(master, "flags") != "master") {
      *why = who + "does not see the primary up: flags " + field(master, "flags") + master.str;
      return false;
    }
    if (field(master, "num-other-sentinels") != std::to_string(sentinels_.size() - 1)) {
      *why = who + "knows " + field(master, "num-other-sentinels") + " other Sentinels";
      return false;
    }
    RedisValue replicas = s.command({"SENTINEL", "REPLICAS", settings_.master_name}, kPollTimeout);
    bool knows_replica = false;
    for (const RedisValue& r : replicas.elements) {
      knows_replica = knows_replica || (field(r, "port") == std::to_string(replica.port()) &&
                                        field(r, "flags") == "slave");
    }
    if (!knows_replica) {
      *why = who + "does not see the replica up";
      return false;
    }
  }
  return true;
}

std::vector<uint16_t> RedisFailoverSet::sentinel_ports() const {
  std::vector<uint16_t> ports;
  for (const auto& s : sentinels_) ports.push_back(s->port());
  return ports;
}

std::string RedisFailoverSet::sentinel_url(int db, std::string_view scheme) const {
  return testing::sentinel_url(sentinel_ports(), db, settings_.master_name, scheme);
}

void RedisFailoverSet::freeze_replication() {
  ASSERT_TRUE(replication_relay_) << "a set with ReplicationLink::kRelayed can freeze replication";
  replication_relay_->freeze();
}

void RedisFailoverSet::thaw_replication() {
  ASSERT_TRUE(replication_relay_) << "a set with ReplicationLink::kRelayed can thaw replication";
  replication_relay_->thaw();
}

void RedisFailoverSet::kill_primary() {
  killed_at_ = Clock::now();
  primary().kill_hard();
  if (!replication_relay_) return;
  for (size_t i = 0; i < sentinels_.size(); ++i) {
    RedisValue r =
        sentinels_[i]->command({"SENTINEL", "SET", settings_.master_name, "failover-timeout",
                                std::to_string(settings_.failover_timeout_ms)});
    EXPECT_EQ(r.str, "OK") << "Sentinel " << i << ": SENTINEL SET failover-timeout";
  }
}

Promotion RedisFailoverSet::wait_for_promotion(milliseconds timeout) {
  Promotion p;
  const Clock::time_point from = killed_at_ != Clock::time_point{} ? killed_at_ : Clock::now();
  RedisServer& candidate = replica();
  bool first_seen = false;
  auto promoted = eventually(
      [&] {
        size_t naming = 0;
        for (const auto& s : sentinels_) {
          naming += named_primary_port(*s, settings_.master_name) == candidate.port() ? 1 : 0;
        }
        if (!first_seen && naming > 0 && says_master(candidate)) {
          first_seen = true;
          p.first_sentinel = since(from);
        }
        return first_seen && naming == sentinels_.size();
      },
      timeout - std::min(timeout, since(from)), "a Sentinel promoting the replica");
  if (!promoted) {
    ADD_FAILURE() << promoted.message();
    return p;
  }
  p.all_sentinels = since(from);
  p.promoted = true;
  p.port = candidate.port();
  primary_ = 1 - primary_;
  return p;
}

bool RedisFailoverSet::rejoin() {
  RedisServer& node = replica();
  if (!node.restart()) {
    ADD_FAILURE() << "the killed node did not start again";
    return false;
  }
  RedisValue r = node.command({"REPLICAOF", "127.0.0.1", std::to_string(primary().port())});
  if (r.str != "OK") {
    ADD_FAILURE() << "REPLICAOF answered " << r.str;
    return false;
  }
  auto synced = eventually(
      [&] {
        std::string info = node.command({"INFO", "replication"}, kPollTimeout).str;
        return info.find("master_link_status:up") != std::string::npos;
      },
      std::chrono::seconds(30), "the killed node in sync with the new primary");
  if (!synced) ADD_FAILURE() << synced.message();
  return static_cast<bool>(synced);
}

uint16_t RedisFailoverSet::current_primary_port() const {
  for (const auto& s : sentinels_) {
    if (uint16_t port = named_primary_port(*s, settings_.master_name); port != 0) return port;
  }
  return 0;
}

}  // namespace streamshift::testing
