// mw voice [--client C] | mw complaint answer --centre C --id N --text "..."
//
// The workers' voice as the operator sees it: their ratings of jobs and clients (only groups of
// at least five raters), the tasks they flagged as harmful or wrong, and every centre's
// complaints with their age (the text once a complaint escalated because no manager answered
// it). An operator answers an escalated complaint; the centre's agent takes the answer to the
// worker.
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "engine/common/plain_text.h"
#include "engine/common/status_macros.h"
#include "engine/record/voice.h"
#include "proto/rpc/grpc_status.h"

namespace mw::cli {
namespace {

struct VoiceOpts {
  std::string client, centre, id, text;
};

std::string Age(int64_t now_ms, int64_t then_ms) {
  const int64_t hours = std::max<int64_t>(0, now_ms - then_ms) / 3'600'000;
  return hours < 48 ? absl::StrCat(hours, " h") : absl::StrCat(hours / 24, " days");
}

void PrintSummary(const v1::RatingSummary& s) {
  std::cout << "  " << TerminalText(s.job_id().empty() ? s.client() : s.job_id())
            << (s.job_id().empty() ? "" : absl::StrCat(" (", TerminalText(s.client()), ")"))
            << "  raters " << s.raters() << "  clarity " << voice::OneDecimal(s.clarity())
            << "  time " << voice::OneDecimal(s.time_estimate()) << "  pay "
            << voice::OneDecimal(s.pay_fairness()) << "\n";
  for (const auto& c : s.comments()) std::cout << "      \"" << TerminalText(c) << "\"\n";
}

absl::Status Show(const VoiceOpts& o, const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::GetVoiceRequest req;
  req.set_client(o.client);
  v1::VoiceReport r;
  auto ctx = client->Context();
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ops().GetVoice(ctx.get(), req, &r)));
  std::cout << "Ratings by clients (1-5; time: 3 is about right), groups of " << voice::kMinRaters
            << " or more raters:\n";
  if (r.clients().empty()) std::cout << "  none yet\n";
  for (const auto& s : r.clients()) PrintSummary(s);
  std::cout << "Ratings by jobs:\n";
  if (r.jobs().empty()) std::cout << "  none yet\n";
  for (const auto& s : r.jobs()) PrintSummary(s);
  std::cout << "Tasks flagged (" << r.flags_size() << "):\n";
  for (const auto& f : r.flags()) {
    std::cout << "  " << TerminalText(f.task_id()) << "  " << voice::FlagName(f.kind()) << "  "
              << TerminalText(f.centre()) << "  " << Age(r.now_ms(), f.flagged_at_ms()) << " ago"
              << (f.note().empty() ? "" : absl::StrCat("  \"", TerminalText(f.note()), "\""))
              << "\n";
  }
  int open = 0;
  for (const auto& c : r.complaints()) open += !c.answered();
  std::cout << "Complaints (" << open << " open of " << r.complaints_size() << "):\n";
  for (const auto& c : r.complaints()) {
    std::cout << "  " << TerminalText(c.centre()) << " #" << TerminalText(c.id()) << "  "
              << voice::TopicName(c.topic()) << "  "
              << (c.answered() ? absl::StrCat("answered by ", TerminalText(c.answered_by()))
                               : absl::StrCat("open ", Age(r.now_ms(), c.filed_at_ms())))
              << (c.escalated() ? "  escalated" : "") << "\n";
    if (!c.text().empty()) std::cout << "      \"" << TerminalText(c.text()) << "\"\n";
    if (c.answered() && !c.answer().empty()) {
      std::cout << "      answer: \"" << TerminalText(c.answer()) << "\"\n";
    }
  }
  return absl::OkStatus();
}

absl::Status Answer(const VoiceOpts& o, const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::AnswerComplaintRequest req;
  req.set_centre(o.centre);
  req.set_complaint_id(o.id);
  req.set_answer(o.text);
  v1::Complaint reply;
  auto ctx = client->Context();
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ops().AnswerComplaint(ctx.get(), req, &reply)));
  std::cout << "Complaint " << TerminalText(reply.centre()) << " #" << TerminalText(reply.id())
            << " answered by " << TerminalText(reply.answered_by())
            << "; the centre's agent takes the answer to the worker\n";
  return absl::OkStatus();
}

}  // namespace

void AddVoiceCommands(CLI::App& app, Run* run) {
  auto o = std::make_shared<VoiceOpts>();
  auto* voice = app.add_subcommand(
      "voice", "Workers' ratings of jobs and clients, flagged tasks and complaints");
  voice->add_option("--client", o->client, "Only this client's jobs");
  voice->callback([run, o] { *run = [o](const Connect& c) { return Show(*o, c); }; });
  auto* complaint = app.add_subcommand("complaint", "Workers' complaints");
  complaint->require_subcommand(1);
  auto* answer = complaint->add_subcommand(
      "answer", "Answer a complaint that escalated because no manager answered it");
  answer->add_option("--centre", o->centre, "The centre it came from")->required();
  answer->add_option("--id", o->id, "Its number at the centre")->required();
  answer->add_option("--text", o->text, "The answer (up to 2000 characters)")->required();
  answer->callback([run, o] { *run = [o](const Connect& c) { return Answer(*o, c); }; });
}

}  // namespace mw::cli
