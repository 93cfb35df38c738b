#include "engine/common/plain_text.h"

#include <array>
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

// Whether CsvField(v) is `v` itself. Some values that are go the slow way too (those with a
// byte that may lead a C1 control): CsvField decides.
bool AsItIs(absl::string_view v) {
  // Controls, DEL, the lead byte of a C1 control (and of other U+0080..U+00BF), and what gets a
  // field quoted.
  static constexpr auto kNotAsItIs = [] {
    std::array<bool, 256> no{};
    for (int c = 0; c < 0x20; ++c) no[c] = true;
    for (int c : {0x7F, 0xC2, int{','}, int{'"'}, int{'\''}}) no[c] = true;
    return no;
  }();
  if (!v.empty() && absl::string_view("=+-@").find(v[0]) != absl::string_view::npos) return false;
  for (const char c : v) {
    if (kNotAsItIs[static_cast<unsigned char>(c)]) return false;
  }
  return true;
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
  if (AsItIs(v)) {
    out->append(v.data(), v.size());
  } else {
    out->append(CsvField(v));
  }
}

void AppendCsvFieldWith(std::string* out, absl::FunctionRef<void(std::string*)> write) {
  const size_t start = out->size();
  write(out);
  const absl::string_view written(out->data() + start, out->size() - start);
  if (AsItIs(written)) return;
  const std::string field = CsvField(written);
  out->resize(start);
  out->append(field);
}

std::string TerminalText(absl::string_view v) {
  return ReplaceControls(v, [](char) { return false; });
}

}  // namespace mw
