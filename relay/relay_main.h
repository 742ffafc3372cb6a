// `streamshift relay`: the relay program (relay.h and its admin listener,
// run by core/process_runner.h), and its configuration check
// (`streamshift check-config [--strict] relay`).
#pragma once

namespace streamshift {

/// Runs the relay until SIGTERM or SIGINT; the process exit status.
int run_relay();

/// Prints the effective configuration and the consumer; 0, or 2 naming
/// every invalid variable on stderr. `strict`: unknown variables with our
/// prefixes are errors (without it they are not looked for).
int check_relay_config(bool strict);

}  // namespace streamshift
