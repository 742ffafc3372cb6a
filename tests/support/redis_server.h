// A real redis-server for tests, on a free port in its own temporary
// directory, with pause (SIGSTOP), resume, kill and restart; plus a blocking
// hiredis client for assertions. A missing redis-server fails the test
// with the package to install. Optionally with a TLS port beside the
// plaintext one (which the test's own assertions keep using), or as a
// Sentinel (redis-server <conf> --sentinel) instead of a data node.
#pragma once

#include <hiredis/hiredis.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace streamshift::testing {

/// A reply, simplified: strings, integers, nil, errors, arrays.
struct RedisValue {
  int type = REDIS_REPLY_NIL;
  std::string str;
  long long integer = 0;
  std::vector<RedisValue> elements;
};

/// redis-server's TLS port: its certificate and key, the CA that client
/// certificates must chain to, and whether it demands one.
struct RedisTlsPort {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  bool auth_clients = false;  // --tls-auth-clients yes|no
};

class RedisServer {
 public:
  /// Starts redis-server with `extra_args` (e.g. {"--requirepass", "pw"}),
  /// on `port` if given, else on a free one.
  explicit RedisServer(std::vector<std::string> extra_args = {}, uint16_t port = 0);
  /// The same plus a TLS port (a free one, kept across restarts). A
  /// factory: a constructor would make RedisServer({"--requirepass", "pw"})
  /// ambiguous.
  static std::unique_ptr<RedisServer> with_tls(RedisTlsPort tls,
                                               std::vector<std::string> extra_args = {});
  /// A Sentinel: `redis-server <dir>/sentinel.conf --sentinel`, the file
  /// starting as `config` (Sentinel rewrites it; restart() keeps what it
  /// wrote, as a real restart would).
  static std::unique_ptr<RedisServer> sentinel(std::string config);
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  bool ready() const { return ready_; }
  uint16_t port() const { return port_; }
  std::string url(const std::string& userinfo = "") const;
  /// With a TLS port: its number, and rediss://[userinfo@]host:tls_port.
  uint16_t tls_port() const { return tls_port_; }
  std::string tls_url(const std::string& userinfo = "",
                      const std::string& host = "127.0.0.1") const;

  void pause();      // SIGSTOP
  void resume();     // SIGCONT
  void kill_hard();  // SIGKILL
  /// Starts it again on the same port and directory (AOF, if on, reloads).
  bool restart();

  /// Runs a command on a fresh connection (AUTH with `password` if set).
  /// No answer within `timeout` is an error reply.
  RedisValue command(const std::vector<std::string>& args,
                     std::chrono::milliseconds timeout = std::chrono::seconds(2)) const;
  /// The same for several commands pipelined on one fresh connection, for
  /// what is per connection (ASKING, MULTI): one reply each, in order.
  std::vector<RedisValue> commands(
      const std::vector<std::vector<std::string>>& pipeline,
      std::chrono::milliseconds timeout = std::chrono::seconds(2)) const;
  static constexpr const char* kReplicationProbe = "streamshift:test:replication-probe";
  /// This primary's one replica as INFO replication shows it: online, the
  /// offset it last acknowledged (0 before its first acknowledgement, while
  /// it already counts as online: a WAIT then can time out) and
  /// master_repl_offset. With nothing written yet, `probe_key` is SET (a
  /// Cluster primary needs one of its own slots) and the next call sees it.
  struct ReplicaAck {
    bool online = false;
    long long acknowledged = -1;
    long long written = -1;
  };
  ReplicaAck replica_ack(const std::string& probe_key = kReplicationProbe) const;
  /// True once the replica has acknowledged every write so far: what a test
  /// polls before it relies on WAIT.
  bool replica_acknowledges_all() const {
    ReplicaAck a = replica_ack();
    return a.online && a.written > 0 && a.acknowledged == a.written;
  }
  void set_password(std::string user, std::string password) {
    user_ = std::move(user);
    password_ = std::move(password);
  }

 private:
  RedisServer(std::optional<RedisTlsPort> tls, std::string sentinel_config,
              std::vector<std::string> extra_args);
  void start(uint16_t port);
  bool launch();
  std::string sentinel_config_path() const;
  std::vector<std::string> args_;
  std::optional<RedisTlsPort> tls_;
  std::string sentinel_config_;  // empty: a data node
  uint16_t tls_port_ = 0;
  std::string dir_;
  uint16_t port_;
  pid_t pid_ = -1;
  bool ready_ = false;
  std::string user_, password_;
};

/// XRANGE <stream> - + as a list of (id, field map).
struct StreamEntryView {
  std::string id;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string field(const std::string& name) const;
};
std::vector<StreamEntryView> read_stream(const RedisServer& redis, const std::string& stream);

}  // namespace streamshift::testing
