// Typed, range-checked reading of configuration from environment variables.
//
// A program declares each variable it reads through one EnvReader; the reader
// records every variable (for `check-config` and the manifests test), the
// effective value with secrets masked, and every invalid value with the
// allowed range, so a start can fail naming all bad variables at once.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/net_address.h"
#include "core/redis_url.h"

namespace streamshift {

/// How a value is shown by check-config, in config errors and in logs.
/// URLs have their own readers (redis_url, http_url), which show them
/// rebuilt from what was parsed.
enum class Visibility {
  kPlain,
  kSecret,  // shown as "****"
};

struct ConfigEntry {
  std::string name;
  std::string shown_value;  // masked where the variable is secret
  bool from_environment = false;
  std::string help;
};

struct ConfigError {
  std::string name;
  std::string value;  // masked where the variable is secret
  std::string allowed;
};

class EnvReader {
 public:
  using Lookup = std::function<std::optional<std::string>(std::string_view name)>;

  /// Reads the process environment.
  EnvReader();
  /// Reads through `lookup` (tests pass a map).
  explicit EnvReader(Lookup lookup);

  int64_t integer(std::string_view name, int64_t fallback, int64_t min, int64_t max,
                  std::string_view help);
  bool boolean(std::string_view name, bool fallback, std::string_view help);
  std::string text(std::string_view name, std::string_view fallback, std::string_view help,
                   Visibility visibility = Visibility::kPlain);
  std::string choice(std::string_view name, std::string_view fallback,
                     std::initializer_list<std::string_view> allowed, std::string_view help);

  /// A "host:port" address (IPv6 in brackets); the default when invalid.
  HostPort host_port(std::string_view name, std::string_view fallback, std::string_view help);

  /// A redis:// URL (core/redis_url.h); nullopt when invalid (an error is
  /// recorded). Shown rebuilt from the parsed endpoint, password as "****".
  std::optional<RedisEndpoint> redis_url(std::string_view name, std::string_view fallback,
                                         std::string_view help);

  /// An http:// URL (core/net_address.h); nullopt when invalid (an error is
  /// recorded). Shown rebuilt from the parsed URL, which has no credentials.
  std::optional<HttpUrl> http_url(std::string_view name, std::string_view fallback,
                                  std::string_view help);

  /// A comma-separated list; items are trimmed, empty items dropped.
  std::vector<std::string> list(std::string_view name, std::string_view fallback,
                                std::string_view help);

  /// The raw value, without declaring the variable.
  std::optional<std::string> raw(std::string_view name) const { return lookup_(name); }

  /// Records a value that a caller's own validation refused.
  void reject(std::string_view name, std::string_view value, std::string_view allowed,
              Visibility visibility = Visibility::kPlain);

  const std::vector<ConfigEntry>& entries() const { return entries_; }
  const std::vector<ConfigError>& errors() const { return errors_; }
  bool ok() const { return errors_.empty(); }

  /// "NAME=value: allowed ..." lines, one per error.
  std::string error_report() const;

 private:
  void record(std::string_view name, std::string shown, bool from_env, std::string_view help);
  // `parsed_shown` is the parsed URL's shown form; nullopt records an error.
  void record_url(std::string_view name, std::string_view text, bool from_env,
                  std::string_view help, std::optional<std::string> parsed_shown,
                  std::string allowed);

  Lookup lookup_;
  std::vector<ConfigEntry> entries_;
  std::vector<ConfigError> errors_;
};

/// How a URL that does not parse is shown: any of its bytes may be a secret
/// (a password pasted without its URL, a URL missing its scheme), so only a
/// known scheme and the length: "redis://<invalid, 42 bytes>".
std::string shown_unparsed_url(std::string_view text);

}  // namespace streamshift
