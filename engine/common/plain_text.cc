#include "engine/common/plain_text.h"

#include <cmath>

#include "absl/strings/numbers.h"

namespace mw {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

// Copies `v`, replacing C0 controls (except those `keep` lets through), DEL and C1 controls
// (U+0080 to U+009F, two bytes in UTF-8: C2 80 to C2 9F).
std::string ReplaceControls(absl::string_view v, bool (*keep)(char)) {
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(v[i]);
    if ((c < 0x20 && !keep(v[i])) || c == 0x7F) {
      out += kReplacement;
    } else if (c == 0xC2 && i + 1 < v.size() && static_cast<unsigned char>(v[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(v[i + 1]) <= 0x9F) {
      out += kReplacement;
      ++i;
    } else {
      out += v[i];
    }
  }
  return out;
}

bool IsPlainNumber(absl::string_view v) {
  double d;
  return absl::SimpleAtod(v, &d) && std::isfinite(d) &&
         v.find_first_not_of("+-.0123456789eE") == absl::string_view::npos;
}

}  // namespace

std::string CsvField(absl::string_view v) {
  std::string text = ReplaceControls(v, [](char c) { return c == '\t' || c == '\n' || c == '\r'; });
  if (!text.empty() && absl::string_view("=+-@\t\r").find(text[0]) != absl::string_view::npos &&
      !IsPlainNumber(text)) {
    text.insert(0, "'");
  }
  if (text.find_first_of(",\"\n\r'") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void AppendCsvField(absl::string_view v, std::string* out) {
  bool plain = v.empty() || absl::string_view("=+-@").find(v[0]) == absl::string_view::npos;
  for (size_t i = 0; plain && i < v.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(v[i]);
    // Controls, DEL, the lead byte of a C1 control (and of other U+0080..U+00BF: the slow way
    // decides), and what gets a field quoted.
    plain = c >= 0x20 && c != 0x7F && c != 0xC2 && c != ',' && c != '"' && c != '\'';
  }
  if (plain) {
    out->append(v.data(), v.size());
  } else {
    out->append(CsvField(v));
  }
}

std::string TerminalText(absl::string_view v) {
  return ReplaceControls(v, [](char) { return false; });
}

}  // namespace mw
