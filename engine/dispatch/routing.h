// Routing rules: which centres a human stage may go to, and which workers on duty may take it.
// Pure functions over the contract and the centre; the dispatcher engine and `mw contract check`
// both use them, so the plan an operator sees is the rule the dispatcher applies.
//
// Nothing here looks at, or could look at, gender, nationality, age or religion: the dispatcher
// does not hold them.
#ifndef MW_ENGINE_DISPATCH_ROUTING_H_
#define MW_ENGINE_DISPATCH_ROUTING_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "engine/common/money.h"
#include "microwork/v1/contract.pb.h"
#include "microwork/v1/dispatch.pb.h"

namespace mw::dispatch {

struct Eligibility {
  bool ok = false;
  std::string why_not;  // empty when ok; otherwise one reason an operator can act on
};

// The rate `contract` agreed for paying in `currency`: nullopt for the contract's own currency;
// NOT_FOUND when none is agreed; INVALID_ARGUMENT for a rate that does not parse.
absl::StatusOr<std::optional<FxRate>> AgreedRate(const microwork::v1::Contract& contract,
                                                 const std::string& currency);

// Whether `stage` of `contract` may be sent to `centre`: its data-residency regions, its currency
// (another currency needs a rate agreed in the contract), and its wage floor (piece rate /
// estimated time, rounded down, converted at the agreed rate, must be at least the centre's
// hourly floor).
Eligibility CentreEligibility(const microwork::v1::Contract& contract,
                              const microwork::v1::HumanStage& stage,
                              const microwork::v1::Centre& centre);

// Whether `worker` (on duty) has every skill and language `stage` needs.
bool WorkerQualifies(const microwork::v1::HumanStage& stage,
                     const microwork::v1::WorkerOnDuty& worker);

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_ROUTING_H_
