// Centre managers, with the centre's credential as --token-file:
//   mw withhold ASSIGNMENT --reason automated --note "..." --by NAME
//   mw dispute ASSIGNMENT --statement "..."
//   mw resolve ASSIGNMENT --restore|--uphold --resolution "..." --by NAME
//   mw withholdings
#include <iostream>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "engine/common/money.h"
#include "engine/common/plain_text.h"
#include "engine/common/status_macros.h"
#include "proto/rpc/grpc_status.h"

namespace mw::cli {
namespace {

struct Opts {
  std::string assignment, reason, note, by, statement, resolution, key;
  bool restore = false, uphold = false;
};

const std::map<std::string, v1::WithholdReason>& Reasons() {
  static const auto* reasons =
      new std::map<std::string, v1::WithholdReason>{{"copied", v1::WITHHOLD_COPIED_ANSWERS},
                                                    {"automated", v1::WITHHOLD_AUTOMATED},
                                                    {"random", v1::WITHHOLD_RANDOM_CLICKING},
                                                    {"impersonation", v1::WITHHOLD_IMPERSONATION}};
  return *reasons;
}

void Print(const v1::Withholding& w) {
  std::cout << TerminalText(w.assignment_id()) << "  " << TerminalText(w.worker_account()) << "  "
            << FormatMoney(w.amount_minor(), w.currency()) << "  withheld by "
            << TerminalText(w.decided_by()) << " (" << v1::WithholdReason_Name(w.reason()) << ": "
            << TerminalText(w.note()) << ")  dispute " << v1::DisputeState_Name(w.dispute());
  if (!w.resolved_by().empty()) {
    std::cout << ", decided by " << TerminalText(w.resolved_by()) << ": "
              << TerminalText(w.resolution());
  }
  std::cout << "\n";
}

template <typename Request, typename Method>
absl::Status Call(const Connect& connect, const Request& req, Method method) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::Withholding reply;
  auto ctx = client->Context();
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus((client->centre().*method)(ctx.get(), req, &reply)));
  Print(reply);
  return absl::OkStatus();
}

}  // namespace

void AddWithholdCommands(CLI::App& app, Run* run) {
  auto o = std::make_shared<Opts>();
  auto* withhold = app.add_subcommand(
      "withhold", "Withhold a wage for bad faith (centre credential; a published reason)");
  withhold->add_option("assignment", o->assignment, "Assignment id")->required();
  withhold->add_option("--reason", o->reason, "copied, automated, random or impersonation")
      ->required()
      ->check(CLI::IsMember({"copied", "automated", "random", "impersonation"}));
  withhold->add_option("--note", o->note, "What was seen")->required();
  withhold->add_option("--by", o->by, "Who decides")->required();
  withhold->callback([run, o] {
    *run = [o](const Connect& c) {
      v1::WithholdWageRequest req;
      req.set_idempotency_key(absl::StrCat("withhold:", o->assignment));
      req.set_assignment_id(o->assignment);
      req.set_reason(Reasons().at(o->reason));
      req.set_note(o->note);
      req.set_decided_by(o->by);
      return Call(c, req, &v1::CentreService::Stub::WithholdWage);
    };
  });

  auto* dispute = app.add_subcommand("dispute", "A worker disputes a withheld wage");
  dispute->add_option("assignment", o->assignment, "Assignment id")->required();
  dispute->add_option("--statement", o->statement, "The worker's side")->required();
  dispute->callback([run, o] {
    *run = [o](const Connect& c) {
      v1::DisputeWithholdingRequest req;
      req.set_idempotency_key(absl::StrCat("dispute:", o->assignment));
      req.set_assignment_id(o->assignment);
      req.set_worker_statement(o->statement);
      return Call(c, req, &v1::CentreService::Stub::DisputeWithholding);
    };
  });

  auto* resolve = app.add_subcommand("resolve", "Decide a dispute (not by who withheld it)");
  resolve->add_option("assignment", o->assignment, "Assignment id")->required();
  auto* restore = resolve->add_flag("--restore", o->restore, "Pay the wage back");
  auto* uphold = resolve->add_flag("--uphold", o->uphold, "The withholding stands");
  restore->excludes(uphold);
  resolve->add_option("--resolution", o->resolution, "Why")->required();
  resolve->add_option("--by", o->by, "Who decides")->required();
  resolve->callback([run, o] {
    *run = [o](const Connect& c) -> absl::Status {
      if (o->restore == o->uphold) {
        return absl::InvalidArgumentError("give --restore or --uphold");
      }
      v1::ResolveDisputeRequest req;
      req.set_idempotency_key(absl::StrCat("resolve:", o->assignment));
      req.set_assignment_id(o->assignment);
      req.set_restore(o->restore);
      req.set_resolution(o->resolution);
      req.set_decided_by(o->by);
      return Call(c, req, &v1::CentreService::Stub::ResolveDispute);
    };
  });

  app.add_subcommand("withholdings", "This centre's withheld wages and their disputes")
      ->callback([run] {
        *run = [](const Connect& connect) -> absl::Status {
          MW_ASSIGN_OR_RETURN(auto client, connect());
          v1::ListWithholdingsReply reply;
          auto ctx = client->Context();
          MW_RETURN_IF_ERROR(
              rpc::FromGrpcStatus(client->centre().ListWithholdings(ctx.get(), {}, &reply)));
          if (reply.withholdings().empty()) std::cout << "Nothing withheld.\n";
          for (const auto& w : reply.withholdings()) Print(w);
          return absl::OkStatus();
        };
      });
}

}  // namespace mw::cli
