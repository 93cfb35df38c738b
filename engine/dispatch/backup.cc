// Engine: online backups. A RocksDB checkpoint is consistent (one moment of the database) and
// is taken while the engine serves; the copy is opened on its own and audited before the reply.
#include <chrono>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/dispatch/engine.h"
#include "engine/ledger/audit_store.h"

namespace mw::dispatch {
namespace {

// Opens the copy in `dir` on its own and audits its ledger into `reply`'s totals. DATA_LOSS when
// it does not verify.
absl::Status AuditCopy(const std::string& dir, v1::BackupReply* reply) {
  MW_ASSIGN_OR_RETURN(auto copy, storage::Store::Open(dir, storage::Schema::kDispatcher,
                                                      {.create_if_missing = false}));
  ledger::Auditor auditor;
  absl::Status audit = ledger::AuditStore(*copy, &auditor);
  if (!audit.ok()) {
    return absl::DataLossError(absl::StrCat(dir, " does not verify: ", audit.message()));
  }
  reply->set_transfers(auditor.transfers());
  reply->set_accounts(auditor.accounts());
  for (const auto& [currency, t] : auditor.currencies()) {
    v1::CurrencyTotal* total = reply->add_totals();
    total->set_currency(currency);
    total->set_posted_minor(t.debits_posted);
    total->set_pending_minor(t.debits_pending);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::BackupReply> Engine::Backup(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("dir: required");
  if (std::filesystem::exists(dir)) {
    return absl::FailedPreconditionError(absl::StrCat(dir, " exists: a backup needs a new path"));
  }
  const auto start = std::chrono::steady_clock::now();
  MW_RETURN_IF_ERROR(store_->Checkpoint(dir));
  v1::BackupReply reply;
  reply.set_dir(dir);
  MW_RETURN_IF_ERROR(AuditCopy(dir, &reply));
  reply.set_took_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count());
  return reply;
}

absl::StatusOr<v1::BackupReply> RestoreBackup(const std::string& from,
                                              const std::string& data_dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(from)) return absl::NotFoundError(absl::StrCat(from, ": no backup"));
  const fs::path db = fs::path(data_dir) / "db";
  if (fs::exists(db)) {
    return absl::FailedPreconditionError(
        absl::StrCat(db.string(), " exists: restore into a new data directory"));
  }
  std::error_code ec;
  fs::create_directories(db, ec);
  if (!ec) fs::copy(from, db, fs::copy_options::recursive, ec);
  if (ec) return absl::InternalError(absl::StrCat("copy to ", db.string(), ": ", ec.message()));
  v1::BackupReply reply;
  reply.set_dir(db.string());
  MW_RETURN_IF_ERROR(AuditCopy(db.string(), &reply));
  return reply;
}

}  // namespace mw::dispatch
