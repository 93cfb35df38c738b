// An exported row (ResultRecord) as the text of `mw results export`: its answer as one string,
// and the row as one JSON object for a JSONL file.
#ifndef MW_CLI_RESULT_ROWS_H_
#define MW_CLI_RESULT_ROWS_H_

#include <string>

#include "microwork/v1/dispatch.pb.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace mw::cli {

namespace v1 = ::microwork::v1;

// `a` as one string: a choice, several choices joined by "|", a text or number as given, spans
// and shapes in their text form, "<winner>: <reason>" for a comparison, a ranking joined by ">".
std::string AnswerText(const v1::Answer& a);

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// `rec` as one JSON object, written as it goes (no document is built: a million rows are a
// million of these); its pieces nest under "children", in order. The text is what nlohmann's
// json writes for the same object (numbers, escapes, a field named twice once with its last
// value), as mw's exports always were.
void WriteRowJson(const v1::ResultRecord& rec, JsonWriter* w);

}  // namespace mw::cli

#endif  // MW_CLI_RESULT_ROWS_H_
