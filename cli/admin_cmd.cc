// mw admin backup --out DIR        online checkpoint on the dispatcher's host, audited
// (Restoring is offline, on the dispatcher's host: mw-dispatcher --restore-from DIR --data-dir NEW)
#include <iostream>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "engine/common/money.h"
#include "engine/common/status_macros.h"
#include "proto/rpc/grpc_status.h"

namespace mw::cli {
namespace {

struct Opts {
  std::string out;
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

}  // namespace

void AddAdminCommands(CLI::App& app, Run* run) {
  auto o = std::make_shared<Opts>();
  auto* admin = app.add_subcommand("admin", "Backups");
  admin->require_subcommand(1);
  auto* backup = admin->add_subcommand("backup", "Online checkpoint of the dispatcher's state");
  backup->add_option("--out", o->out, "New directory on the dispatcher's host")->required();
  backup->callback([run, o] { *run = [o](const Connect& c) { return Backup(*o, c); }; });
}

}  // namespace mw::cli
