// `streamshift proxy`: the sidecar program (workers and the admin listener,
// run by core/process_runner.h), and its configuration check
// (`streamshift check-config [--strict] [proxy]`).
#pragma once

namespace streamshift {

/// Runs the sidecar until SIGTERM or SIGINT; the process exit status.
int run_proxy();

/// Prints the effective configuration, the routes and the transport
/// decision; 0, or 2 naming every invalid variable on stderr. `strict`:
/// unknown variables with our prefixes are errors, not warnings.
int check_proxy_config(bool strict);

}  // namespace streamshift
