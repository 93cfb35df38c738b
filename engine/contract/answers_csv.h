// Reading crowd answers and gold labels from CSV, the layout of exported answers and of the
// public truth-inference datasets: "task,worker,label" and "task,label", with a header row; and
// pairwise comparisons, "worker,a,b,winner".
#ifndef MW_ENGINE_CONTRACT_ANSWERS_CSV_H_
#define MW_ENGINE_CONTRACT_ANSWERS_CSV_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "qa/bradley_terry.h"
#include "qa/crowd_data.h"

namespace mw::contract {

// Reads `path` into CrowdData (finalized). INVALID_ARGUMENT naming the line for a row without
// three fields; NOT_FOUND when the file cannot be read.
[[nodiscard]] absl::StatusOr<qa::CrowdData> ReadAnswersCsv(const std::string& path);

// Reads "task,label" rows.
[[nodiscard]] absl::StatusOr<std::map<std::string, std::string>> ReadGoldCsv(
    const std::string& path);

// Reads "worker,a,b,winner" rows: which of two items a worker judged better, the winner written
// "a", "b" or as the item itself. INVALID_ARGUMENT naming the line for a winner that is neither,
// or a row comparing an item with itself.
[[nodiscard]] absl::StatusOr<std::vector<qa::PairVote>> ReadComparisonsCsv(const std::string& path);

}  // namespace mw::contract

#endif  // MW_ENGINE_CONTRACT_ANSWERS_CSV_H_
