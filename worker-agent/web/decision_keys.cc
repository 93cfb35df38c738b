#include "worker-agent/web/decision_keys.h"

#include "absl/strings/str_cat.h"

namespace mw::agent::web {

namespace v1 = ::microwork::v1;

std::string DecisionKey(const v1::DisputeWithholdingRequest& r) {
  return absl::StrCat("dispute:", r.assignment_id());
}

std::string DecisionKey(const v1::ResolveDisputeRequest& r) {
  return absl::StrCat("resolve:", r.assignment_id(), ":", r.decided_by(), ":", r.restore() ? 1 : 0);
}

std::string DecisionKey(const v1::WithholdWageRequest& r) {
  return absl::StrCat("withhold:", r.assignment_id(), ":", r.decided_by());
}

std::string DecisionKey(const v1::ReassignRequest& r) {
  return absl::StrCat("move:", r.assignment_id(), ":", r.to_worker());
}

std::string DecisionKey(const v1::DecideReviewRequest& r) {
  return absl::StrCat("review:", r.task_id(), ":", r.reviewer(), ":", r.manager(), ":", r.label());
}

}  // namespace mw::agent::web
