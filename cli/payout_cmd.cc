// mw job fund JOB --amount-minor N
// mw payout create --centre C | approve BATCH --by NAME | export BATCH --out FILE
// mw invoice --job J          (recomputed from the ledger alone)
// mw report impact [--job J]
// mw time held [--centre C] | release --worker ACCOUNT --job J --seconds N --reason WHY [--by NAME]
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "engine/common/money.h"
#include "engine/common/plain_text.h"
#include "engine/common/status_macros.h"
#include "engine/ledger/auditor.h"
#include "proto/rpc/grpc_status.h"

namespace mw::cli {
namespace {

struct Opts {
  std::string job, centre, batch, by, out, key, worker, reason;
  int64_t amount_minor = 0;
  uint64_t seconds = 0;
};

// An amount without its currency, in major units ("12.50"), for files a bank reads.
std::string Decimal(int64_t minor, const std::string& currency) {
  std::string s = FormatMoney(minor, currency);
  return s.substr(0, s.rfind(' '));
}

void PrintBatch(const v1::PayoutBatch& b) {
  std::cout << b.id() << "  centre " << b.centre() << "  "
            << (b.state() != v1::PAYOUT_APPROVED
                    ? (b.approved_by().empty()
                           ? std::string("created, awaiting approval")
                           : absl::StrCat("approved by ", b.approved_by(),
                                          "; awaiting a second person (the guarantee's top-ups)"))
                : b.second_approver().empty()
                    ? absl::StrCat("approved by ", b.approved_by())
                    : absl::StrCat("approved by ", b.approved_by(), " and ", b.second_approver()))
            << "\n";
  for (const auto& l : b.lines()) {
    std::cout << absl::StrFormat("  %-34s %14s", l.worker_account(),
                                 FormatMoney(l.amount_minor(), l.currency()));
    if (l.topup_minor() > 0) {
      std::cout << "  (incl. top-up to the floor " << FormatMoney(l.topup_minor(), l.currency())
                << ")";
    }
    std::cout << "\n";
  }
  std::cout << absl::StrFormat("  %-34s %14s\n", "total",
                               FormatMoney(b.total_minor(), b.currency()));
  if (b.guarantee_topups_size() > 0) {
    std::cout << "  Top-ups the jobs' escrow could not cover, from the platform's guarantee ("
              << (b.state() == v1::PAYOUT_APPROVED
                      ? "credited; paid out with the next batch"
                      : "two people approve, each signed in as themself: mw payout approve")
              << "):\n";
    for (const auto& g : b.guarantee_topups()) {
      std::cout << absl::StrFormat("  %-34s %14s  %s\n", g.worker_account(),
                                   FormatMoney(g.amount_minor(), g.currency()), g.job_id());
    }
  }
}

absl::Status Fund(const Opts& o, const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::FundJobRequest req;
  req.set_idempotency_key(o.key);
  req.set_job_id(o.job);
  req.set_amount_minor(o.amount_minor);
  v1::Job job;
  auto ctx = client->Context();
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ops().FundJob(ctx.get(), req, &job)));
  std::cout << job.id() << ": funded " << FormatMoney(o.amount_minor, job.currency())
            << "; budget now " << FormatMoney(job.budget_minor(), job.currency()) << "\n";
  return absl::OkStatus();
}

absl::Status Create(const Opts& o, const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::CreatePayoutRequest req;
  req.set_idempotency_key(o.key);
  req.set_centre(o.centre);
  v1::PayoutBatch b;
  auto ctx = client->Context();
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ledger().CreatePayout(ctx.get(), req, &b)));
  PrintBatch(b);
  return absl::OkStatus();
}

absl::Status Approve(const Opts& o, const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::ApprovePayoutRequest req;
  req.set_idempotency_key(absl::StrCat("approve:", o.batch));
  req.set_batch_id(o.batch);
  req.set_approved_by(o.by);
  v1::PayoutBatch b;
  auto ctx = client->Context();
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ledger().ApprovePayout(ctx.get(), req, &b)));
  PrintBatch(b);
  return absl::OkStatus();
}

// The file a bank or mobile-money provider takes. It names workers by pseudonym only: the
// centre joins it with its roster, so phone numbers never leave the centre.
absl::Status Export(const Opts& o, const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::GetPayoutRequest req;
  req.set_batch_id(o.batch);
  v1::PayoutBatch b;
  auto ctx = client->Context();
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ledger().GetPayout(ctx.get(), req, &b)));
  if (b.state() != v1::PAYOUT_APPROVED) {
    return absl::FailedPreconditionError(
        absl::StrCat(o.batch, " is not approved: `mw payout approve ", o.batch, "`"));
  }
  std::ofstream out(o.out, std::ios::trunc);
  if (!out) return absl::NotFoundError(absl::StrCat(o.out, ": cannot write"));
  out << "batch_id,centre,worker,amount,currency,reference\n";
  for (const auto& l : b.lines()) {
    const std::string worker = l.worker_account().substr(l.worker_account().find('/') + 1);
    out << b.id() << "," << b.centre() << "," << worker << ","
        << Decimal(l.amount_minor(), l.currency()) << "," << l.currency() << "," << b.id() << "-"
        << worker << "\n";
  }
  std::cout << "Wrote " << b.lines_size() << " payments, "
            << FormatMoney(b.total_minor(), b.currency()) << ", to " << o.out << "\n";
  return absl::OkStatus();
}

absl::Status Invoice(const Opts& o, const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  ledger::Auditor auditor;
  if (absl::Status s = AuditRemoteLedger(*client, &auditor); !s.ok()) {
    return absl::DataLossError(absl::StrCat("the ledger does not verify: ", s.message()));
  }
  auto it = auditor.jobs().find(o.job);
  if (it == auditor.jobs().end()) return absl::NotFoundError(absl::StrCat("no ledger for ", o.job));
  const auto& j = it->second;
  const std::string& c = j.currency;
  const int64_t spent = j.wages + j.topups + j.fees + j.shares;
  const int64_t remaining = j.funding - spent - j.pending - j.refunds;
  std::cout << "Invoice for " << o.job << " (recomputed from the verified ledger)\n"
            << absl::StrFormat("  %-36s %14s\n", "funded by the client", FormatMoney(j.funding, c))
            << absl::StrFormat("  %-36s %14s\n", "wages for work done", FormatMoney(j.wages, c))
            << absl::StrFormat("  %-36s %14s\n", "top-ups to the wage floor",
                               FormatMoney(j.topups, c))
            << absl::StrFormat("  %-36s %14s\n", "platform fees", FormatMoney(j.fees, c))
            << absl::StrFormat("  %-36s %14s\n", "centres' shares", FormatMoney(j.shares, c))
            << absl::StrFormat("  %-36s %14s\n", "charged", FormatMoney(spent, c))
            << absl::StrFormat("  %-36s %14s\n", "reserved for answers under review",
                               FormatMoney(j.pending, c))
            << absl::StrFormat("  %-36s %14s\n", "refunded", FormatMoney(j.refunds, c))
            << absl::StrFormat("  %-36s %14s\n", "remaining in escrow", FormatMoney(remaining, c));
  return absl::OkStatus();
}

void PrintHeld(const v1::HeldTime& h) {
  std::cout << absl::StrFormat(
      "  %-34s %-8s %8d s held  %8d s credited of %8d s leased  %8d s "
      "may be released\n",
      TerminalText(h.worker_account()), TerminalText(h.job_id()), h.held_seconds(),
      h.credited_seconds(), h.window_seconds(), h.releasable_seconds());
  for (const auto& r : h.releases()) {
    std::cout << "    released " << r.seconds() << " s by " << TerminalText(r.decided_by()) << ": "
              << TerminalText(r.reason()) << "\n";
  }
}

absl::Status Held(const Opts& o, const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::ListHeldTimeRequest req;
  req.set_centre(o.centre);
  v1::ListHeldTimeReply reply;
  auto ctx = client->Context();
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ledger().ListHeldTime(ctx.get(), req, &reply)));
  std::cout << "Time reported beyond what could be credited, held for a person to look at ("
            << reply.held_size() << " workers' jobs)\n";
  for (const auto& h : reply.held()) PrintHeld(h);
  return absl::OkStatus();
}

absl::Status Release(const Opts& o, const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::ReleaseHeldTimeRequest req;
  req.set_idempotency_key(!o.key.empty() ? o.key
                                         : absl::StrCat("release:", o.worker, ":", o.job, ":",
                                                        o.seconds, ":", o.by, ":", o.reason));
  req.set_worker_account(o.worker);
  req.set_job_id(o.job);
  req.set_seconds(o.seconds);
  req.set_decided_by(o.by);
  req.set_reason(o.reason);
  v1::HeldTime h;
  auto ctx = client->Context();
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ledger().ReleaseHeldTime(ctx.get(), req, &h)));
  std::cout << "Released " << o.seconds << " s; the next payout tops it up to the floor\n";
  PrintHeld(h);
  return absl::OkStatus();
}

absl::Status Impact(const Opts& o, const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::ImpactReportRequest req;
  req.set_job_id(o.job);
  v1::ImpactReport report;
  auto ctx = client->Context();
  MW_RETURN_IF_ERROR(
      rpc::FromGrpcStatus(client->ledger().GetImpactReport(ctx.get(), req, &report)));
  std::cout << "Impact " << (o.job.empty() ? "of every job" : absl::StrCat("of ", o.job))
            << " (groups of fewer than five workers are suppressed)\n";
  for (const auto& c : report.centres()) {
    std::cout << "  " << c.centre() << " (" << c.region() << "): " << c.workers() << " workers";
    if (c.suppressed()) {
      std::cout << ", figures suppressed\n";
      continue;
    }
    std::cout << absl::StrFormat(
        ", %.1f hours, wages %s, top-ups %s\n    effective pay per hour: p10 %s, median %s, "
        "p90 %s; floor %s; %d below the floor before top-ups\n",
        c.active_seconds() / 3600.0, FormatMoney(c.wages_minor(), c.currency()),
        FormatMoney(c.topups_minor(), c.currency()),
        FormatMoney(c.hourly_p10_minor(), c.currency()),
        FormatMoney(c.hourly_median_minor(), c.currency()),
        FormatMoney(c.hourly_p90_minor(), c.currency()),
        FormatMoney(c.floor_minor_per_hour(), c.currency()), c.below_floor());
  }
  return absl::OkStatus();
}

}  // namespace

void AddPayoutCommands(CLI::App& app, Run* run) {
  auto o = std::make_shared<Opts>();
  CLI::App* job = app.get_subcommand("job");
  auto* fund = job->add_subcommand("fund", "Add money to a job's escrow");
  fund->add_option("job", o->job, "Job id")->required();
  fund->add_option("--amount-minor", o->amount_minor, "Amount in minor units")->required();
  fund->add_option("--key", o->key, "Idempotency key (one per payment received)")->required();
  fund->callback([run, o] { *run = [o](const Connect& c) { return Fund(*o, c); }; });

  auto* payout = app.add_subcommand("payout", "Pay a centre's workers");
  payout->require_subcommand(1);
  auto* create = payout->add_subcommand("create", "Top up to the floor and list what is owed");
  create->add_option("--centre", o->centre, "Centre id")->required();
  create->add_option("--key", o->key, "Idempotency key (default: one per centre and day)");
  create->callback([run, o] {
    *run = [o](const Connect& c) {
      Opts with_key = *o;
      if (with_key.key.empty()) {
        with_key.key = absl::StrCat("payout:", o->centre, ":",
                                    absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone()));
      }
      return Create(with_key, c);
    };
  });
  auto* approve = payout->add_subcommand("approve", "Approve a batch: the money moves");
  approve->add_option("batch", o->batch, "Batch id")->required();
  approve->add_option("--by", o->by,
                      "Who approves: the account signed in (default; another name is refused). A "
                      "batch with top-ups from the platform's guarantee needs a second person's "
                      "approval, in their own call");
  approve->callback([run, o] { *run = [o](const Connect& c) { return Approve(*o, c); }; });
  auto* exp = payout->add_subcommand("export", "Write an approved batch as CSV for the bank");
  exp->add_option("batch", o->batch, "Batch id")->required();
  exp->add_option("--out", o->out, "Output CSV")->required();
  exp->callback([run, o] { *run = [o](const Connect& c) { return Export(*o, c); }; });

  auto* invoice = app.add_subcommand("invoice", "A client's invoice for a job, from the ledger");
  invoice->add_option("--job", o->job, "Job id")->required();
  invoice->callback([run, o] { *run = [o](const Connect& c) { return Invoice(*o, c); }; });

  auto* time = app.add_subcommand("time", "Time on task held for a person to look at");
  time->require_subcommand(1);
  auto* held = time->add_subcommand("held", "Workers' time reported beyond what was credited");
  held->add_option("--centre", o->centre, "Only this centre's workers");
  held->callback([run, o] { *run = [o](const Connect& c) { return Held(*o, c); }; });
  auto* release = time->add_subcommand("release", "Credit held time: a person's decision");
  release->add_option("--worker", o->worker, "Worker account, worker:<centre>/<pseudonym>")
      ->required();
  release->add_option("--job", o->job, "Job id")->required();
  release->add_option("--seconds", o->seconds, "Seconds to credit")->required();
  release->add_option("--by", o->by, "Who decides: the account signed in (default)");
  release->add_option("--reason", o->reason, "Why")->required();
  release->add_option("--key", o->key, "Idempotency key (default: from the other options)");
  release->callback([run, o] { *run = [o](const Connect& c) { return Release(*o, c); }; });

  auto* report = app.add_subcommand("report", "Reports");
  report->require_subcommand(1);
  auto* impact = report->add_subcommand("impact", "Hours and pay per centre, aggregated");
  impact->add_option("--job", o->job, "Only this job");
  impact->callback([run, o] { *run = [o](const Connect& c) { return Impact(*o, c); }; });
}

}  // namespace mw::cli
