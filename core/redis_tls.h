// TLS to Redis (rediss://): the settings (REDIS_TLS_*), and the one SSL_CTX
// every Redis connection of the process shares, built at start from them.
//
// The files (CA bundle, client certificate and key) are read here, once, on
// the main thread before any loop runs: never on a worker. An SSL_CTX is
// safe to share between threads once built; each connection makes its own
// SSL from it (core/tls_session.h).
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace streamshift {

struct RedisTlsSettings {
  bool enabled = false;               // REDIS_URL is rediss://
  std::string ca_file;                // REDIS_TLS_CA_FILE; empty: the system's CA store
  std::string cert_file;              // REDIS_TLS_CERT_FILE (with key_file: a client certificate)
  std::string key_file;               // REDIS_TLS_KEY_FILE
  std::string server_name;            // REDIS_TLS_SERVER_NAME; empty: the URL's host
  bool insecure_skip_verify = false;  // REDIS_TLS_INSECURE_SKIP_VERIFY (development only)
};

/// Why a context could not be built: the variable at fault, what it must
/// name, and what is wrong with it (never a byte of the files' contents).
struct RedisTlsError {
  std::string variable;  // "REDIS_TLS_CA_FILE"
  std::string expected;  // "a readable PEM file of CA certificates"
  std::string problem;   // "cannot read /x: No such file or directory"
};

class RedisTlsContext {
 public:
  /// TLS 1.2 or newer; the peer verified (unless insecure_skip_verify)
  /// against ca_file or the system store; the client certificate loaded and
  /// checked against its key. nullptr with `*error` naming the variable at
  /// fault ("REDIS_TLS_CA_FILE: cannot read /x: No such file or directory").
  static std::shared_ptr<const RedisTlsContext> create(const RedisTlsSettings& settings,
                                                       std::string* error);
  /// The same, the error in parts (for the configuration report).
  static std::shared_ptr<const RedisTlsContext> load(const RedisTlsSettings& settings,
                                                     RedisTlsError* error);
  ~RedisTlsContext();
  RedisTlsContext(const RedisTlsContext&) = delete;
  RedisTlsContext& operator=(const RedisTlsContext&) = delete;

  SSL_CTX* ctx() const { return ctx_; }
  /// False with REDIS_TLS_INSECURE_SKIP_VERIFY: no certificate or name check.
  bool verify() const { return verify_; }
  /// The name to check and send as SNI instead of the host connected to;
  /// empty: the host.
  const std::string& server_name() const { return server_name_; }

 private:
  RedisTlsContext(SSL_CTX* ctx, bool verify, std::string server_name)
      : ctx_(ctx), verify_(verify), server_name_(std::move(server_name)) {}
  SSL_CTX* ctx_;
  bool verify_;
  std::string server_name_;
};

}  // namespace streamshift
