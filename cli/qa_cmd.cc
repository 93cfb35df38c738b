// mw qa aggregate --method M --answers FILE [--gold FILE] --out FILE
// Re-aggregates exported answers (task,worker,label CSV) offline; with --gold, prints accuracy.
// mw qa rank (--comparisons FILE | --job JOB [--stage S] --a-name F --b-name F) --out FILE
//   [--plain]
// Ranks items from pairwise comparisons (worker,a,b,winner CSV, or a job's comparison stage)
// by Bradley-Terry.
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <iostream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "engine/common/status_macros.h"
#include "engine/contract/answers_csv.h"
#include "engine/dispatch/answers.h"
#include "engine/dispatch/flow.h"
#include "proto/rpc/grpc_status.h"
#include "qa/bradley_terry.h"
#include "qa/classification.h"
#include "qa/numeric.h"
#include "qa/text.h"

namespace mw::cli {
namespace {

struct AggregateOpts {
  std::string method = "ds", answers, gold, out;
};

absl::Status Aggregate(const AggregateOpts& o) {
  MW_ASSIGN_OR_RETURN(qa::CrowdData data, contract::ReadAnswersCsv(o.answers));
  const int T = data.num_tasks();
  std::vector<std::string> label(T);
  std::vector<double> confidence(T);
  const bool numeric = o.method == "median" || o.method == "mean" || o.method == "trimmed";
  if (o.method == "mv" || o.method == "wmv" || o.method == "ds" || o.method == "onecoin" ||
      o.method == "glad" || o.method == "mace") {
    qa::Aggregate a = o.method == "mv"        ? qa::MajorityVote(data)
                      : o.method == "wmv"     ? qa::WeightedVote(data)
                      : o.method == "ds"      ? qa::DawidSkene(data, qa::EmOptions())
                      : o.method == "onecoin" ? qa::OneCoin(data, qa::EmOptions())
                      : o.method == "glad"    ? qa::Glad(data, qa::EmOptions())
                                              : qa::Mace(data, qa::EmOptions());
    for (int t = 0; t < T; ++t) {
      label[t] = data.label(a.tasks[t].label);
      confidence[t] = a.tasks[t].confidence;
    }
    if (a.iterations > 0) {
      std::cout << o.method << ": " << a.iterations << " EM iterations, "
                << (a.converged ? "converged" : "stopped at the cap") << "\n";
    }
  } else if (numeric || o.method == "text" || o.method == "edit") {
    std::vector<std::vector<std::string>> by_task(T);
    for (const auto& a : data.answers()) by_task[a.task].push_back(data.label(a.label));
    for (int t = 0; t < T; ++t) {
      if (numeric) {
        std::vector<double> values;
        for (const auto& s : by_task[t]) {
          double v;
          if (!absl::SimpleAtod(s, &v)) {
            return absl::InvalidArgumentError(absl::StrCat(o.answers, ": task ", data.task(t),
                                                           ": label \"", s, "\" is not a number"));
          }
          values.push_back(v);
        }
        const qa::NumberEstimate e = o.method == "median" ? qa::Median(values)
                                     : o.method == "mean" ? qa::Mean(values)
                                                          : qa::TrimmedMean(values);
        label[t] = absl::StrFormat("%.10g", e.value);
        confidence[t] = e.confidence;
      } else {
        const qa::TextEstimate e = o.method == "text" ? qa::TextAgreement(by_task[t])
                                                      : qa::EditDistanceCluster(by_task[t]);
        label[t] = e.text;
        confidence[t] = e.confidence;
      }
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--method: expected mv, wmv, ds, onecoin, glad, mace, median, mean, trimmed, text or "
        "edit; got \"",
        o.method, "\""));
  }

  const std::string tmp = o.out + ".partial";
  const RemovedAtExit partial(tmp);
  std::ofstream out(tmp, std::ios::trunc);
  if (!out) return absl::NotFoundError(absl::StrCat(o.out, ": cannot write"));
  // Built in one buffer and written once: formatting per line through the stream was a tenth
  // of the whole run on 100k answers.
  std::string text = "task,label,confidence\n";
  text.reserve(static_cast<size_t>(T) * 32);
  char number[32];
  for (int t = 0; t < T; ++t) {
    const auto [end, ec] =
        std::to_chars(number, number + sizeof(number), confidence[t], std::chars_format::fixed, 6);
    absl::StrAppend(&text, CsvField(data.task(t)), ",", CsvField(label[t]), ",",
                    absl::string_view(number, ec == std::errc() ? end - number : 0), "\n");
  }
  out << text;
  out.close();
  if (std::rename(tmp.c_str(), o.out.c_str()) != 0) {
    return absl::InternalError(absl::StrCat(o.out, ": cannot rename into place"));
  }
  std::cout << "Wrote " << T << " tasks (" << data.answers().size() << " answers, "
            << data.num_workers() << " workers) to " << o.out << "\n";

  if (!o.gold.empty()) {
    MW_ASSIGN_OR_RETURN(auto gold, contract::ReadGoldCsv(o.gold));
    int scored = 0, right = 0;
    for (const auto& [task, truth] : gold) {
      const int t = data.TaskId(task);
      if (t < 0) continue;
      ++scored;
      double a, b;
      if (numeric && absl::SimpleAtod(label[t], &a) && absl::SimpleAtod(truth, &b)) {
        right += std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b));
      } else {
        right += label[t] == truth;
      }
    }
    std::cout << absl::StrFormat(
        "Accuracy %.4f: %d of %d gold tasks with answers (%zu gold in all)\n",
        scored == 0 ? 0.0 : static_cast<double>(right) / scored, right, scored, gold.size());
  }
  return absl::OkStatus();
}

struct RankOpts {
  std::string comparisons, out;
  std::string job, stage, a_name, b_name;
  bool plain = false;
};

// The duels a job's comparison stage holds, each worker's answer one: the item's fields
// `a_name` and `b_name` say what its two versions are (the models, the translators) and the
// answer which won. Answers of items not yet exported (unfinished) are left out and counted in
// `*unnamed`.
absl::StatusOr<std::vector<qa::PairVote>> JobComparisons(const RankOpts& o, const Connect& connect,
                                                         uint64_t* unnamed) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::GetJobRequest get;
  get.set_job_id(o.job);
  v1::Job job;
  auto job_ctx = client->Context();
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ops().GetJob(job_ctx.get(), get, &job)));
  std::string stage;
  for (const auto& s : job.stages()) {
    if (s.answer().has_comparison() && (o.stage.empty() || s.stage() == o.stage) && stage.empty()) {
      stage = s.stage();
    }
  }
  if (stage.empty()) {
    return absl::InvalidArgumentError(
        o.stage.empty()
            ? absl::StrCat("--job: job ", o.job, " has no comparison stage")
            : absl::StrCat("--stage: ", o.stage, " is no comparison stage of job ", o.job));
  }
  // Each exported item's two names, pieces too.
  absl::flat_hash_map<uint64_t, std::pair<std::string, std::string>> names;
  absl::Status bad;
  std::function<void(const v1::ResultRecord&)> name = [&](const v1::ResultRecord& rec) {
    const v1::Field* a = dispatch::FieldNamed(rec.item(), o.a_name);
    const v1::Field* b = dispatch::FieldNamed(rec.item(), o.b_name);
    if ((a == nullptr || b == nullptr) && bad.ok()) {
      bad = absl::InvalidArgumentError(absl::StrCat(a == nullptr ? "--a-name" : "--b-name",
                                                    ": item ", rec.item_index(), " has no field ",
                                                    a == nullptr ? o.a_name : o.b_name));
    }
    if (a != nullptr && b != nullptr) names[rec.item_index()] = {a->value(), b->value()};
    for (const auto& child : rec.children()) name(child);
  };
  v1::ExportResultsRequest results;
  results.set_job_id(o.job);
  auto results_ctx = client->LongContext();
  auto rows = client->ops().ExportResults(results_ctx.get(), results);
  for (v1::ResultPage page; rows->Read(&page);) {
    for (const v1::ResultRecord& rec : page.results()) name(rec);
  }
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(rows->Finish()));
  MW_RETURN_IF_ERROR(bad);
  std::vector<qa::PairVote> votes;
  v1::ExportAnswersRequest answers;
  answers.set_job_id(o.job);
  auto answers_ctx = client->LongContext();
  auto reader = client->ops().ExportAnswers(answers_ctx.get(), answers);
  for (v1::AnswerPage page; reader->Read(&page);) {
    for (const v1::AnswerRow& a : page.answers()) {
      if (a.stage() != stage || a.answer().skipped() || !a.answer().has_pick() ||
          a.item_index() >= dispatch::kGoldItemBase) {  // a check task compares no one's versions
        continue;
      }
      auto it = names.find(a.item_index());
      if (it == names.end()) {
        ++*unnamed;
        continue;
      }
      votes.push_back({.worker = a.worker(),
                       .a = it->second.first,
                       .b = it->second.second,
                       .a_won = a.answer().pick().winner() == "a"});
    }
  }
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(reader->Finish()));
  return votes;
}

// Pairwise comparisons into a ranking (qa/bradley_terry.h), written as "rank,item,strength".
absl::Status Rank(const RankOpts& o, const Connect& connect) {
  if (!o.comparisons.empty() && !o.job.empty()) {
    return absl::InvalidArgumentError("choose one: --comparisons FILE, or --job JOB");
  }
  if (o.comparisons.empty() && o.job.empty()) {
    return absl::InvalidArgumentError(
        "expected --comparisons FILE, or --job JOB with --a-name and --b-name");
  }
  if (o.job.empty() && (!o.stage.empty() || !o.a_name.empty() || !o.b_name.empty())) {
    return absl::InvalidArgumentError(
        "--stage, --a-name and --b-name go with --job (a file's rows name their items)");
  }
  if (!o.job.empty() && (o.a_name.empty() || o.b_name.empty())) {
    return absl::InvalidArgumentError(
        "--job: expected --a-name and --b-name, the item fields naming the two versions compared");
  }
  uint64_t unnamed = 0;
  std::vector<qa::PairVote> votes;
  if (o.job.empty()) {
    MW_ASSIGN_OR_RETURN(votes, contract::ReadComparisonsCsv(o.comparisons));
  } else {
    MW_ASSIGN_OR_RETURN(votes, JobComparisons(o, connect, &unnamed));
  }
  if (unnamed > 0) {
    std::cout << unnamed << " answers of items not yet finished are left out\n";
  }
  const qa::BtResult r = qa::BradleyTerry(votes, {.worker_noise = !o.plain});
  const std::string tmp = o.out + ".partial";
  const RemovedAtExit partial(tmp);
  std::ofstream out(tmp, std::ios::trunc);
  if (!out) return absl::NotFoundError(absl::StrCat(o.out, ": cannot write"));
  out << "rank,item,strength\n";
  for (size_t i = 0; i < r.items.size(); ++i) {
    out << i + 1 << "," << CsvField(r.items[i].first) << ","
        << absl::StrFormat("%.6f", r.items[i].second) << "\n";
  }
  out.close();
  if (!out || std::rename(tmp.c_str(), o.out.c_str()) != 0) {
    return absl::InternalError(absl::StrCat(o.out, ": cannot write it whole"));
  }
  std::cout << "Ranked " << r.items.size() << " items from " << votes.size() << " comparisons by "
            << r.reliability.size() << " workers ("
            << (o.plain ? "plain Bradley-Terry" : "Bradley-Terry with worker noise") << ", "
            << r.iterations << " iterations, " << (r.converged ? "converged" : "stopped at the cap")
            << ") into " << o.out << "\n";
  // Who said mostly the opposite of the others: for a person to look at, not a verdict.
  std::vector<std::string> contrary;
  for (const auto& [worker, eta] : r.reliability) {
    if (eta < 0.5) contrary.push_back(absl::StrFormat("%s (%.2f)", TerminalText(worker), eta));
  }
  if (!contrary.empty()) {
    std::cout << "Mostly against the others (their comparisons counted the other way): "
              << absl::StrJoin(contrary, ", ") << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

struct ReviewOpts {
  std::string job, task, label, reviewer, reason, key;
  bool all = false;
};

absl::Status ListReviews(const ReviewOpts& o, const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::ListReviewsRequest req;
  req.set_job_id(o.job);
  req.set_include_decided(o.all);
  v1::ListReviewsReply reply;
  auto ctx = client->Context();
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ops().ListReviews(ctx.get(), req, &reply)));
  if (reply.reviews().empty()) std::cout << "No results waiting for review.\n";
  for (const auto& r : reply.reviews()) {
    std::cout << r.task_id() << "  confidence " << absl::StrFormat("%.2f", r.confidence());
    if (r.decided())
      std::cout << "  decided \"" << TerminalText(r.label()) << "\" by "
                << TerminalText(r.reviewer());
    std::cout << "\n  answers:";
    for (int i = 0; i < r.workers_size(); ++i) {
      std::cout << " " << TerminalText(r.workers(i)) << "=" << TerminalText(r.labels(i));
    }
    std::cout << "\n  item:";
    for (const auto& f : r.item().fields())
      std::cout << " " << TerminalText(f.name()) << "=" << TerminalText(f.value());
    std::cout << "\n";
  }
  return absl::OkStatus();
}

absl::Status DecideReview(const ReviewOpts& o, const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::DecideReviewRequest req;
  req.set_idempotency_key(o.key.empty() ? absl::StrCat("review:", o.task) : o.key);
  req.set_task_id(o.task);
  req.set_label(o.label);
  req.set_reviewer(o.reviewer);
  req.set_reason(o.reason);
  v1::Review reply;
  auto ctx = client->Context();
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ops().DecideReview(ctx.get(), req, &reply)));
  std::cout << reply.task_id() << ": \"" << TerminalText(reply.label()) << "\", decided by "
            << TerminalText(reply.reviewer()) << " (" << reply.reason() << ")\n";
  return absl::OkStatus();
}

void AddQaCommands(CLI::App& app, Run* run) {
  auto ro = std::make_shared<ReviewOpts>();
  auto* review = app.add_subcommand("review", "The human review queue of low-confidence results");
  review->require_subcommand(1);
  auto* list = review->add_subcommand("list", "Results waiting for a person");
  list->add_option("--job", ro->job, "Only this job");
  list->add_flag("--all", ro->all, "Include decided reviews");
  list->callback([run, ro] { *run = [ro](const Connect& c) { return ListReviews(*ro, c); }; });
  auto* decide =
      review->add_subcommand("decide", "Decide one (the reviewer must not have answered it)");
  decide->add_option("task", ro->task, "Task id, e.g. job-1/label/17")->required();
  decide->add_option("--label", ro->label, "The decided answer")->required();
  decide->add_option("--reviewer", ro->reviewer, "<centre>/<pseudonym> of the reviewer")
      ->required();
  decide->add_option("--reason", ro->reason, "Why, for the record")->required();
  decide->add_option("--key", ro->key, "Idempotency key (default: derived from the task)");
  decide->callback([run, ro] { *run = [ro](const Connect& c) { return DecideReview(*ro, c); }; });

  auto* qa = app.add_subcommand("qa", "Quality: aggregate answers offline");
  qa->require_subcommand(1);
  auto o = std::make_shared<AggregateOpts>();
  auto* agg =
      qa->add_subcommand("aggregate", "task,worker,label CSV in; task,label,confidence out");
  agg->add_option("--method", o->method,
                  "mv, wmv, ds (Dawid-Skene), onecoin, glad, mace, median, mean, trimmed, "
                  "text, edit")
      ->check(CLI::IsMember({"mv", "wmv", "ds", "onecoin", "glad", "mace", "median", "mean",
                             "trimmed", "text", "edit"}));
  agg->add_option("--answers", o->answers, "Answers CSV: task,worker,label")->required();
  agg->add_option("--gold", o->gold, "Known labels CSV: task,label (prints accuracy)");
  agg->add_option("--out", o->out, "Output CSV")->required();
  agg->callback([run, o] { *run = [o](const Connect&) { return Aggregate(*o); }; });

  auto ro_rank = std::make_shared<RankOpts>();
  auto* rank = qa->add_subcommand(
      "rank", "worker,a,b,winner CSV in (pairwise comparisons); a ranking out (Bradley-Terry)");
  rank->add_option("--comparisons", ro_rank->comparisons,
                   "Comparisons CSV: worker,a,b,winner (winner: a, b or the item)");
  rank->add_option("--job", ro_rank->job,
                   "Or a job's comparison stage: every worker's answer, from the dispatcher");
  rank->add_option("--stage", ro_rank->stage, "Its comparison stage (default: the first)");
  rank->add_option("--a-name", ro_rank->a_name,
                   "With --job: the item field naming version a (the model that wrote it)");
  rank->add_option("--b-name", ro_rank->b_name, "With --job: the item field naming version b");
  rank->add_option("--out", ro_rank->out, "Output CSV: rank,item,strength")->required();
  rank->add_flag("--plain", ro_rank->plain,
                 "Take every worker at their word (no estimate of each worker's reliability)");
  rank->callback(
      [run, ro_rank] { *run = [ro_rank](const Connect& c) { return Rank(*ro_rank, c); }; });
}

}  // namespace mw::cli
