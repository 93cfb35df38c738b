#include "testing/contracts.h"

#include "absl/strings/str_cat.h"

namespace mw::testing {

std::string ManyReviewsContract(int items) {
  std::string rows = "id,text\\n";
  for (int i = 0; i < items; ++i) absl::StrAppend(&rows, "r", i, ",review ", i, "\\n");
  return absl::StrCat(R"(
name: Many reviews
client: acme
currency: USD
budget_minor: 1000000
inputs:
  - {name: reviews, format: FORMAT_CSV, inline_text: ")",
                      rows, R"("}
stages:
  - name: rows
    split: {input: reviews, by: SPLIT_ROWS}
  - name: label
    after: [rows]
    human:
      instructions: {en: "Positive or negative?"}
      answer: {single_choice: {options: [positive, negative]}}
      piece_rate_minor: 5
      estimated_seconds: 20
      overlap: 1
  - name: result
    after: [label]
    merge: {}
)");
}

}  // namespace mw::testing
