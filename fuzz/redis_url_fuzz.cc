// Fuzz target: REDIS_URL parsing (core/redis_url) and how it is shown
// (EnvReader::redis_url, core/env_config: check-config, the error report and
// log lines show REDIS_URL only as the reader records it).
//
// Input: the value of REDIS_URL, any of the six schemes. Checked:
//  - parse_redis_url never crashes; a refusal says why without echoing the
//    userinfo; an accepted URL has its scheme's mode (standalone, sentinel,
//    cluster), its hosts (plausible, with a port), a db in 0..15 (0 for a
//    cluster), and TLS exactly when the scheme is rediss...://;
//  - masking hides the password: for any input with userinfo (accepted, or
//    refused, since the error report shows refused values masked too), the
//    masked text is the same whatever the password's bytes are (the
//    password replaced by other bytes of the same length masks to the same
//    text), so no byte sequence of it survives (a password equal to text
//    the display adds itself, such as the default port 6379, is not a leak:
//    the same text shows with any other password).
#include <cstdint>
#include <string>
#include <string_view>

#include "core/env_config.h"
#include "core/redis_url.h"
#include "fuzz/fuzz_check.h"

namespace streamshift::fuzz {
namespace {

struct Scheme {
  std::string_view prefix;
  bool tls;
  RedisMode mode;
};
constexpr Scheme kSchemes[] = {
    {"redis://", false, RedisMode::kStandalone},
    {"rediss://", true, RedisMode::kStandalone},
    {"redis-sentinel://", false, RedisMode::kSentinel},
    {"rediss-sentinel://", true, RedisMode::kSentinel},
    {"redis-cluster://", false, RedisMode::kCluster},
    {"rediss-cluster://", true, RedisMode::kCluster},
};

// The scheme parse_redis_url accepts at the start of `url`, or null.
const Scheme* scheme_of(std::string_view url) {
  for (const Scheme& s : kSchemes) {
    if (url.starts_with(s.prefix)) return &s;
  }
  return nullptr;
}

// Where parse_redis_url takes the password from: [begin, end) in `url`
// (a sentinel URL's #master-name cut first).
bool password_span(std::string_view url, size_t* begin, size_t* end) {
  const Scheme* scheme = scheme_of(url);
  if (scheme == nullptr) return false;
  std::string_view rest = url.substr(scheme->prefix.size());
  if (scheme->mode == RedisMode::kSentinel) {
    size_t hash = rest.rfind('#');
    if (hash == std::string_view::npos) return false;  // refused before the userinfo is read
    rest = rest.substr(0, hash);
  }
  size_t at = rest.rfind('@');
  if (at == std::string_view::npos) return false;
  size_t colon = rest.substr(0, at).find(':');
  *begin = scheme->prefix.size() + (colon == std::string_view::npos ? 0 : colon + 1);
  *end = scheme->prefix.size() + at;
  return true;
}

// Everything the configuration reader shows of REDIS_URL=url: the effective
// value (check-config) and the error report (stderr, the log).
std::string shown(std::string_view url) {
  std::string value(url);
  EnvReader env([&value](std::string_view name) -> std::optional<std::string> {
    if (name == "REDIS_URL") return value;
    return std::nullopt;
  });
  env.redis_url("REDIS_URL", "redis://127.0.0.1:6379/0", "fuzz");
  std::string out;
  for (const ConfigEntry& e : env.entries()) out += e.shown_value + "\n";
  for (const ConfigError& e : env.errors()) out += e.value + "\n";
  return out + env.error_report();
}

// The same URL with every password byte changed (same length, no delimiter).
std::string other_password(std::string_view url, size_t begin, size_t end) {
  std::string out(url);
  for (size_t i = begin; i < end; ++i) out[i] = out[i] == 'x' ? 'y' : 'x';
  return out;
}

}  // namespace
}  // namespace streamshift::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace streamshift;
  using namespace streamshift::fuzz;
  std::string_view url(reinterpret_cast<const char*>(data), size);
  std::string why;
  std::optional<RedisEndpoint> ep = parse_redis_url(url, &why);
  size_t begin = 0, end = 0;
  bool has_password = password_span(url, &begin, &end);
  std::string what = "REDIS_URL " + printable(url);
  if (!ep) {
    FUZZ_CHECK(!why.empty(), what);
    if (has_password && end > begin) {
      // The reason does not depend on the password's bytes (text that only
      // happens to equal it, "er fr" in "number from", is not a leak).
      std::string why_other;
      parse_redis_url(other_password(url, begin, end), &why_other);
      FUZZ_CHECK(why == why_other, what + ": " + why + " / " + why_other);
    }
  } else {
    const Scheme* scheme = scheme_of(url);
    FUZZ_CHECK(scheme != nullptr && ep->mode() == scheme->mode && ep->tls == scheme->tls, what);
    FUZZ_CHECK(ep->db >= 0 && ep->db <= 15, what);
    switch (ep->mode()) {
      case RedisMode::kStandalone:
        FUZZ_CHECK(!ep->host.empty() && ep->port != 0, what);
        break;
      case RedisMode::kSentinel:
        FUZZ_CHECK(!ep->master_name.empty() && ep->cluster_seeds.empty(), what);
        break;
      case RedisMode::kCluster:
        FUZZ_CHECK(ep->db == 0 && ep->sentinels.empty(), what);
        break;
    }
    for (const auto* hosts : {&ep->sentinels, &ep->cluster_seeds}) {
      for (const RedisHost& h : *hosts)
        FUZZ_CHECK(plausible_redis_host(h.host) && h.port != 0, what);
    }
  }
  if (!has_password || begin == end) return 0;

  std::string masked = shown(url);
  std::string other = other_password(url, begin, end);
  std::string masked_other = shown(other);
  FUZZ_CHECK(masked == masked_other, what + "\n  masked: " + printable(masked) +
                                         "\n  with another password: " + printable(masked_other));
  // An accepted URL with another password is the same endpoint otherwise.
  if (ep) {
    std::string ignored;
    auto ep2 = parse_redis_url(other, &ignored);
    FUZZ_CHECK(ep2 && ep2->host == ep->host && ep2->port == ep->port && ep2->user == ep->user &&
                   ep2->db == ep->db && ep2->tls == ep->tls && ep2->sentinels == ep->sentinels &&
                   ep2->master_name == ep->master_name && ep2->cluster_seeds == ep->cluster_seeds,
               what);
  }
  return 0;
}
