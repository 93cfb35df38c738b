// mw admin backup --out DIR        online checkpoint on the dispatcher's host, audited
// mw admin restore --from DIR --data-dir NEW   (offline) install a backup for a new dispatcher
#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "engine/common/money.h"
#include "engine/common/status_macros.h"
#include "engine/ledger/auditor.h"
#include "engine/storage/store.h"
#include "proto/rpc/grpc_status.h"

namespace mw::cli {
namespace {

struct Opts {
  std::string out, from, data_dir;
};

void PrintTotals(uint64_t transfers, uint64_t accounts,
                 const std::map<std::string, std::pair<int64_t, int64_t>>& totals) {
  std::cout << "  " << transfers << " transfers, " << accounts
            << " accounts, hash chain unbroken\n";
  for (const auto& [currency, t] : totals) {
    std::cout << "  " << currency << ": debits = credits = " << FormatMoney(t.first, currency)
              << " posted, " << FormatMoney(t.second, currency) << " pending\n";
  }
}

absl::Status Backup(const Opts& o, const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::BackupRequest req;
  req.set_dir(o.out);
  v1::BackupReply reply;
  auto ctx = client->LongContext();
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ops().Backup(ctx.get(), req, &reply)));
  std::cout << "Backup in " << reply.dir() << " on the dispatcher's host (" << reply.took_ms()
            << " ms), ledger verified:\n";
  std::map<std::string, std::pair<int64_t, int64_t>> totals;
  for (const auto& t : reply.totals()) totals[t.currency()] = {t.posted_minor(), t.pending_minor()};
  PrintTotals(reply.transfers(), reply.accounts(), totals);
  return absl::OkStatus();
}

// Copies a checkpoint into NEW/db (the layout mw-dispatcher --data-dir NEW expects), then
// audits it there. The dispatcher must not be running on NEW.
absl::Status Restore(const Opts& o) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(o.from)) return absl::NotFoundError(absl::StrCat(o.from, ": no backup"));
  const fs::path db = fs::path(o.data_dir) / "db";
  if (fs::exists(db)) {
    return absl::FailedPreconditionError(
        absl::StrCat(db.string(), " exists: restore into a new data directory"));
  }
  std::error_code ec;
  fs::create_directories(db, ec);
  if (!ec) fs::copy(o.from, db, fs::copy_options::recursive, ec);
  if (ec) return absl::InternalError(absl::StrCat("copy to ", db.string(), ": ", ec.message()));
  MW_ASSIGN_OR_RETURN(auto store, storage::Store::Open(db.string(), storage::Schema::kDispatcher,
                                                       {.create_if_missing = false}));
  ledger::Auditor auditor;
  absl::Status audit = ledger::AuditStore(*store, &auditor);
  if (!audit.ok()) {
    return absl::DataLossError(
        absl::StrCat("the restored ledger does not verify: ", audit.message()));
  }
  std::cout << "Restored " << o.from << " into " << o.data_dir
            << " (start mw-dispatcher --data-dir " << o.data_dir << "), ledger verified:\n";
  std::map<std::string, std::pair<int64_t, int64_t>> totals;
  for (const auto& [currency, t] : auditor.currencies()) {
    totals[currency] = {t.debits_posted, t.debits_pending};
  }
  PrintTotals(auditor.transfers(), auditor.accounts(), totals);
  return absl::OkStatus();
}

}  // namespace

void AddAdminCommands(CLI::App& app, Run* run) {
  auto o = std::make_shared<Opts>();
  auto* admin = app.add_subcommand("admin", "Backups");
  admin->require_subcommand(1);
  auto* backup = admin->add_subcommand("backup", "Online checkpoint of the dispatcher's state");
  backup->add_option("--out", o->out, "New directory on the dispatcher's host")->required();
  backup->callback([run, o] { *run = [o](const Connect& c) { return Backup(*o, c); }; });
  auto* restore = admin->add_subcommand("restore", "Install a backup as a new data directory");
  restore->add_option("--from", o->from, "The backup directory")->required();
  restore->add_option("--data-dir", o->data_dir, "The new dispatcher's --data-dir")->required();
  restore->callback([run, o] { *run = [o](const Connect&) { return Restore(*o); }; });
}

}  // namespace mw::cli
