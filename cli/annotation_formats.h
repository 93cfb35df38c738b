// The formats ML teams load directly, written from a job's exported rows (ResultRecord).
//
// AnswerJson: a verdict in its own shape, for JSONL: spans as [{start, end, label, text}] (code
// points of the marked field, end exclusive), a comparison as {winner, reason}, a ranking as the
// ordered list of fields; other kinds as their text.
//
// CoNLL-2003 (WriteConllItem): after one "-DOCSTART- -X- -X- O" line and a blank line, each
// item's words (engine/common/words.h, the words the worker tapped) one per line as
// "word -X- _ TAG", where TAG is B-<label> on a span's first word, I-<label> on the words after
// it and O outside any span (IOB2), and a blank line after each item.
#ifndef MW_CLI_ANNOTATION_FORMATS_H_
#define MW_CLI_ANNOTATION_FORMATS_H_

#include <ostream>
#include <string>

#include "microwork/v1/dispatch.pb.h"
#include "nlohmann/json.hpp"

namespace mw::cli {

namespace v1 = ::microwork::v1;

// The line a CoNLL-2003 file starts with, before its blank line.
inline constexpr char kConllStart[] = "-DOCSTART- -X- -X- O\n\n";

nlohmann::ordered_json AnswerJson(const v1::Answer& answer, const v1::Item& item);

// The verdict of spans stage `stage` in `rec`'s provenance (the first spans verdict when `stage`
// is empty), or nullptr when the item has none (it was stopped before that stage, say).
const v1::Provenance* SpansVerdict(const v1::ResultRecord& rec, const std::string& stage);

// Writes `rec`'s words with their tags from its spans verdict (SpansVerdict) and the blank line
// after them. False, writing nothing, when it has none.
bool WriteConllItem(const v1::ResultRecord& rec, const std::string& stage, std::ostream* out);

}  // namespace mw::cli

#endif  // MW_CLI_ANNOTATION_FORMATS_H_
