// mw record verify FILE [--dispatcher-key KEY]: checks a worker's work record offline (both
// signatures and its shape; engine/record/work_record.h) and says whose keys signed it.
#include <fstream>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "engine/common/status_macros.h"
#include "engine/record/work_record.h"

namespace mw::cli {
namespace {

struct VerifyOpts {
  std::string file, dispatcher_key;
};

absl::Status Verify(const VerifyOpts& o) {
  // Read one byte past the cap, so an oversized file is refused without reading it all.
  std::ifstream in(o.file, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(o.file, ": cannot read"));
  std::string text(64 * 1024 + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  // A record saved on another system may have CRLF line ends; its lines are the same.
  text = absl::StrReplaceAll(text, {{"\r\n", "\n"}});
  absl::StatusOr<record::VerifiedRecord> v = record::VerifyRecord(text);
  if (!v.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(o.file, ": NOT a valid work record: ", TerminalText(v.status().message())));
  }
  const std::string fingerprint = record::Fingerprint(v->dispatcher_key);
  const bool given = !o.dispatcher_key.empty();
  if (given && absl::AsciiStrToLower(o.dispatcher_key) != fingerprint &&
      record::FromKeyText(o.dispatcher_key) != v->dispatcher_key) {
    return absl::InvalidArgumentError(absl::StrCat(o.file, ": signed by dispatcher key ",
                                                   fingerprint, ", not the one given (",
                                                   TerminalText(o.dispatcher_key), ")"));
  }
  // Without the published key, intact signatures say only that nobody changed the record since
  // it was signed, not who signed it: say so first.
  std::cout << o.file << ": "
            << (given ? "a valid work record" : "signatures intact, signer NOT checked")
            << " (worker " << TerminalText(v->worker)
            << (v->name.has_value() ? absl::StrCat(", ", TerminalText(*v->name)) : "")
            << ", centre " << TerminalText(v->centre) << ")\n"
            << "  dispatcher key " << fingerprint
            << (given ? ": the one given\n"
                      : ": compare it with the one the operator publishes, or give "
                        "--dispatcher-key\n")
            << "  centre key " << record::Fingerprint(v->centre_key)
            << ", named in the dispatcher's signed half\n";
  return absl::OkStatus();
}

}  // namespace

void AddRecordCommands(CLI::App& app, Run* run) {
  auto* rec = app.add_subcommand("record", "Workers' portable work records");
  rec->require_subcommand(1);
  auto o = std::make_shared<VerifyOpts>();
  auto* verify = rec->add_subcommand(
      "verify", "Check a work record offline: both signatures, and whose keys they are");
  verify->add_option("file", o->file, "The record (text, as the worker downloaded it)")->required();
  verify->add_option("--dispatcher-key", o->dispatcher_key,
                     "The dispatcher key the operator publishes (its fingerprint, or "
                     "ed25519:...); a record signed by another fails, and without it the signer "
                     "is not checked");
  verify->callback([run, o] { *run = [o](const Connect&) { return Verify(*o); }; });
}

}  // namespace mw::cli
