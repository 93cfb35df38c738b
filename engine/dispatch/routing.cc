#include "engine/dispatch/routing.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/money.h"

namespace mw::dispatch {

absl::StatusOr<std::optional<FxRate>> AgreedRate(const microwork::v1::Contract& contract,
                                                 const std::string& currency) {
  if (currency == contract.currency()) return std::optional<FxRate>();
  for (const auto& r : contract.exchange_rates()) {
    if (r.currency() != currency) continue;
    auto rate = ParseFxRate(contract.currency(), currency, r.rate(),
                            absl::StrCat("agreed ", r.agreed_at(), " by ", r.agreed_by()));
    if (!rate.ok()) return rate.status();
    return std::optional<FxRate>(*std::move(rate));
  }
  return absl::NotFoundError(absl::StrCat("pays in ", currency, "; no exchange rate from ",
                                          contract.currency(), " is agreed"));
}

Eligibility CentreEligibility(const microwork::v1::Contract& contract,
                              const microwork::v1::HumanStage& stage,
                              const microwork::v1::Centre& centre) {
  if (!stage.regions().empty() && std::find(stage.regions().begin(), stage.regions().end(),
                                            centre.region()) == stage.regions().end()) {
    return {false, absl::StrCat("region ", centre.region(), " is not among the stage's regions (",
                                absl::StrJoin(stage.regions(), ", "), ")")};
  }
  auto rate = AgreedRate(contract, centre.currency());
  if (!rate.ok()) return {false, std::string(rate.status().message())};
  auto hourly = HourlyRateMinor(stage.piece_rate_minor(), stage.estimated_seconds());
  if (!hourly.ok()) return {false, std::string(hourly.status().message())};
  // At the agreed rate, rounded down like the hourly figure: the check never flatters it.
  int64_t local = *hourly;
  if (rate->has_value()) {
    auto converted = ConvertMinorDown(*hourly, **rate);
    if (!converted.ok()) return {false, std::string(converted.status().message())};
    local = *converted;
  }
  if (local < centre.wage_floor_minor_per_hour()) {
    return {false, absl::StrCat(
                       "pays ", FormatMoney(*hourly, contract.currency()), "/h",
                       rate->has_value() ? absl::StrCat(" (", FormatMoney(local, centre.currency()),
                                                        "/h at ", (*rate)->text, ")")
                                         : "",
                       ", below the centre's floor of ",
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
