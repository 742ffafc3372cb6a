// The relay's /readyz answer.
#include "relay/relay_admin.h"

#include <gtest/gtest.h>

namespace streamshift {
namespace {

TEST(RelayAdmin, ReadyOrTheReasonWhyNot) {
  ProbeAnswer ready = relay_readiness("");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "{\"status\":\"ready\"}");
  ProbeAnswer not_ready = relay_readiness("redis \"down\"");
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_EQ(not_ready.body, "{\"status\":\"redis \\\"down\\\"\"}");
}

}  // namespace
}  // namespace streamshift
