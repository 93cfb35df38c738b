#include "engine/common/ids.h"

#include <algorithm>
#include <initializer_list>

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
  // Exactly three parts, read in place (ids are parsed several times for every answer).
  const size_t a = task_id.find('/');
  const size_t b = a == absl::string_view::npos ? a : task_id.find('/', a + 1);
  const bool three =
      b != absl::string_view::npos && task_id.find('/', b + 1) == absl::string_view::npos;
  const absl::string_view job = three ? task_id.substr(0, a) : absl::string_view();
  const absl::string_view stage = three ? task_id.substr(a + 1, b - a - 1) : absl::string_view();
  const absl::string_view item = three ? task_id.substr(b + 1) : absl::string_view();
  // The item as TaskId writes it, and only so: "04", "+4" or " 4" would name item 4 under
  // another spelling, and so another assignment id (and wage id) for the same contribution.
  const bool canonical = !item.empty() && (item.size() == 1 || item[0] != '0') &&
                         std::all_of(item.begin(), item.end(), absl::ascii_isdigit);
  TaskRef ref;
  if (job.empty() || stage.empty() || !canonical || !absl::SimpleAtoi(item, &ref.item)) {
    return absl::InvalidArgumentError(
        absl::StrCat("task id \"", task_id, "\": expected <job>/<stage>/<item>"));
  }
  ref.job_id = std::string(job);
  ref.stage = std::string(stage);
  return ref;
}

namespace {

// The parts one after another, in a string allocated once at its length. absl::StrCat as built
// here sizes its result with resize(), which writes every byte before it is overwritten: with the
// allocation, most of what making an id cost, and ids are made many times for every answer.
std::string Joined(std::initializer_list<absl::string_view> parts) {
  size_t size = 0;
  for (absl::string_view p : parts) size += p.size();
  std::string out;
  out.reserve(size);
  for (absl::string_view p : parts) out.append(p.data(), p.size());
  return out;
}

}  // namespace

std::string AssignmentId(absl::string_view task_id, absl::string_view worker) {
  return Joined({task_id, "@", worker});
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
  return Joined({"client:", client, "/", currency});
}
std::string EscrowAccount(absl::string_view job_id) { return Joined({"escrow:", job_id}); }
std::string WorkerAccount(absl::string_view centre, absl::string_view worker) {
  return Joined({"worker:", centre, "/", worker});
}
std::string PlatformFeeAccount(absl::string_view currency) {
  return Joined({"platform-fee:", currency});
}
std::string CentreShareAccount(absl::string_view centre, absl::string_view currency) {
  return Joined({"centre-share:", centre, "/", currency});
}

std::string FundingTransferId(absl::string_view job_id) { return Joined({"fund:", job_id}); }
std::string OperatorFundingTransferId(absl::string_view job_id, absl::string_view key) {
  return Joined({"fund:", job_id, ":key:", key});
}
std::string TopUpTransferId(absl::string_view job_id, absl::string_view payment) {
  return Joined({"fund:", job_id, ":after:", payment});
}
std::string WageTransferId(absl::string_view assignment_id) {
  return Joined({"wage:", assignment_id});
}
std::string WagePostTransferId(absl::string_view assignment_id) {
  return Joined({"wage-post:", assignment_id});
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
