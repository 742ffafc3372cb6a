// What the ingress's shared budgets hold now, read at scrape time (no cost
// on the hot path): open client connections against
// STREAMSHIFT_MAX_CONNECTIONS, and request body bytes in flight against
// STREAMSHIFT_BODY_BUDGET_BYTES.
#pragma once

#include <prometheus/collectable.h>

#include <vector>

#include "core/shared_budget.h"

namespace streamshift {

class IngressBudgetGauges : public prometheus::Collectable {
 public:
  /// `budgets` must outlive every scrape.
  explicit IngressBudgetGauges(const IngressBudgets& budgets) : budgets_(budgets) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const IngressBudgets& budgets_;
};

}  // namespace streamshift
