// mw import label-studio TASKS --out ROWS.jsonl [--start-field NAME] [--contract FILE --stage S]
// Label Studio tasks with pre-annotations into a contract's input rows
// (formats/label_studio_import.h).
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "engine/common/status_macros.h"
#include "engine/contract/contract_file.h"
#include "engine/dispatch/answers.h"
#include "formats/label_studio_import.h"

namespace mw::cli {
namespace {

namespace v1 = ::microwork::v1;
using formats::ImportLabelStudio;
using formats::LabelStudioImport;
using formats::LabelStudioImported;

struct ImportOpts {
  std::string tasks, out, start_field, contract, stage;
};

// The answer schema of `stage` in the contract file `path`, a shapes stage.
absl::StatusOr<v1::AnswerSchema> ShapesStage(const std::string& path, const std::string& stage) {
  MW_ASSIGN_OR_RETURN(v1::Contract contract, contract::LoadContractFile(path));
  for (const v1::Stage& s : contract.stages()) {
    if (s.name() == stage && s.has_human() && s.human().answer().has_shapes()) {
      return s.human().answer();
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--stage: ", stage, " is no shapes stage of ", path));
}

absl::Status ImportTasks(const ImportOpts& o) {
  // The options first: a refusal leaves nothing behind.
  if (!o.stage.empty() && o.contract.empty()) {
    return absl::InvalidArgumentError("--stage: expected --contract too (the stage is one of its)");
  }
  LabelStudioImport options;
  if (!o.contract.empty()) {
    if (o.stage.empty()) return absl::InvalidArgumentError("--contract: expected --stage too");
    MW_ASSIGN_OR_RETURN(const v1::AnswerSchema schema, ShapesStage(o.contract, o.stage));
    options.start_field = schema.shapes().start_field();
    options.image_field = schema.shapes().field();
    v1::AnswerSchema to_correct = schema;  // a start may hold fewer than an answer must
    to_correct.mutable_shapes()->set_min_count(0);
    options.check = [to_correct](const std::string& shapes) {
      return dispatch::CheckedLabel(to_correct, shapes, nullptr).status();
    };
  }
  if (!o.start_field.empty()) options.start_field = o.start_field;
  if (options.start_field.empty()) options.start_field = "start";
  std::error_code ec;
  const uintmax_t bytes = std::filesystem::file_size(o.tasks, ec);
  std::ifstream in(o.tasks, std::ios::binary);
  if (ec || !in) return absl::NotFoundError(absl::StrCat(o.tasks, ": cannot read it"));
  // Written beside --out and renamed into place once whole: a refused file leaves nothing.
  const std::string tmp = o.out + ".partial";
  std::ofstream out(tmp, std::ios::trunc);
  if (!out) return absl::PermissionDeniedError(absl::StrCat(o.out, ": cannot write here"));
  absl::StatusOr<LabelStudioImported> s = ImportLabelStudio(in, bytes, options, &out);
  out.close();
  if (!s.ok() || !out || std::rename(tmp.c_str(), o.out.c_str()) != 0) {
    std::filesystem::remove(tmp, ec);
    if (!s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(o.tasks, ": ", s.status().message()));
    }
    return absl::InternalError(absl::StrCat(o.out, ": cannot write it whole"));
  }
  auto count = [](uint64_t n, const std::string& one, const std::string& many) {
    return absl::StrCat(n, " ", n == 1 ? one : many);
  };
  const std::string kind = s->kind.empty() ? "shape" : s->kind;
  std::cout << "Wrote " << count(s->tasks, "row", "rows") << " to " << o.out << ": "
            << s->with_shapes << " start with "
            << count(s->shapes, kind, kind == "box" ? "boxes" : kind + "s") << " in \""
            << options.start_field << "\"";
  if (s->left_out > 0) {
    std::cout << "; " << count(s->left_out, "result", "results") << " of other kinds left out";
  }
  std::cout << "\n";
  return absl::OkStatus();
}

}  // namespace

void AddImportCommands(CLI::App& app, Run* run) {
  auto* import = app.add_subcommand("import", "Tasks from annotation tools into contract rows");
  import->require_subcommand(1);
  auto o = std::make_shared<ImportOpts>();
  auto* ls = import->add_subcommand(
      "label-studio",
      "Label Studio tasks (a JSON list or JSONL) with pre-annotations into JSONL rows whose "
      "shapes workers correct");
  ls->add_option("tasks", o->tasks, "Label Studio tasks file")->required();
  ls->add_option("--out", o->out, "The rows, JSONL")->required();
  ls->add_option("--start-field", o->start_field,
                 "The field the pre-drawn shapes go in (default: the stage's start_field, or "
                 "\"start\")");
  ls->add_option("--contract", o->contract,
                 "The contract whose stage corrects them: each task's shapes are checked as it "
                 "takes them");
  ls->add_option("--stage", o->stage, "That stage (a shapes stage of --contract)");
  ls->callback([run, o] { *run = [o](const Connect&) { return ImportTasks(*o); }; });
}

}  // namespace mw::cli
