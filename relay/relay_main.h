// `streamshift relay`: the relay program (see relay.h), and its
// configuration check (`streamshift check-config relay`).
#pragma once

namespace streamshift {

/// Runs the relay until SIGTERM or SIGINT; the process exit status.
int run_relay();

}  // namespace streamshift
