// How a program tells about its configuration, read through an EnvReader
// (core/env_config.h): the listing of `streamshift check-config`, the
// variables with our prefixes that nothing reads, and the refusal to start
// with an invalid configuration.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/env_config.h"

namespace streamshift {

/// Variables of the process environment with our prefixes (STREAMSHIFT_,
/// EVENT_TRANSPORT_, EVENT_COALESCING_, REDIS_TLS_) that `env` never read:
/// most likely typos (REDIS_TLS_CA_FIEL would otherwise leave the system's
/// CA store in force without a word).
std::vector<std::string> unknown_variables(const EnvReader& env);

/// check-config: each unknown variable is an error in `env` when `strict`
/// (--strict), else a warning on stderr.
void check_unknown_variables(EnvReader& env, bool strict);

/// check-config's listing on stdout: "streamshift <program> <version>: ..."
/// then every variable with its value in force, or, when invalid, the value
/// given (masked where secret) marked INVALID, never the default the program
/// would have fallen back to.
void print_configuration(const EnvReader& env, std::string_view program);

/// check-config's exit status: 0, or 2 after "invalid configuration:" and
/// every error on stderr.
int configuration_status(const EnvReader& env);

/// A start refused: "<program>: invalid configuration:" and every error on
/// stderr, each also logged. Returns 2, the exit status.
int refuse_to_start(const EnvReader& env, std::string_view program);

}  // namespace streamshift
