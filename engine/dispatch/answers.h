// Answers against their schema: checking a worker's answer, and reducing it to the label that
// aggregation compares.
#ifndef MW_ENGINE_DISPATCH_ANSWERS_H_
#define MW_ENGINE_DISPATCH_ANSWERS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "microwork/v1/contract.pb.h"
#include "microwork/v1/dispatch.pb.h"

namespace mw::dispatch {

// OK when `answer` fits `schema` (a listed option, a length or range within bounds).
// INVALID_ARGUMENT naming what was expected otherwise. A skipped answer always fits.
[[nodiscard]] absl::Status CheckAnswer(const microwork::v1::AnswerSchema& schema,
                                       const microwork::v1::Answer& answer);

// The form two answers are compared in: the choice; the sorted choices joined by '|'; text
// trimmed, lowercased (ASCII) with runs of spaces collapsed; a number as written.
std::string AnswerLabel(const microwork::v1::Answer& answer);

// An answer carrying `label` in the shape of `schema` (the inverse of AnswerLabel for choices,
// numbers and text).
microwork::v1::Answer LabelToAnswer(const microwork::v1::AnswerSchema& schema,
                                    const std::string& label);

// The known answer of a gold (check) row, as AnswerLabel gives it: the field `answer_field`
// ("answer" when empty) of `item`, which is removed from the item (the worker must not see it).
// INVALID_ARGUMENT saying what is wrong with the row: no such field, or an answer `schema` does
// not allow. Used alike by the dispatcher and by `mw contract check`.
[[nodiscard]] absl::StatusOr<std::string> TakeGoldAnswer(const microwork::v1::AnswerSchema& schema,
                                                         const std::string& answer_field,
                                                         microwork::v1::Item* item);

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_ANSWERS_H_
