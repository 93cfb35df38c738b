// The idempotency key of each decision a person makes at the centre's pages, derived from what
// the decision is about, so that a form posted twice (a double tap, a retry on a bad
// connection) is one decision at the dispatcher, and a different decision gets a different key.
// One home: the page handlers only fill the request and call these.
//
//   req.set_idempotency_key(DecisionKey(req));
#ifndef MW_WORKER_AGENT_WEB_DECISION_KEYS_H_
#define MW_WORKER_AGENT_WEB_DECISION_KEYS_H_

#include <string>

#include "microwork/v1/services.pb.h"

namespace mw::agent::web {

// A worker disputes the withholding on one assignment: once per assignment.
std::string DecisionKey(const microwork::v1::DisputeWithholdingRequest& r);
// A manager resolves a dispute: per assignment, person and outcome.
std::string DecisionKey(const microwork::v1::ResolveDisputeRequest& r);
std::string DecisionKey(const microwork::v1::WithholdWageRequest& r);
// A manager moves an assignment: per assignment and the worker it goes to.
std::string DecisionKey(const microwork::v1::ReassignRequest& r);
// A manager decides a review: per task and reviewer.
std::string DecisionKey(const microwork::v1::DecideReviewRequest& r);

}  // namespace mw::agent::web

#endif  // MW_WORKER_AGENT_WEB_DECISION_KEYS_H_
