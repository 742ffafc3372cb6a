// Environment configuration reader; see env_config.h.
#include "core/env_config.h"

#include <cerrno>
#include <cstdlib>

namespace streamshift {
namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return out;
}

std::string trimmed(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

std::string shown(std::string_view value, Visibility visibility) {
  switch (visibility) {
    case Visibility::kPlain:
      return std::string(value);
    case Visibility::kSecret:
      return value.empty() ? "" : "****";
  }
  return "";
}

}  // namespace

EnvReader::EnvReader()
    : lookup_([](std::string_view name) -> std::optional<std::string> {
        const char* v = std::getenv(std::string(name).c_str());
        if (v == nullptr) return std::nullopt;
        return std::string(v);
      }) {}

EnvReader::EnvReader(Lookup lookup) : lookup_(std::move(lookup)) {}

void EnvReader::record(std::string_view name, std::string shown_value, bool from_env,
                       std::string_view help) {
  entries_.push_back(
      ConfigEntry{std::string(name), std::move(shown_value), from_env, std::string(help)});
}

void EnvReader::reject(std::string_view name, std::string_view value, std::string_view allowed,
                       Visibility visibility) {
  errors_.push_back(ConfigError{std::string(name), shown(value, visibility), std::string(allowed)});
}

int64_t EnvReader::integer(std::string_view name, int64_t fallback, int64_t min, int64_t max,
                           std::string_view help) {
  std::optional<std::string> value = lookup_(name);
  int64_t result = fallback;
  if (value) {
    std::string t = trimmed(*value);
    errno = 0;
    char* end = nullptr;
    long long parsed = std::strtoll(t.c_str(), &end, 10);
    if (t.empty() || *end != '\0' || errno == ERANGE || parsed < min || parsed > max) {
      reject(name, *value, "an integer from " + std::to_string(min) + " to " + std::to_string(max));
    } else {
      result = parsed;
    }
  }
  record(name, std::to_string(result), value.has_value(), help);
  return result;
}

bool EnvReader::boolean(std::string_view name, bool fallback, std::string_view help) {
  std::optional<std::string> value = lookup_(name);
  bool result = fallback;
  if (value) {
    std::string v = lowercase(trimmed(*value));
    if (v == "true" || v == "1" || v == "yes" || v == "on")
      result = true;
    else if (v == "false" || v == "0" || v == "no" || v == "off")
      result = false;
    else
      reject(name, *value, "true or false (also 1/0, yes/no, on/off)");
  }
  record(name, result ? "true" : "false", value.has_value(), help);
  return result;
}

std::string EnvReader::text(std::string_view name, std::string_view fallback, std::string_view help,
                            Visibility visibility) {
  std::optional<std::string> value = lookup_(name);
  std::string result = value ? *value : std::string(fallback);
  record(name, shown(result, visibility), value.has_value(), help);
  return result;
}

std::string EnvReader::choice(std::string_view name, std::string_view fallback,
                              std::initializer_list<std::string_view> allowed,
                              std::string_view help) {
  std::optional<std::string> value = lookup_(name);
  std::string result(fallback);
  if (value) {
    std::string v = lowercase(trimmed(*value));
    bool found = false;
    for (std::string_view a : allowed) found = found || v == a;
    if (found) {
      result = v;
    } else {
      std::string list = "one of";
      for (std::string_view a : allowed) (list += ' ') += a;
      reject(name, *value, list);
    }
  }
  record(name, result, value.has_value(), help);
  return result;
}

HostPort EnvReader::host_port(std::string_view name, std::string_view fallback,
                              std::string_view help) {
  std::string value = text(name, fallback, help);
  if (auto hp = parse_host_port(value)) return *hp;
  reject(name, value, "host:port, e.g. 127.0.0.1:15001 or [::1]:15001");
  return parse_host_port(fallback).value_or(HostPort{});
}

std::optional<RedisEndpoint> EnvReader::redis_url(std::string_view name, std::string_view fallback,
                                                  std::string_view help) {
  std::optional<std::string> value = lookup_(name);
  std::string text = value ? *value : std::string(fallback);
  std::string why;
  std::optional<RedisEndpoint> endpoint = parse_redis_url(text, &why);
  record_url(name, text, value.has_value(), help,
             endpoint ? std::optional(redacted_redis_url(*endpoint)) : std::nullopt,
             std::string(kRedisUrlFormat) + ": " + why);
  return endpoint;
}

std::optional<HttpUrl> EnvReader::http_url(std::string_view name, std::string_view fallback,
                                           std::string_view help) {
  std::optional<std::string> value = lookup_(name);
  std::string text = value ? *value : std::string(fallback);
  std::string why;
  std::optional<HttpUrl> url = parse_http_url(text, &why);
  record_url(name, text, value.has_value(), help,
             url ? std::optional("http://" + url->authority + url->path_prefix) : std::nullopt,
             "http://host[:port][/prefix]: " + why);
  return url;
}

void EnvReader::record_url(std::string_view name, std::string_view text, bool from_env,
                           std::string_view help, std::optional<std::string> parsed_shown,
                           std::string allowed) {
  if (parsed_shown) {
    record(name, std::move(*parsed_shown), from_env, help);
    return;
  }
  std::string shown_value = shown_unparsed_url(text);
  record(name, shown_value, from_env, help);
  errors_.push_back(ConfigError{std::string(name), std::move(shown_value), std::move(allowed)});
}

std::vector<std::string> EnvReader::list(std::string_view name, std::string_view fallback,
                                         std::string_view help) {
  std::string value = text(name, fallback, help);
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string::npos) comma = value.size();
    std::string item = trimmed(std::string_view(value).substr(start, comma - start));
    if (!item.empty()) items.push_back(std::move(item));
    start = comma + 1;
  }
  return items;
}

std::string EnvReader::error_report() const {
  std::string out;
  for (const ConfigError& e : errors_) {
    out += e.name + "=\"" + e.value + "\": invalid, allowed: " + e.allowed + "\n";
  }
  return out;
}

std::string shown_unparsed_url(std::string_view text) {
  std::string out;
  for (std::string_view scheme :
       {"redis://", "rediss://", "redis-sentinel://", "rediss-sentinel://", "redis-cluster://",
        "rediss-cluster://", "http://", "https://"}) {
    if (text.substr(0, scheme.size()) == scheme) {
      out = scheme;
      break;
    }
  }
  out += "<invalid, " + std::to_string(text.size()) + " bytes>";
  return out;
}

}  // namespace streamshift
