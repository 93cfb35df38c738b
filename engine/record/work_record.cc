#include "engine/record/work_record.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"

namespace mw::record {
namespace {

constexpr absl::string_view kHeader = "microwork work record, version 1";
constexpr absl::string_view kWorker = "Worker: ";
constexpr absl::string_view kAtCentre = " at centre ";
constexpr absl::string_view kCentreKey = "Centre key: ";
constexpr absl::string_view kDispatcherKey = "Dispatcher key: ";
constexpr absl::string_view kDispatcherSignature = "Dispatcher signature: ";
constexpr absl::string_view kName = "Name: ";
constexpr absl::string_view kNoName = "(not shown, at the worker's choice)";
constexpr absl::string_view kAttested = "Attested: ";
constexpr absl::string_view kCentreSignature = "Centre signature: ";
constexpr size_t kMaxRecordBytes = 64 * 1024;
constexpr size_t kMaxNameChars = 100;

std::string Day(absl::Time t) { return absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()); }

// "a of b <what> (p%)", or "none" when b is 0.
std::string OutOf(uint64_t a, uint64_t b, absl::string_view what) {
  if (b == 0) return "none";
  return absl::StrCat(a, " of ", b, " ", what, " (", 100 * a / b, "%)");
}

// A line of `text` and where it starts.
struct Line {
  size_t offset;
  absl::string_view text;
};

absl::Status LineError(size_t index, absl::string_view expected) {
  return absl::InvalidArgumentError(
      absl::StrCat("record line ", index + 1, ": expected ", expected));
}

// The lines of `text`, which ends with a newline.
std::vector<Line> Lines(absl::string_view text) {
  std::vector<Line> lines;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == absl::string_view::npos) end = text.size();
    lines.push_back({at, text.substr(at, end - at)});
    at = end + 1;
  }
  return lines;
}

// The value of the first line before `end` that starts with `prefix`, or nullopt.
std::optional<absl::string_view> Field(const std::vector<Line>& lines, size_t end,
                                       absl::string_view prefix) {
  for (size_t i = 0; i < end; ++i) {
    if (absl::StartsWith(lines[i].text, prefix)) return lines[i].text.substr(prefix.size());
  }
  return std::nullopt;
}

// Whether `name` is one plain line a record may show: valid UTF-8 of at most kMaxNameChars
// characters, without control, line or paragraph separators, or bidirectional overrides (which
// could make it read as another line or reorder what follows), trimmed, not starting with "(".
bool PlainName(absl::string_view name) {
  if (name.empty() || absl::StartsWith(name, "(") || name != absl::StripAsciiWhitespace(name)) {
    return false;
  }
  size_t chars = 0;
  for (size_t i = 0; i < name.size(); ++chars) {
    const auto c = static_cast<unsigned char>(name[i]);
    int len = c < 0x80             ? 1
              : (c & 0xE0) == 0xC0 ? 2
              : (c & 0xF0) == 0xE0 ? 3
              : (c & 0xF8) == 0xF0 ? 4
                                   : 0;
    if (len == 0 || i + len > name.size()) return false;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(name[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
        (cp >= 0x200E && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
        (cp >= 0x2066 && cp <= 0x2069)) {
      return false;
    }
    i += len;
  }
  return chars <= kMaxNameChars;
}

}  // namespace

namespace {

// Checks the dispatcher's half: lines[0, d) and the dispatcher's signature at lines[d].
absl::StatusOr<VerifiedRecord> VerifyHalf(absl::string_view text, const std::vector<Line>& lines,
                                          size_t d) {
  if (lines[0].text != kHeader) return LineError(0, absl::StrCat("\"", kHeader, "\""));
  if (d == 0 || !absl::StartsWith(lines[d].text, kDispatcherSignature)) {
    return LineError(d, "\"Dispatcher signature: ed25519:<signature>\"");
  }
  VerifiedRecord v;
  const std::optional<absl::string_view> worker = Field(lines, d, kWorker);
  const size_t at = worker.has_value() ? worker->rfind(kAtCentre) : absl::string_view::npos;
  if (at == absl::string_view::npos) {
    return LineError(1, "\"Worker: <pseudonym> at centre <centre>\"");
  }
  v.worker = std::string(worker->substr(0, at));
  v.centre = std::string(worker->substr(at + kAtCentre.size()));
  const std::optional<absl::string_view> dispatcher_key = Field(lines, d, kDispatcherKey);
  const std::optional<absl::string_view> centre_key = Field(lines, d, kCentreKey);
  v.dispatcher_key = dispatcher_key.has_value() ? FromKeyText(*dispatcher_key) : "";
  v.centre_key = centre_key.has_value() ? FromKeyText(*centre_key) : "";
  if (v.dispatcher_key.size() != kPublicKeyBytes) {
    return LineError(d,
                     "a line \"Dispatcher key: ed25519:<key>\" before the dispatcher's signature");
  }
  if (v.centre_key.size() != kPublicKeyBytes) {
    return LineError(d, "a line \"Centre key: ed25519:<key>\" before the dispatcher's signature");
  }
  const std::string dispatcher_signature =
      FromKeyText(lines[d].text.substr(kDispatcherSignature.size()));
  if (!VerifySignature(v.dispatcher_key, text.substr(0, lines[d].offset), dispatcher_signature)) {
    return LineError(d, "the dispatcher's signature of every line above it; it does not match");
  }
  return v;
}

}  // namespace

std::string IssueDispatcherHalf(const WorkFacts& f, absl::string_view centre_key, absl::Time issued,
                                const SigningKey& installation) {
  std::string text = absl::StrCat(kHeader, "\n");
  absl::StrAppend(&text, kWorker, absl::CHexEscape(f.worker), kAtCentre, absl::CHexEscape(f.centre),
                  "\n");
  absl::StrAppend(&text, kCentreKey, KeyText(centre_key), "\n");
  absl::StrAppend(&text, kDispatcherKey, KeyText(installation.public_key()), "\n");
  absl::StrAppend(&text, "Issued: ", Day(issued), "\n");
  absl::StrAppend(&text, "Period: ",
                  f.first_ms > 0 ? absl::StrCat(Day(absl::FromUnixMillis(f.first_ms)), " to ",
                                                Day(absl::FromUnixMillis(f.last_ms)))
                                 : "not known",
                  "\n");
  absl::StrAppend(&text, "Jobs: ", f.jobs, "\n");
  absl::StrAppend(&text, "Answers: ", f.answers, "\n");
  absl::StrAppend(&text, "Hours on task: ", absl::StrFormat("%.1f", f.active_seconds / 3600.0),
                  "\n");
  absl::StrAppend(&text, "Check tasks: ", OutOf(f.checks_right, f.checks, "right"), "\n");
  absl::StrAppend(&text, "Agreement with verdicts: ", OutOf(f.agreed, f.verdicts, "agreed"), "\n");
  absl::StrAppend(&text, "By kind of work:", f.kinds.empty() ? " none" : "", "\n");
  for (const KindFacts& k : f.kinds) {
    absl::StrAppend(&text, "  ", k.skill.empty() ? "any skill" : absl::CHexEscape(k.skill), " in ",
                    k.language.empty() ? "any language" : absl::CHexEscape(k.language), ": checks ",
                    OutOf(k.checks_right, k.checks, "right"), ", verdicts ",
                    OutOf(k.agreed, k.verdicts, "agreed"),
                    absl::StrFormat(", skill %.2f", k.estimate), "\n");
  }
  absl::StrAppend(&text, kDispatcherSignature, KeyText(installation.Sign(text)), "\n");
  return text;
}

absl::StatusOr<std::string> Attest(absl::string_view half, std::optional<std::string> name,
                                   absl::Time attested, const SigningKey& centre) {
  // The half must be a record up to its dispatcher signature, naming this centre's key.
  if (half.empty() || half.size() > kMaxRecordBytes || half.back() != '\n') {
    return absl::InvalidArgumentError(
        "expected the dispatcher's half of a record, ending with a newline");
  }
  const std::vector<Line> lines = Lines(half);
  MW_ASSIGN_OR_RETURN(const VerifiedRecord checked, VerifyHalf(half, lines, lines.size() - 1));
  if (checked.centre_key != centre.public_key()) {
    return absl::InvalidArgumentError("the record names another centre key than this centre's");
  }
  if (name.has_value() && !PlainName(*name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("name: expected one line of at most ", kMaxNameChars,
                     " characters, without control characters or a leading \"(\""));
  }
  std::string text = absl::StrCat(half, kName, name.has_value() ? *name : kNoName, "\n", kAttested,
                                  Day(attested), " by centre ", checked.centre, "\n");
  absl::StrAppend(&text, kCentreSignature, KeyText(centre.Sign(text)), "\n");
  return text;
}

absl::StatusOr<VerifiedRecord> VerifyRecord(absl::string_view text) {
  if (text.size() > kMaxRecordBytes) {
    return absl::InvalidArgumentError(absl::StrCat("expected a record of at most ", kMaxRecordBytes,
                                                   " bytes, got ", text.size()));
  }
  if (text.empty() || text.back() != '\n') {
    return absl::InvalidArgumentError("expected a record ending with its centre signature line");
  }
  const std::vector<Line> lines = Lines(text);
  if (lines[0].text != kHeader) return LineError(0, absl::StrCat("\"", kHeader, "\""));
  size_t d = 1;
  while (d < lines.size() && !absl::StartsWith(lines[d].text, kDispatcherSignature)) ++d;
  if (d + 4 != lines.size()) {
    return LineError(std::min(d, lines.size() - 1),
                     "the dispatcher's signature, then the name, the attestation and the centre's "
                     "signature as the last four lines");
  }
  MW_ASSIGN_OR_RETURN(VerifiedRecord v, VerifyHalf(text, lines, d));
  if (!absl::StartsWith(lines[d + 1].text, kName)) return LineError(d + 1, "\"Name: ...\"");
  const absl::string_view name = lines[d + 1].text.substr(kName.size());
  if (name != kNoName) {
    if (!PlainName(name)) return LineError(d + 1, "a name of one plain line");
    v.name = std::string(name);
  }
  if (!absl::StartsWith(lines[d + 2].text, kAttested) ||
      !absl::EndsWith(lines[d + 2].text, absl::StrCat(" by centre ", v.centre))) {
    return LineError(
        d + 2, absl::StrCat("\"Attested: <date> by centre ", absl::CHexEscape(v.centre), "\""));
  }
  if (!absl::StartsWith(lines[d + 3].text, kCentreSignature)) {
    return LineError(d + 3, "\"Centre signature: ed25519:<signature>\"");
  }
  const std::string centre_signature =
      FromKeyText(lines[d + 3].text.substr(kCentreSignature.size()));
  if (!VerifySignature(v.centre_key, text.substr(0, lines[d + 3].offset), centre_signature)) {
    return LineError(d + 3,
                     "the centre's signature of every line above it, by the centre key the "
                     "dispatcher's half names; it does not match");
  }
  return v;
}

std::string Fingerprint(absl::string_view public_key) {
  const std::string hex = absl::BytesToHexString(Sha256(public_key).substr(0, 16));
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 4)
    absl::StrAppend(&out, i == 0 ? "" : "-", hex.substr(i, 4));
  return out;
}

}  // namespace mw::record
