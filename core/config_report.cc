// Telling about the configuration; see config_report.h.
#include "core/config_report.h"

#include <cstdio>
#include <set>

#include "core/log.h"

extern char** environ;

namespace streamshift {

std::vector<std::string> unknown_variables(const EnvReader& env) {
  std::set<std::string> known;
  for (const ConfigEntry& e : env.entries()) known.insert(e.name);
  std::vector<std::string> unknown;
  for (char** p = environ; *p != nullptr; ++p) {
    std::string_view entry(*p);
    std::string name(entry.substr(0, entry.find('=')));
    bool ours = name.starts_with("STREAMSHIFT_") || name.starts_with("EVENT_TRANSPORT_") ||
                name.starts_with("EVENT_COALESCING_") || name.starts_with("REDIS_TLS_");
    if (ours && known.count(name) == 0) unknown.push_back(name);
  }
  return unknown;
}

void check_unknown_variables(EnvReader& env, bool strict) {
  for (const std::string& name : unknown_variables(env)) {
    if (strict)
      env.reject(name, "(set)", "a variable streamshift reads (--strict)");
    else
      std::fprintf(stderr, "warning: %s is set but not used by streamshift (a typo?)\n",
                   name.c_str());
  }
}

void print_configuration(const EnvReader& env, std::string_view program) {
  constexpr std::string_view kVersion = STREAMSHIFT_VERSION;
  std::printf("streamshift %.*s %.*s: %s\n", static_cast<int>(program.size()), program.data(),
              static_cast<int>(kVersion.size()), kVersion.data(),
              env.ok() ? "effective configuration" : "INVALID configuration (errors on stderr)");
  for (const ConfigEntry& e : env.entries()) {
    const ConfigError* error = nullptr;
    for (const ConfigError& err : env.errors()) {
      if (err.name == e.name) error = &err;
    }
    if (error != nullptr) {
      std::printf("%s=%s\t(INVALID, allowed: %s) %s\n", e.name.c_str(), error->value.c_str(),
                  error->allowed.c_str(), e.help.c_str());
    } else {
      std::printf("%s=%s\t(%s) %s\n", e.name.c_str(), e.shown_value.c_str(),
                  e.from_environment ? "set" : "default", e.help.c_str());
    }
  }
}

int configuration_status(const EnvReader& env) {
  if (env.ok()) return 0;
  std::fprintf(stderr, "invalid configuration:\n%s", env.error_report().c_str());
  return 2;
}

int refuse_to_start(const EnvReader& env, std::string_view program) {
  std::fprintf(stderr, "%.*s: invalid configuration:\n%s", static_cast<int>(program.size()),
               program.data(), env.error_report().c_str());
  for (const ConfigError& e : env.errors()) {
    log_line(LogLevel::kError, "invalid configuration",
             {{"variable", e.name}, {"value", e.value}, {"allowed", e.allowed}});
  }
  return 2;
}

}  // namespace streamshift
