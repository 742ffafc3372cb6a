// The TLS context of the Redis connections; see redis_tls.h.
//
// Each file is checked for readability first (open(2)'s own reason), then
// parsed by OpenSSL; only OpenSSL's reason is quoted, never the data it
// failed on. No passphrase is ever asked for: an encrypted key is refused.
#include "core/redis_tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace streamshift {
namespace {

constexpr const char* kCaFile = "REDIS_TLS_CA_FILE";
constexpr const char* kCertFile = "REDIS_TLS_CERT_FILE";
constexpr const char* kKeyFile = "REDIS_TLS_KEY_FILE";
constexpr const char* kCaExpected = "a readable PEM file of CA certificates";
constexpr const char* kCertExpected = "a readable PEM file with the client certificate (chain)";
constexpr const char* kKeyExpected =
    "a readable, unencrypted PEM private key of REDIS_TLS_CERT_FILE";

// OpenSSL's reason for the last failure ("no start line"), then the queue
// emptied: it is per thread and the connections read it after their calls.
std::string openssl_reason() {
  unsigned long code = ERR_peek_last_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return reason != nullptr ? reason : "unknown error";
}

// Not empty, not a directory, and open(2) can read it; else why not.
bool readable(const std::string& path, std::string* why) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    *why = path + " is a directory, not a file";
    return false;
  }
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) {
    *why = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  std::fclose(f);
  return true;
}

// Never prompts on a terminal: an encrypted key fails to load.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

struct Failure {
  RedisTlsError* error;
  std::shared_ptr<const RedisTlsContext> operator()(const char* variable, const char* expected,
                                                    std::string problem) const {
    *error = RedisTlsError{variable, expected, std::move(problem)};
    return nullptr;
  }
};

bool load_ca(SSL_CTX* ctx, const std::string& ca_file, std::string* why) {
  if (ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) == 1) return true;
    *why = "the system's CA store cannot be loaded: " + openssl_reason();
    return false;
  }
  if (!readable(ca_file, why)) return false;
  if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) == 1) return true;
  *why = ca_file + " holds no PEM certificate (" + openssl_reason() + ")";
  return false;
}

// The key read apart from the certificate, so that "not a key" and "not
// this certificate's key" are told apart.
EVP_PKEY* read_key(const std::string& key_file, std::string* why) {
  if (!readable(key_file, why)) return nullptr;
  FILE* f = std::fopen(key_file.c_str(), "r");
  if (f == nullptr) {
    *why = "cannot read " + key_file + ": " + std::strerror(errno);
    return nullptr;
  }
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, no_passphrase, nullptr);
  std::fclose(f);
  if (key == nullptr) {
    *why = key_file + " holds no unencrypted PEM private key (" + openssl_reason() + ")";
  }
  return key;
}

}  // namespace

std::shared_ptr<const RedisTlsContext> RedisTlsContext::load(const RedisTlsSettings& settings,
                                                             RedisTlsError* error) {
  Failure fail{error};
  if (!settings.cert_file.empty() && settings.key_file.empty())
    return fail(kKeyFile, kKeyExpected,
                "not set, but REDIS_TLS_CERT_FILE is: a client "
                "certificate needs its private key");
  if (settings.cert_file.empty() && !settings.key_file.empty())
    return fail(kCertFile, kCertExpected,
                "not set, but REDIS_TLS_KEY_FILE is: a private key "
                "needs its client certificate");

  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) return fail(kCaFile, kCaExpected, "OpenSSL cannot make a context: " + openssl_reason());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_default_passwd_cb(ctx.get(), no_passphrase);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_verify(ctx.get(), settings.insecure_skip_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
                     nullptr);

  std::string why;
  if (!load_ca(ctx.get(), settings.ca_file, &why)) return fail(kCaFile, kCaExpected, why);

  if (!settings.cert_file.empty()) {
    if (!readable(settings.cert_file, &why)) return fail(kCertFile, kCertExpected, why);
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), settings.cert_file.c_str()) != 1) {
      return fail(kCertFile, kCertExpected,
                  settings.cert_file + " holds no PEM certificate (" + openssl_reason() + ")");
    }
    std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key(read_key(settings.key_file, &why),
                                                       EVP_PKEY_free);
    if (!key) return fail(kKeyFile, kKeyExpected, why);
    if (SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1 ||
        SSL_CTX_check_private_key(ctx.get()) != 1) {
      ERR_clear_error();
      return fail(kKeyFile, kKeyExpected,
                  settings.key_file + " does not match the certificate of REDIS_TLS_CERT_FILE (" +
                      settings.cert_file + ")");
    }
  }
  ERR_clear_error();
  return std::shared_ptr<const RedisTlsContext>(
      new RedisTlsContext(ctx.release(), !settings.insecure_skip_verify, settings.server_name));
}

std::shared_ptr<const RedisTlsContext> RedisTlsContext::create(const RedisTlsSettings& settings,
                                                               std::string* error) {
  RedisTlsError parts;
  std::shared_ptr<const RedisTlsContext> tls = load(settings, &parts);
  if (!tls) *error = parts.variable + ": " + parts.problem;
  return tls;
}

RedisTlsContext::~RedisTlsContext() {
  SSL_CTX_free(ctx_);
}

}  // namespace streamshift
