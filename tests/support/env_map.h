// An EnvReader over a fixed map instead of the process environment.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "core/env_config.h"

namespace streamshift::testing {

inline EnvReader env_from(std::map<std::string, std::string> vars) {
  return EnvReader([vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}

}  // namespace streamshift::testing
