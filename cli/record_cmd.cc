// mw record verify FILE [--dispatcher-key KEY]: checks a worker's work record offline (both
// signatures and its shape; engine/record/work_record.h) and says whose keys signed it.
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
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
  absl::StatusOr<record::VerifiedRecord> v = record::VerifyRecord(text);
  if (!v.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(o.file, ": NOT a valid work record: ", v.status().message()));
  }
  const std::string fingerprint = record::Fingerprint(v->dispatcher_key);
  if (!o.dispatcher_key.empty() && o.dispatcher_key != fingerprint &&
      record::FromKeyText(o.dispatcher_key) != v->dispatcher_key) {
    return absl::InvalidArgumentError(absl::StrCat(o.file, ": signed by dispatcher key ",
                                                   fingerprint, ", not the one given (",
                                                   o.dispatcher_key, ")"));
  }
  std::cout << o.file << ": a valid work record of worker " << TerminalText(v->worker)
            << (v->name.has_value() ? absl::StrCat(" (", TerminalText(*v->name), ")") : "")
            << " at centre " << TerminalText(v->centre) << "\n"
            << "  signed by the dispatcher key " << fingerprint
            << (o.dispatcher_key.empty() ? " (compare it with the one the operator publishes)"
                                         : " (the one given)")
            << "\n  and by centre " << TerminalText(v->centre) << "'s key "
            << record::Fingerprint(v->centre_key) << ", which the dispatcher's half names\n";
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
                     "The dispatcher key the operator publishes (fingerprint or ed25519:...); "
                     "a record signed by another fails");
  verify->callback([run, o] { *run = [o](const Connect&) { return Verify(*o); }; });
}

}  // namespace mw::cli
