#include "engine/dispatch/routing.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/money.h"

namespace mw::dispatch {

Eligibility CentreEligibility(const microwork::v1::Contract& contract,
                              const microwork::v1::HumanStage& stage,
                              const microwork::v1::Centre& centre) {
  if (!stage.regions().empty() && std::find(stage.regions().begin(), stage.regions().end(),
                                            centre.region()) == stage.regions().end()) {
    return {false, absl::StrCat("region ", centre.region(), " is not among the stage's regions (",
                                absl::StrJoin(stage.regions(), ", "), ")")};
  }
  if (centre.currency() != contract.currency()) {
    return {false, absl::StrCat("pays in ", centre.currency(), "; no exchange rate from ",
                                contract.currency(), " is agreed")};
  }
  auto hourly = HourlyRateMinor(stage.piece_rate_minor(), stage.estimated_seconds());
  if (!hourly.ok()) return {false, std::string(hourly.status().message())};
  if (*hourly < centre.wage_floor_minor_per_hour()) {
    return {false,
            absl::StrCat("pays ", FormatMoney(*hourly, contract.currency()),
                         "/h, below the centre's floor of ",
                         FormatMoney(centre.wage_floor_minor_per_hour(), centre.currency()), "/h")};
  }
  return {true, ""};
}

bool WorkerQualifies(const microwork::v1::HumanStage& stage,
                     const microwork::v1::WorkerOnDuty& worker) {
  auto has_all = [](const auto& needed, const auto& held) {
    return std::all_of(needed.begin(), needed.end(), [&](const std::string& n) {
      return std::find(held.begin(), held.end(), n) != held.end();
    });
  };
  return has_all(stage.skills(), worker.skills()) && has_all(stage.languages(), worker.languages());
}

}  // namespace mw::dispatch
