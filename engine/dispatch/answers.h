// Answers against their schema: checking a worker's answer, and reducing it to the label that
// aggregation compares.
#ifndef MW_ENGINE_DISPATCH_ANSWERS_H_
#define MW_ENGINE_DISPATCH_ANSWERS_H_

#include <string>

#include "absl/status/status.h"
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

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_ANSWERS_H_
