// Text from outside (a worker's answer, a centre's note, a client's row) on its way into a
// spreadsheet or onto a terminal, where some characters are instructions, not text.
#ifndef MW_ENGINE_COMMON_PLAIN_TEXT_H_
#define MW_ENGINE_COMMON_PLAIN_TEXT_H_

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"

namespace mw {

// `v` as one RFC 4180 field that a spreadsheet shows as text and never runs:
// - control characters other than tab and line breaks (C0, DEL, C1) become U+FFFD;
// - a value a spreadsheet would read as a formula (first character =, +, -, @, tab or carriage
//   return) gets a leading apostrophe, unless it is a plain number such as -5 or +3.25 (OWASP's
//   advice for CSV injection);
// - quoted when it holds a comma, a quote, a line break or a leading apostrophe.
std::string CsvField(absl::string_view v);

// CsvField(v) appended to `out`: the same text, without a string made for a field that needs
// nothing done to it (most of a million-row export's).
void AppendCsvField(absl::string_view v, std::string* out);

// AppendCsvField of the text `write` appends to `out`, for a field made of several parts: they
// are written in place, and the field is rewritten only when it needs something done.
void AppendCsvFieldWith(std::string* out, absl::FunctionRef<void(std::string*)> write);

// `v` for one line of a terminal: every control character (line breaks too, and escape
// sequences) becomes U+FFFD, so a value cannot move the cursor, recolour or retitle the terminal.
std::string TerminalText(absl::string_view v);

}  // namespace mw

#endif  // MW_ENGINE_COMMON_PLAIN_TEXT_H_
