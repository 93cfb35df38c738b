// mw job list | get JOB | watch JOB | pause JOB | resume JOB | cancel JOB;
// mw results export JOB --format csv|jsonl --out FILE; mw results answers JOB ... (every answer)
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "engine/common/money.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"
#include "formats/annotation_formats.h"
#include "formats/result_rows.h"
#include "nlohmann/json.hpp"
#include "proto/rpc/grpc_status.h"

namespace mw::cli {
namespace {

using formats::AnswerRowAnswer;
using formats::CocoDataset;
using formats::HasSpansVerdict;
using formats::kConllStart;
using formats::LabelStudioTask;
using formats::ResultText;
using formats::ShapesVerdict;
using formats::WriteAnswerJson;
using formats::WriteConllItem;
using formats::YoloLabelPath;
using formats::YoloLabels;

std::string StateName(v1::JobState s) {
  switch (s) {
    case v1::JOB_RUNNING:
      return "running";
    case v1::JOB_PAUSED:
      return "paused";
    case v1::JOB_CANCELLED:
      return "cancelled";
    case v1::JOB_COMPLETED:
      return "completed";
    case v1::JOB_BUDGET_EXHAUSTED:
      return "waiting for funds (mw job fund)";
    case v1::JOB_DEADLINE_PASSED:
      return "deadline passed";
    default:
      return "unknown";
  }
}

std::string Bar(uint64_t done, uint64_t total, int width = 24) {
  const int filled = total == 0 ? width : static_cast<int>(done * width / total);
  return absl::StrCat("[", std::string(filled, '#'), std::string(width - filled, '-'), "]");
}

void PrintJob(const v1::Job& job) {
  std::cout << job.id() << "  " << job.contract_name() << "  (" << job.client() << ")  "
            << StateName(job.state()) << "  " << job.items() << " items  wages "
            << FormatMoney(job.wages_posted_minor(), job.currency()) << " posted, "
            << FormatMoney(job.wages_reserved_minor() - job.wages_posted_minor(), job.currency())
            << " awaiting verdicts\n";
  if (job.fees_minor() > 0 || job.centre_shares_minor() > 0 || job.refunded_minor() > 0) {
    std::cout << "  platform fee " << FormatMoney(job.fees_minor(), job.currency())
              << ", centre shares " << FormatMoney(job.centre_shares_minor(), job.currency())
              << ", refunded to the client " << FormatMoney(job.refunded_minor(), job.currency())
              << "\n";
  }
  if (!job.waiting_for().empty()) {
    std::cout << "  waiting: no registered centre can take\n    "
              << absl::StrReplaceAll(job.waiting_for(), {{"\n", "\n    "}}) << "\n";
  }
  for (const auto& s : job.stages()) {
    std::cout << absl::StrFormat("  %-12s %s %6d/%-6d leased %-5d answers %-6d", s.stage(),
                                 Bar(s.done(), s.total()), s.done(), s.total(), s.leased(),
                                 s.contributions());
    if (s.quarantined() > 0) std::cout << " quarantined " << s.quarantined();
    std::cout << "\n";
  }
  for (const auto& share : job.shares()) {
    std::cout << absl::StrFormat(
        "  centre %-14s weight %-3d answers %-7d share %5.1f%% (target %.1f%%)\n", share.centre(),
        share.weight(), share.contributions(), 100 * share.achieved(), 100 * share.target());
  }
}

absl::Status List(const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::ListJobsReply reply;
  auto ctx = client->Context();
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ops().ListJobs(ctx.get(), {}, &reply)));
  if (reply.jobs().empty()) std::cout << "No jobs.\n";
  for (const auto& job : reply.jobs()) PrintJob(job);
  return absl::OkStatus();
}

absl::Status Get(const std::string& job_id, const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::GetJobRequest req;
  req.set_job_id(job_id);
  v1::Job job;
  auto ctx = client->Context();
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ops().GetJob(ctx.get(), req, &job)));
  PrintJob(job);
  return absl::OkStatus();
}

// Follows the job until it ends. On a terminal, redraws in place; otherwise prints at most one
// progress block every `every` so logs stay readable.
absl::Status Watch(const std::string& job_id, int every_seconds, const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::GetJobRequest req;
  req.set_job_id(job_id);
  auto ctx = client->LongContext();
  auto reader = client->ops().WatchJob(ctx.get(), req);
  const bool tty = isatty(STDOUT_FILENO);
  v1::JobEvent event, last;
  absl::Time printed = absl::InfinitePast();
  int lines = 0;
  bool final = false;
  while (reader->Read(&event)) {
    last = event;
    final = event.final();
    if (!final && absl::Now() - printed < absl::Seconds(every_seconds)) continue;
    if (tty && lines > 0) std::cout << "\x1b[" << lines << "A\x1b[J";
    PrintJob(event.job());
    std::cout.flush();
    lines = 1 + event.job().stages_size();
    printed = absl::Now();
  }
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(reader->Finish()));
  if (!final) return absl::UnavailableError("the dispatcher ended the watch early");
  return absl::OkStatus();
}

// `annotations`: the formats of annotation tools (CoNLL-2003, Label Studio, COCO, YOLO) are
// allowed too.
absl::Status CheckFormat(const std::string& format, bool annotations = false) {
  if (format != "csv" && format != "jsonl" &&
      (!annotations ||
       (format != "conll" && format != "label-studio" && format != "coco" && format != "yolo"))) {
    return absl::InvalidArgumentError(
        annotations ? "--format: expected csv, jsonl, conll, label-studio, coco or yolo"
                    : "--format: expected csv or jsonl");
  }
  return absl::OkStatus();
}

// An export is written to "<out>.partial" and renamed into place once whole, so a failed export
// never leaves a file that looks complete; then says how many `what` it holds.
absl::Status Publish(std::ofstream* out, const std::string& tmp, const std::string& out_path,
                     uint64_t rows, const char* what) {
  out->close();
  if (!*out || std::rename(tmp.c_str(), out_path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat(out_path, ": cannot write it whole"));
  }
  std::cout << "Wrote " << rows << " " << what << " to " << out_path << "\n";
  return absl::OkStatus();
}

// COCO (one JSON file) or YOLO (a folder: labels/<image>.txt, classes.txt and data.yaml) of the
// verdicts of shapes stage `stage` (the first shapes stage when empty).
absl::Status ExportShapes(const std::string& job_id, const std::string& format,
                          const std::string& stage, const std::string& out_path,
                          const Connect& connect) {
  namespace fs = std::filesystem;
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::GetJobRequest get;
  get.set_job_id(job_id);
  v1::Job job;
  auto job_ctx = client->Context();
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ops().GetJob(job_ctx.get(), get, &job)));
  const v1::StageProgress* shapes = nullptr;
  for (const auto& s : job.stages()) {
    if (s.answer().has_shapes() && (stage.empty() || s.stage() == stage) && shapes == nullptr) {
      shapes = &s;
    }
  }
  if (shapes == nullptr) {
    return absl::InvalidArgumentError(
        stage.empty() ? absl::StrCat("--format ", format, ": job ", job_id, " has no shapes stage")
                      : absl::StrCat("--stage: ", stage, " is no shapes stage of job ", job_id));
  }
  const v1::ShapeLabels& schema = shapes->answer().shapes();
  if (format == "yolo" && schema.kind() != v1::SHAPE_BOX) {
    return absl::InvalidArgumentError(absl::StrCat("--format yolo: stage ", shapes->stage(),
                                                   " draws no boxes; YOLO's files are of boxes "
                                                   "(--format coco writes points and outlines)"));
  }
  std::error_code ec;
  // "out/" is the folder "out"; its files are made in a folder of their own beside it, and
  // only that folder is ever removed.
  std::string out = out_path;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  if (format == "yolo" && fs::exists(out, ec) && !fs::is_empty(out, ec)) {
    return absl::AlreadyExistsError(
        absl::StrCat(out, ": exists and is not empty; give a new folder for the YOLO files"));
  }
  std::string tmp = out + ".partial";
  if (format == "yolo") {
    std::string pattern = out + ".partial-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      return absl::NotFoundError(absl::StrCat(out, ": cannot make a folder beside it"));
    }
    tmp = pattern;
    fs::create_directories(fs::path(tmp) / "labels", ec);
  }
  auto fail = [&](absl::Status s) {
    if (format == "yolo") fs::remove_all(tmp, ec);
    return s;
  };
  v1::ExportResultsRequest req;
  req.set_job_id(job_id);
  auto ctx = client->LongContext();
  auto reader = client->ops().ExportResults(ctx.get(), req);
  CocoDataset coco(shapes->stage(), schema);
  uint64_t images = 0;
  bool written = true;
  std::map<std::string, std::string> label_files;  // label file -> the image it is of
  std::function<void(const v1::ResultRecord&)> yolo = [&](const v1::ResultRecord& r) {
    if (auto [verdict, image] = ShapesVerdict(r, shapes->stage()); verdict != nullptr) {
      // Pieces of one image share its file; two images whose names come out alike get one each.
      std::string name = YoloLabelPath(image->value());
      auto [it, fresh] = label_files.emplace(name, image->value());
      if (!fresh && it->second != image->value()) {
        name = absl::StrCat(name.substr(0, name.size() - 4), "-",
                            ToHex(Sha256(image->value())).substr(0, 12), ".txt");
        label_files.emplace(name, image->value());
      }
      const fs::path file = fs::path(tmp) / "labels" / name;
      fs::create_directories(file.parent_path(), ec);
      std::ofstream lines(file, std::ios::app);
      lines << YoloLabels(*verdict, *image, schema.labels());
      written = written && static_cast<bool>(lines);
      ++images;
    }
    for (const auto& child : r.children()) yolo(child);
  };
  for (v1::ResultPage page; reader->Read(&page);) {
    for (const v1::ResultRecord& rec : page.results()) {
      if (format == "coco") {
        images += coco.Add(rec);
      } else {
        yolo(rec);
      }
    }
  }
  if (absl::Status s = rpc::FromGrpcStatus(reader->Finish()); !s.ok()) return fail(s);
  if (format == "coco") {
    const RemovedAtExit partial(tmp);
    std::ofstream file(tmp, std::ios::trunc);
    file << coco.Json().dump(1) << "\n";
    return Publish(&file, tmp, out, images, "images");
  }
  // Labels as YAML single-quoted strings: nothing in them is an escape.
  std::ofstream classes(fs::path(tmp) / "classes.txt"), data(fs::path(tmp) / "data.yaml");
  data << "# YOLO labels of stage " << shapes->stage() << " of " << job_id
       << ": put each image under images/ beside labels/\nnc: " << schema.labels_size()
       << "\nnames:\n";
  for (int i = 0; i < schema.labels_size(); ++i) {
    classes << schema.labels(i) << "\n";
    data << "  " << i << ": '" << absl::StrReplaceAll(schema.labels(i), {{"'", "''"}}) << "'\n";
  }
  classes.close();
  data.close();
  if (!written || !classes || !data) {
    return fail(absl::InternalError(absl::StrCat(out, ": cannot write it whole")));
  }
  fs::remove(out, ec);  // an empty folder only: checked above
  fs::rename(tmp, out, ec);
  if (ec) return fail(absl::InternalError(absl::StrCat(out, ": cannot write it whole")));
  std::cout << "Wrote " << images << " images' labels to " << out << "\n";
  return absl::OkStatus();
}

absl::Status Export(const std::string& job_id, const std::string& format, const std::string& stage,
                    const std::string& out_path, const Connect& connect) {
  MW_RETURN_IF_ERROR(CheckFormat(format, /*annotations=*/true));
  if (format == "coco" || format == "yolo") {
    return ExportShapes(job_id, format, stage, out_path, connect);
  }
  MW_ASSIGN_OR_RETURN(auto client, connect());
  const std::string tmp = out_path + ".partial";
  const RemovedAtExit partial(tmp);
  std::ofstream out(tmp, std::ios::trunc);
  if (!out) return absl::NotFoundError(absl::StrCat(out_path, ": cannot write"));
  v1::ExportResultsRequest req;
  req.set_job_id(job_id);
  // CSV and JSONL come written by the dispatcher (pages of text); the annotation tools' formats
  // are written here from the rows.
  if (format == "csv") req.set_format(v1::EXPORT_CSV);
  if (format == "jsonl") req.set_format(v1::EXPORT_JSONL);
  auto ctx = client->LongContext();
  auto reader = client->ops().ExportResults(ctx.get(), req);
  uint64_t rows = 0;
  if (format == "conll") out << kConllStart;
  bool spans = false;  // conll: a row had a verdict of the spans stage
  // label-studio: what each stage's verdicts are, from the job; the tasks as one JSON array.
  std::map<std::string, v1::AnswerSchema> answers;
  if (format == "label-studio") {
    v1::GetJobRequest get;
    get.set_job_id(job_id);
    v1::Job job;
    auto job_ctx = client->Context();
    if (absl::Status s = rpc::FromGrpcStatus(client->ops().GetJob(job_ctx.get(), get, &job));
        !s.ok()) {
      return s;
    }
    for (const auto& stage : job.stages()) {
      if (stage.has_answer()) answers[stage.stage()] = stage.answer();
    }
    out << "[";
  }
  std::function<void(const v1::ResultRecord&)> label_studio = [&](const v1::ResultRecord& r) {
    out << (rows == 0 ? "\n" : ",\n") << LabelStudioTask(r, rows + 1, answers).dump();
    ++rows;
    for (const auto& child : r.children()) label_studio(child);
  };
  // A dispatcher from before pages of text sends rows for CSV and JSONL too: written here alike.
  ResultText text(format == "csv" ? ResultText::Format::kCsv : ResultText::Format::kJsonl);
  std::string lines;
  auto write = [&](const v1::ResultRecord& rec) {
    if (format == "label-studio") {
      label_studio(rec);  // pieces follow their parent as tasks of their own
      return;
    }
    if (format == "conll") {
      // Items without a spans verdict (stopped before it) have no words to tag.
      spans = spans || HasSpansVerdict(rec, stage);
      if (WriteConllItem(rec, stage, &out)) ++rows;
      for (const auto& child : rec.children()) rows += WriteConllItem(child, stage, &out) ? 1 : 0;
      return;
    }
    lines.clear();
    text.Append(rec, &lines);
    out.write(lines.data(), static_cast<std::streamsize>(lines.size()));
    ++rows;
  };
  ForEachPage<v1::ResultPage>(reader.get(), [&](const v1::ResultPage& page) {
    out.write(page.text().data(), static_cast<std::streamsize>(page.text().size()));
    rows += page.rows();
    for (const v1::ResultRecord& rec : page.results()) write(rec);
  });
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(reader->Finish()));
  if (format == "label-studio") out << "\n]\n";
  if (format == "conll" && !spans) {
    return absl::InvalidArgumentError(
        stage.empty() ? absl::StrCat("--format conll: job ", job_id, " has no spans verdicts")
                      : absl::StrCat("--stage: ", stage, " has no spans verdicts in job ", job_id));
  }
  return Publish(&out, tmp, out_path, rows, "results");
}

// Every individual answer: who answered what, in how long, and what it paid.
absl::Status ExportAnswers(const std::string& job_id, const std::string& format,
                           const std::string& out_path, const Connect& connect) {
  MW_RETURN_IF_ERROR(CheckFormat(format));
  MW_ASSIGN_OR_RETURN(auto client, connect());
  const std::string tmp = out_path + ".partial";
  const RemovedAtExit partial(tmp);
  std::ofstream out(tmp, std::ios::trunc);
  if (!out) return absl::NotFoundError(absl::StrCat(out_path, ": cannot write"));
  v1::ExportAnswersRequest req;
  req.set_job_id(job_id);
  auto ctx = client->LongContext();
  auto reader = client->ops().ExportAnswers(ctx.get(), req);
  if (format == "csv") {
    out << "task,stage,item,worker,centre,answer,skipped,active_seconds,credited_seconds,"
           "wage_minor,currency,late,counted,check,check_correct,withheld,answered_at_ms\n";
  }
  uint64_t rows = 0;
  std::string json;  // one JSONL row at a time
  std::string line;
  auto write = [&](const v1::AnswerRow& a) {
    if (format == "csv") {
      line =
          absl::StrJoin({CsvField(a.task_id()), CsvField(a.stage()), absl::StrCat(a.item_index()),
                         CsvField(a.worker()), CsvField(a.centre()), CsvField(AnswerRowAnswer(a)),
                         absl::StrCat(a.answer().skipped()), absl::StrCat(a.active_seconds()),
                         absl::StrCat(a.credited_seconds()), absl::StrCat(a.wage_minor()),
                         CsvField(a.currency()), absl::StrCat(a.late()), absl::StrCat(a.counted()),
                         absl::StrCat(a.check()), absl::StrCat(a.check_correct()),
                         absl::StrCat(a.withheld()), absl::StrCat(a.answered_at_ms())},
                        ",");
      line.push_back('\n');
      out.write(line.data(), static_cast<std::streamsize>(line.size()));
    } else {
      json.clear();
      WriteAnswerJson(a, &json);
      json.push_back('\n');
      out.write(json.data(), static_cast<std::streamsize>(json.size()));
    }
    ++rows;
  };
  ForEachPage<v1::AnswerPage>(reader.get(), [&](const v1::AnswerPage& page) {
    for (const v1::AnswerRow& a : page.answers()) write(a);
  });
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(reader->Finish()));
  return Publish(&out, tmp, out_path, rows, "answers");
}

}  // namespace

void AddJobCommands(CLI::App& app, Run* run) {
  auto* job = app.add_subcommand("job", "Follow jobs");
  job->require_subcommand(1);
  job->add_subcommand("list", "All jobs and their progress")->callback([run] { *run = List; });

  auto id = std::make_shared<std::string>();
  auto* get = job->add_subcommand("get", "One job's progress");
  get->add_option("job", *id, "Job id")->required();
  get->callback([run, id] { *run = [id](const Connect& c) { return Get(*id, c); }; });

  auto watch_id = std::make_shared<std::string>();
  auto every = std::make_shared<int>(2);
  auto* watch = job->add_subcommand("watch", "Show progress until the job ends");
  watch->add_option("job", *watch_id, "Job id")->required();
  watch->add_option("--every", *every, "Seconds between progress blocks when not on a terminal");
  watch->callback([run, watch_id, every] {
    *run = [watch_id, every](const Connect& c) { return Watch(*watch_id, *every, c); };
  });

  // pause / resume / cancel / close: one idempotency key per job, action and minute, so a retried
  // command does not act twice while a deliberate repeat later does.
  for (auto [name, action, help] :
       {std::tuple{"pause", v1::JOB_PAUSE, "Lease nothing new; leased work goes on"},
        std::tuple{"resume", v1::JOB_RESUME, "Lease again after a pause"},
        std::tuple{"cancel", v1::JOB_CANCEL,
                   "Stop for good: answers in are paid, leased work is paid when it comes in, "
                   "the rest of the escrow is refunded"},
        std::tuple{"close", v1::JOB_CLOSE,
                   "Return a finished job's unspent escrow to the client (cancels an unfinished "
                   "one first)"}}) {
    auto target = std::make_shared<std::string>();
    auto* cmd = job->add_subcommand(name, help);
    cmd->add_option("job", *target, "Job id")->required();
    cmd->callback([run, target, action = action, name = std::string(name)] {
      *run = [target, action, name](const Connect& connect) -> absl::Status {
        MW_ASSIGN_OR_RETURN(auto client, connect());
        v1::ControlJobRequest req;
        req.set_idempotency_key(
            absl::StrCat(name, ":", *target, ":", absl::ToUnixSeconds(absl::Now()) / 60));
        req.set_job_id(*target);
        req.set_action(action);
        v1::Job reply;
        auto ctx = client->Context();
        MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ops().ControlJob(ctx.get(), req, &reply)));
        PrintJob(reply);
        return absl::OkStatus();
      };
    });
  }

  struct TaskOpts {
    std::string job, task;
    bool dead = false;
  };
  auto to = std::make_shared<TaskOpts>();
  auto* task = app.add_subcommand("task", "Tasks in the dead-letter state");
  task->require_subcommand(1);
  auto* list = task->add_subcommand("list", "List tasks (--dead: those every attempt of failed)");
  list->add_flag("--dead", to->dead, "Only dead-lettered tasks")->required();
  list->add_option("--job", to->job, "Only this job");
  list->callback([run, to] {
    *run = [to](const Connect& connect) -> absl::Status {
      MW_ASSIGN_OR_RETURN(auto client, connect());
      v1::ListDeadTasksRequest req;
      req.set_job_id(to->job);
      v1::ListDeadTasksReply reply;
      auto ctx = client->Context();
      MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ops().ListDeadTasks(ctx.get(), req, &reply)));
      if (reply.tasks().empty()) std::cout << "No dead tasks.\n";
      for (const auto& t : reply.tasks()) {
        std::cout << t.task_id() << "  " << t.failed_attempts() << " expired attempts, held by "
                  << TerminalText(absl::StrJoin(t.workers(), ", ")) << "\n";
      }
      return absl::OkStatus();
    };
  });
  auto* redrive = task->add_subcommand("redrive", "Put a dead task back to be done");
  redrive->add_option("task", to->task, "Task id")->required();
  redrive->callback([run, to] {
    *run = [to](const Connect& connect) -> absl::Status {
      MW_ASSIGN_OR_RETURN(auto client, connect());
      v1::RedriveTaskRequest req;
      req.set_idempotency_key(
          absl::StrCat("redrive:", to->task, ":", absl::ToUnixMillis(absl::Now())));
      req.set_task_id(to->task);
      v1::DeadTask reply;
      auto ctx = client->Context();
      MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ops().RedriveTask(ctx.get(), req, &reply)));
      std::cout << reply.task_id() << " is open again (after " << reply.failed_attempts()
                << " expired attempts)\n";
      return absl::OkStatus();
    };
  });

  auto* worker = app.add_subcommand("worker", "A person's decisions about a worker");
  worker->require_subcommand(1);
  struct PromoteOpts {
    std::string worker, job, by, reason;
  };
  auto po = std::make_shared<PromoteOpts>();
  auto* promote = worker->add_subcommand(
      "promote", "Let a worker who has not passed a job's paid training do its regular work");
  promote->add_option("--worker", po->worker, "Worker account, worker:<centre>/<pseudonym>")
      ->required();
  promote->add_option("--job", po->job, "Job id")->required();
  promote->add_option("--by", po->by, "Who decides: the account signed in (default)");
  promote->add_option("--reason", po->reason, "Why")->required();
  promote->callback([run, po] {
    *run = [po](const Connect& connect) -> absl::Status {
      MW_ASSIGN_OR_RETURN(auto client, connect());
      v1::PromoteWorkerRequest req;
      req.set_idempotency_key(absl::StrCat("promote:", po->worker, ":", po->job));
      req.set_worker_account(po->worker);
      req.set_job_id(po->job);
      req.set_decided_by(po->by);
      req.set_reason(po->reason);
      v1::PromoteWorkerReply reply;
      auto ctx = client->Context();
      MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ops().PromoteWorker(ctx.get(), req, &reply)));
      std::cout << TerminalText(reply.worker_account()) << " does regular work on "
                << reply.job_id() << " from now on (training: " << reply.training_correct()
                << " of " << reply.training_answers() << " check tasks right), promoted by "
                << TerminalText(reply.promotion().decided_by()) << "\n";
      return absl::OkStatus();
    };
  });

  auto* results = app.add_subcommand("results", "Export a job's merged results");
  results->require_subcommand(1);
  struct ExportOpts {
    std::string job, format = "csv", out, stage;
  };
  auto opts = std::make_shared<ExportOpts>();
  auto* exp = results->add_subcommand("export",
                                      "Write the results as CSV, JSONL, CoNLL-2003 (a spans "
                                      "stage's entities), Label Studio JSON, or COCO or YOLO (a "
                                      "shapes stage's boxes)");
  exp->add_option("job", opts->job, "Job id")->required();
  exp->add_option("--format", opts->format, "csv, jsonl, conll, label-studio, coco or yolo");
  exp->add_option("--stage", opts->stage,
                  "conll: the spans stage; coco, yolo: the shapes stage (default: the first one)");
  exp->add_option("--out", opts->out, "Output file (yolo: a new folder)")->required();
  exp->callback([run, opts] {
    *run = [opts](const Connect& c) {
      return Export(opts->job, opts->format, opts->stage, opts->out, c);
    };
  });
  auto answers_opts = std::make_shared<ExportOpts>();
  auto* answers = results->add_subcommand(
      "answers", "Write every individual answer (worker, answer, seconds, pay) as CSV or JSONL");
  answers->add_option("job", answers_opts->job, "Job id")->required();
  answers->add_option("--format", answers_opts->format, "csv or jsonl");
  answers->add_option("--out", answers_opts->out, "Output file")->required();
  answers->callback([run, answers_opts] {
    *run = [answers_opts](const Connect& c) {
      return ExportAnswers(answers_opts->job, answers_opts->format, answers_opts->out, c);
    };
  });
}

}  // namespace mw::cli
