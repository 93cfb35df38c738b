#include "engine/common/ids.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace mw {

std::string TaskId(absl::string_view job_id, absl::string_view stage, uint64_t item) {
  return absl::StrCat(job_id, "/", stage, "/", item);
}

absl::StatusOr<TaskRef> ParseTaskId(absl::string_view task_id) {
  std::vector<absl::string_view> parts = absl::StrSplit(task_id, '/');
  TaskRef ref;
  // The item as TaskId writes it, and only so: "04", "+4" or " 4" would name item 4 under
  // another spelling, and so another assignment id (and wage id) for the same contribution.
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() ||
      !absl::SimpleAtoi(parts[2], &ref.item) || absl::StrCat(ref.item) != parts[2]) {
    return absl::InvalidArgumentError(
        absl::StrCat("task id \"", task_id, "\": expected <job>/<stage>/<item>"));
  }
  ref.job_id = std::string(parts[0]);
  ref.stage = std::string(parts[1]);
  return ref;
}

std::string AssignmentId(absl::string_view task_id, absl::string_view worker) {
  return absl::StrCat(task_id, "@", worker);
}

absl::StatusOr<std::pair<std::string, std::string>> ParseAssignmentId(
    absl::string_view assignment_id) {
  const size_t at = assignment_id.rfind('@');
  if (at == absl::string_view::npos || at == 0 || at + 1 == assignment_id.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("assignment id \"", assignment_id, "\": expected <task>@<worker>"));
  }
  return std::make_pair(std::string(assignment_id.substr(0, at)),
                        std::string(assignment_id.substr(at + 1)));
}

std::string ClientAccount(absl::string_view client, absl::string_view currency) {
  return absl::StrCat("client:", client, "/", currency);
}
std::string EscrowAccount(absl::string_view job_id) { return absl::StrCat("escrow:", job_id); }
std::string WorkerAccount(absl::string_view centre, absl::string_view worker) {
  return absl::StrCat("worker:", centre, "/", worker);
}
std::string PlatformFeeAccount(absl::string_view currency) {
  return absl::StrCat("platform-fee:", currency);
}
std::string CentreShareAccount(absl::string_view centre, absl::string_view currency) {
  return absl::StrCat("centre-share:", centre, "/", currency);
}

std::string FundingTransferId(absl::string_view job_id) { return absl::StrCat("fund:", job_id); }
std::string WageTransferId(absl::string_view assignment_id) {
  return absl::StrCat("wage:", assignment_id);
}
std::string WagePostTransferId(absl::string_view assignment_id) {
  return absl::StrCat("wage-post:", assignment_id);
}

bool IsSimpleName(absl::string_view name) {
  if (name.empty() || name.size() > 40) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string PersonKey(absl::string_view name) {
  std::string key;
  for (absl::string_view word : absl::StrSplit(name, ' ', absl::SkipWhitespace())) {
    if (!key.empty()) key += ' ';
    absl::StrAppend(&key, absl::AsciiStrToLower(absl::StripAsciiWhitespace(word)));
  }
  return key;
}

}  // namespace mw
