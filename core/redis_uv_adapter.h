// Our own libuv adapter for hiredis 0.14 async contexts.
//
// hiredis 0.14.1's adapters/libuv.h returns early when libuv reports an
// error status, and libuv 1.44 reports POLLERR that way: a refused, timed
// out or reset connection is then never seen and every pending command
// waits forever. This adapter hands an error status to both the read and
// the write handler, so hiredis notices the socket error and fails the
// connection and its commands.
//
// Writes do not wait for POLLOUT: libuv's uv_poll_start removes and re-adds
// the fd in epoll on every call (three to five epoll_ctl per command batch
// when write interest is toggled per command). A command's write interest
// instead arms a uv_prepare handle, which flushes everything queued during
// the loop turn in one write just before the loop blocks. Only when that
// write cannot finish (a full socket buffer, a connect in progress) does
// the adapter poll for POLLOUT. Read interest stays on for the connection's
// life.
//
// The adapter also holds the context's ReplyGuard (redis_reply_limits.h)
// and checks, after every read, what the reader buffers.
#pragma once

#include <hiredis/async.h>
#include <uv.h>

#include <string_view>

#include "core/redis_reply_limits.h"

namespace streamshift {

/// Attaches `ac` to `loop` through ac->ev, with `limits` on its replies.
/// 0, or a libuv error code. The adapter frees itself (in its handles'
/// close callbacks) when hiredis calls the cleanup hook, i.e. when the
/// context is freed.
int redis_uv_attach(uv_loop_t* loop, redisAsyncContext* ac, const RedisReplyLimits& limits);

/// Fails the connection now, as a read error would: pending callbacks get
/// a NULL reply, then the disconnect callback runs with REDIS_ERR and
/// `why` in ac->errstr. Not from inside a hiredis callback.
void redis_uv_fail(redisAsyncContext* ac, std::string_view why);

}  // namespace streamshift
