// Identifiers derived from what they identify, never random, so a replay or a retry produces the
// same id (task ids from job, stage and item; transfer ids from the contribution they pay).
#ifndef MW_ENGINE_COMMON_IDS_H_
#define MW_ENGINE_COMMON_IDS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mw {

struct TaskRef {
  std::string job_id;
  std::string stage;
  uint64_t item = 0;
};

// "<job>/<stage>/<item>".
std::string TaskId(absl::string_view job_id, absl::string_view stage, uint64_t item);
// INVALID_ARGUMENT when `task_id` is not of that shape.
[[nodiscard]] absl::StatusOr<TaskRef> ParseTaskId(absl::string_view task_id);

// "<task_id>@<worker>": one worker's slot on a task; stable across re-leases.
std::string AssignmentId(absl::string_view task_id, absl::string_view worker);
// Splits an assignment id into task id and worker; INVALID_ARGUMENT when malformed.
[[nodiscard]] absl::StatusOr<std::pair<std::string, std::string>> ParseAssignmentId(
    absl::string_view assignment_id);

// Ledger account ids.
// A client's account in one currency: "client:<client>/<currency>".
std::string ClientAccount(absl::string_view client, absl::string_view currency);
std::string EscrowAccount(absl::string_view job_id);
std::string WorkerAccount(absl::string_view centre, absl::string_view worker);
// What the platform's fees come to, per currency: "platform-fee:<currency>".
std::string PlatformFeeAccount(absl::string_view currency);
// What a centre keeps for running itself, per currency: "centre-share:<centre>/<currency>".
std::string CentreShareAccount(absl::string_view centre, absl::string_view currency);

// The account that guarantees wages a job's escrow cannot cover: the platform pays, never the
// worker. Debits on it may exceed its credits (it is the outside world's, like a client's).
inline constexpr char kGuaranteeAccount[] = "client:platform-guarantee";

// Ledger transfer ids.
std::string FundingTransferId(absl::string_view job_id);
// A job's funding by an operator's call, under its idempotency key: "fund:<job>:key:<key>"; and
// the top-up a payment draws from the client once the job has ended: "fund:<job>:after:<payment>".
// Apart whatever the key and the payment (a job id holds no ':'): with the key straight after the
// job, a key "after:<payment>" made that payment's top-up id, refusing it and stalling the payment.
std::string OperatorFundingTransferId(absl::string_view job_id, absl::string_view key);
std::string TopUpTransferId(absl::string_view job_id, absl::string_view payment);
std::string WageTransferId(absl::string_view assignment_id);
std::string WagePostTransferId(absl::string_view assignment_id);

// True for 1-40 characters of [a-z0-9_-]: the form of stage names, centre ids and pseudonyms.
bool IsSimpleName(absl::string_view name);

// A person's name as separation of duties compares it: lower case, words separated by one
// space, so "Manager:Grace " and "manager:grace" are one person. (Named accounts will replace
// free-text names.)
std::string PersonKey(absl::string_view name);

}  // namespace mw

#endif  // MW_ENGINE_COMMON_IDS_H_
