// mw statement --centre C | --worker ACCOUNT | --job J;  mw ledger verify
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "engine/common/money.h"
#include "engine/common/status_macros.h"
#include "engine/ledger/auditor.h"
#include "proto/rpc/grpc_status.h"

namespace mw::cli {
namespace {

struct StatementOpts {
  std::string centre, worker, job;
};

absl::Status Statement(const StatementOpts& o, const Connect& connect) {
  v1::StatementRequest req;
  const int given = !o.centre.empty() + !o.worker.empty() + !o.job.empty();
  if (given != 1)
    return absl::InvalidArgumentError("give exactly one of --centre, --worker, --job");
  if (!o.centre.empty()) req.set_centre(o.centre);
  if (!o.worker.empty()) req.set_worker_account(o.worker);
  if (!o.job.empty()) req.set_job_id(o.job);
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::Statement st;
  auto ctx = client->Context();
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ledger().GetStatement(ctx.get(), req, &st)));
  std::cout << st.title() << "\n";
  std::cout << absl::StrFormat("  %-34s %8s %9s %14s %14s %12s  %-7s %6s %6s\n", "account",
                               "answers", "time", "posted", "awaiting", "per hour", "checks",
                               "agree", "skill");
  std::map<std::string, std::pair<int64_t, int64_t>> totals;
  for (const auto& l : st.lines()) {
    // Effective pay per hour of measured time on task.
    std::string hourly = "-";
    if (l.active_seconds() > 0) {
      hourly = FormatMoney(EarnedPerHour(l.posted_minor() + l.pending_minor(), l.active_seconds()),
                           l.currency());
    }
    // Quality sits beside pay; it never changes it.
    const uint64_t verdicts = l.agreed() + l.disagreed();
    std::cout << absl::StrFormat(
        "  %-34s %8d %8dm %14s %14s %12s  %-7s %6s %6.2f\n", l.account(), l.contributions(),
        l.active_seconds() / 60, FormatMoney(l.posted_minor(), l.currency()),
        FormatMoney(l.pending_minor(), l.currency()), hourly,
        absl::StrCat(l.gold_correct(), "/", l.gold_total()),
        verdicts == 0 ? std::string("-") : absl::StrCat(100 * l.agreed() / verdicts, "%"),
        l.skill());
    // The estimate per kind of work, under the worker's line.
    for (const auto& k : l.skills()) {
      const uint64_t kind_verdicts = k.agreed() + k.disagreed();
      std::cout << absl::StrFormat(
          "    %-94s  %-7s %6s %6.2f\n",
          absl::StrCat(k.skill().empty() ? "any skill" : k.skill(), " in ",
                       k.language().empty() ? "any language" : k.language()),
          absl::StrCat(k.gold_correct(), "/", k.gold_total()),
          kind_verdicts == 0 ? std::string("-")
                             : absl::StrCat(100 * k.agreed() / kind_verdicts, "%"),
          k.estimate());
    }
    totals[l.currency()].first += l.posted_minor();
    totals[l.currency()].second += l.pending_minor();
  }
  for (const auto& [currency, t] : totals) {
    std::cout << absl::StrFormat("  %-34s %8s %9s %14s %14s\n", "total", "", "",
                                 FormatMoney(t.first, currency), FormatMoney(t.second, currency));
  }
  return absl::OkStatus();
}

absl::Status Verify(const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  ledger::Auditor auditor;
  absl::Status violation = AuditRemoteLedger(*client, &auditor);
  if (!violation.ok()) {
    return absl::Status(violation.code(),
                        absl::StrCat("ledger verify FAILED: ", violation.message()));
  }
  std::cout << "Ledger OK: " << auditor.transfers() << " transfers, " << auditor.accounts()
            << " accounts, hash chain unbroken\n";
  std::cout << "  top-ups within the wage floor for the time leased: "
            << auditor.time_bounds_checked() << " workers' jobs checked";
  if (auditor.time_bounds_missing() > 0) {
    std::cout << ", " << auditor.time_bounds_missing()
              << " not checked (no record of the time: work recorded before lease windows were "
                 "kept)";
  }
  std::cout << "\n";
  for (const auto& [currency, c] : auditor.currencies()) {
    std::cout << "  " << currency
              << ": debits = credits = " << FormatMoney(c.debits_posted, currency) << " posted, "
              << FormatMoney(c.debits_pending, currency) << " pending\n";
  }
  for (const auto& [job, j] : auditor.jobs()) {
    std::cout << "  " << job << ": funding " << FormatMoney(j.funding, j.currency) << " = wages "
              << FormatMoney(j.wages, j.currency) << " + awaiting "
              << FormatMoney(j.pending, j.currency) << " + top-ups "
              << FormatMoney(j.topups, j.currency) << " + fees " << FormatMoney(j.fees, j.currency)
              << " + centre shares " << FormatMoney(j.shares, j.currency) << " + refunds "
              << FormatMoney(j.refunds, j.currency) << " + remaining escrow "
              << FormatMoney(
                     j.funding - j.wages - j.pending - j.topups - j.fees - j.shares - j.refunds,
                     j.currency)
              << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

void AddLedgerCommands(CLI::App& app, Run* run) {
  auto o = std::make_shared<StatementOpts>();
  auto* st =
      app.add_subcommand("statement", "Pay statement of a centre's workers, a worker or a job");
  st->add_option("--centre", o->centre, "Every worker of this centre");
  st->add_option("--worker", o->worker, "One worker account, worker:<centre>/<pseudonym>");
  st->add_option("--job", o->job, "A job's escrow");
  st->callback([run, o] { *run = [o](const Connect& c) { return Statement(*o, c); }; });

  auto* ledger = app.add_subcommand("ledger", "The pay ledger");
  ledger->require_subcommand(1);
  ledger->add_subcommand("verify", "Recompute the ledger from its log and check its invariants")
      ->callback([run] { *run = Verify; });
}

}  // namespace mw::cli
