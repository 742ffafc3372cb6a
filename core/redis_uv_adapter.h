// Our own libuv adapter for hiredis 0.14 async contexts.
//
// hiredis 0.14.1's adapters/libuv.h returns early when libuv reports an
// error status, and libuv 1.44 reports POLLERR that way: a refused, timed
// out or reset connection is then never seen and every pending command
// waits forever. This adapter hands an error status to both the read and
// the write handler, so hiredis notices the socket error and fails the
// connection and its commands.
#pragma once

#include <hiredis/async.h>
#include <uv.h>

namespace streamshift {

/// Attaches `ac` to `loop` through ac->ev. 0, or a libuv error code.
/// The adapter frees itself (in its handle's close callback) when hiredis
/// calls the cleanup hook, i.e. when the context is freed.
int redis_uv_attach(uv_loop_t* loop, redisAsyncContext* ac);

}  // namespace streamshift
