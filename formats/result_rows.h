// An exported row (ResultRecord) as the text of `mw results export`: its answer as one string,
// the row as one JSON object for a JSONL file, or as CSV rows. The dispatcher writes an export's
// pages in this text when asked for a format (ExportResultsRequest.format), and mw writes the
// same text from rows when a dispatcher sends rows.
//
//   ResultText text(ResultText::Format::kCsv);
//   std::string out;
//   for (const v1::ResultRecord& rec : rows) text.Append(rec, &out);  // the header comes first
#ifndef MW_FORMATS_RESULT_ROWS_H_
#define MW_FORMATS_RESULT_ROWS_H_

#include <string>

#include "microwork/v1/dispatch.pb.h"

namespace mw::formats {

namespace v1 = ::microwork::v1;

// `a` as one string: a choice, several choices joined by "|", a text or number as given, spans
// and shapes in their text form, "<winner>: <reason>" for a comparison, a ranking joined by ">".
std::string AnswerText(const v1::Answer& a);

// `rec` as one JSON object appended to `out`, written as it goes (no document is built: a million
// rows are a million of these); its pieces nest under "children", in order. The text is what
// nlohmann's json writes for the same object (numbers, escapes, a field named twice once with its
// last value), as mw's exports always were.
void WriteRowJson(const v1::ResultRecord& rec, std::string* out);

// The answer an answers export shows for `a`: the reason a skipped task gives, else AnswerText.
std::string AnswerRowAnswer(const v1::AnswerRow& a);

// `a` as one JSON object appended to `out`, as `mw results answers --format jsonl` writes it: the
// text nlohmann's json wrote for the same object, as WriteRowJson's is.
void WriteAnswerJson(const v1::AnswerRow& a, std::string* out);

// The CSV header of an export whose first row is `rec`: the item's fields (input columns, then
// each stage's verdict), its status, the last verdict's confidence, votes and workers, every
// verdict on the way, and the item's id and its parent's (for a piece).
std::string CsvHeader(const v1::ResultRecord& rec);

// `rec` as CSV rows appended to `out`: its own, then each of its pieces' (and theirs), in order.
void AppendCsvRows(const v1::ResultRecord& rec, std::string* out);

// The rows of one export, in order, as the text of its file: CSV (the header before the first
// row, from that row) or JSONL (one object per line, pieces nested under their parent).
class ResultText {
 public:
  enum class Format { kCsv, kJsonl };
  explicit ResultText(Format format) : format_(format) {}

  // Appends `rec`'s lines to `out`.
  void Append(const v1::ResultRecord& rec, std::string* out);

 private:
  const Format format_;
  bool header_ = false;  // CSV: written
};

}  // namespace mw::formats

#endif  // MW_FORMATS_RESULT_ROWS_H_
