// Answers against their schema: checking a worker's answer, and reducing it to the label that
// aggregation compares.
#ifndef MW_ENGINE_DISPATCH_ANSWERS_H_
#define MW_ENGINE_DISPATCH_ANSWERS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "microwork/v1/contract.pb.h"
#include "microwork/v1/dispatch.pb.h"
#include "qa/shapes.h"

namespace mw::dispatch {

// The field of `item` named `name` (the first, were there two), or nullptr. The one lookup of a
// field by its name.
const microwork::v1::Field* FieldNamed(const microwork::v1::Item& item, absl::string_view name);

// The value of the field `name`, or "" when the item has none.
const std::string& FieldValue(const microwork::v1::Item& item, absl::string_view name);

// Shapes as the wire carries them (ShapeSet) and as qa/shapes.h reads them, both ways: one owner
// of the correspondence (a polygon's corners in `polygon`, a point's x1 and y1 left 0).
std::vector<qa::LabelledShape> ShapesOf(const microwork::v1::ShapeSet& set);
void SetShapes(const std::vector<qa::LabelledShape>& shapes, microwork::v1::ShapeSet* set);

// OK when `answer` fits `schema` (a listed option, a length or range within bounds).
// INVALID_ARGUMENT naming what was expected otherwise. A skipped answer always fits.
// `item` is the item as the task shows it: spans are checked against its text (each starts and
// ends on a word, SplitWords) and shapes against its image (within its width and height);
// without it (nullptr) only their labels, count and order (or corners) are.
[[nodiscard]] absl::Status CheckAnswer(const microwork::v1::AnswerSchema& schema,
                                       const microwork::v1::Answer& answer,
                                       const microwork::v1::Item* item = nullptr);

// The form two answers are compared in: the choice; the sorted choices joined by '|'; text
// trimmed, lowercased (ASCII) with runs of spaces collapsed; a number as written; spans in
// qa/spans.h's text form; shapes in qa/shapes.h's; a comparison's "a" or "b"; a ranking's
// fields joined by '>'.
std::string AnswerLabel(const microwork::v1::Answer& answer);

// An answer carrying `label` in the shape of `schema` (the inverse of AnswerLabel for every kind
// but text, whose label is folded). A label that does not parse gives an empty answer.
microwork::v1::Answer LabelToAnswer(const microwork::v1::AnswerSchema& schema,
                                    const std::string& label);

// The answer `label` stands for under `schema` (LabelToAnswer), checked against `item` as
// CheckAnswer does. INVALID_ARGUMENT when it is not an answer the schema allows, or not written
// as AnswerLabel writes one (spans or shapes that do not parse, a box where points are asked).
[[nodiscard]] absl::StatusOr<microwork::v1::Answer> CheckedLabel(
    const microwork::v1::AnswerSchema& schema, const std::string& label,
    const microwork::v1::Item* item);

// The item field a schema's answer is about, shown by the answer's own widget instead of in
// the task's list of fields: a span stage's text, a shapes stage's image (and the shapes it
// starts from, drawn on it), a comparison's two versions, a ranking's options. Empty for the
// other kinds.
std::vector<std::string> FieldsShownByAnswer(const microwork::v1::AnswerSchema& schema);

// The known answer of a gold (check) row, as AnswerLabel gives it: the field `answer_field`
// ("answer" when empty) of `item`, which is removed from the item (the worker must not see it).
// INVALID_ARGUMENT saying what is wrong with the row: no such field, or an answer `schema` does
// not allow. Used alike by the dispatcher and by `mw contract check`.
[[nodiscard]] absl::StatusOr<std::string> TakeGoldAnswer(const microwork::v1::AnswerSchema& schema,
                                                         const std::string& answer_field,
                                                         microwork::v1::Item* item);

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_ANSWERS_H_
