// mw contract check FILE   dry run: validate, count items, price the plan, show routing
// mw contract submit FILE  stream the contract and its inputs to the dispatcher
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/media_files.h"
#include "engine/common/money.h"
#include "engine/common/proto_bytes.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"
#include "engine/contract/contract_file.h"
#include "engine/contract/splitter.h"
#include "engine/contract/validate.h"
#include "engine/dispatch/answers.h"
#include "engine/dispatch/plan.h"
#include "proto/rpc/grpc_status.h"

namespace mw::cli {
namespace {

constexpr size_t kChunkBytes = 256 * 1024;

struct LoadedContract {
  std::string file;
  v1::Contract contract;
  std::map<std::string, std::string> input_paths;  // input name -> resolved path (path inputs)
};

// Parses and validates locally, and checks every path input can be read: nothing is sent
// anywhere until all of that passes.
absl::StatusOr<LoadedContract> Load(const std::string& file) {
  LoadedContract out;
  out.file = file;
  std::ifstream stream(file, std::ios::binary);
  if (!stream) return absl::NotFoundError(absl::StrCat(file, ": cannot read the contract file"));
  std::stringstream text;
  text << stream.rdbuf();
  auto contract = contract::ParseContract(text.str(), file);
  if (!contract.ok()) return contract.status();
  out.contract = *std::move(contract);
  std::vector<contract::ContractError> errors =
      contract::ValidateContract(out.contract, contract::Limits());
  const std::filesystem::path base = std::filesystem::path(file).parent_path();
  for (int i = 0; i < out.contract.inputs_size(); ++i) {
    const auto& in = out.contract.inputs(i);
    if (in.source_case() != v1::Input::kPath || in.path().empty()) continue;
    const std::filesystem::path resolved = base / in.path();
    std::ifstream probe(resolved, std::ios::binary);
    if (!probe) {
      errors.push_back(
          {absl::StrCat("inputs[", i, "].path"),
           absl::StrCat("cannot read \"", in.path(), "\" (looked for ", resolved.string(), ")")});
      continue;
    }
    out.input_paths[in.name()] = resolved.string();
  }
  // Each error names the file and the line of its field.
  MW_RETURN_IF_ERROR(contract::LocatedErrors(text.str(), file, errors));
  return out;
}

// Calls `chunk` with every piece of `path`, the last one flagged.
absl::Status ForEachChunk(const std::string& path,
                          const std::function<absl::Status(std::string, bool)>& chunk) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read"));
  std::string buf(kChunkBytes, '\0');
  for (;;) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const size_t n = static_cast<size_t>(in.gcount());
    const bool last = in.eof() || n == 0;
    if (absl::Status s = chunk(buf.substr(0, n), last); !s.ok()) return s;
    if (last) return absl::OkStatus();
  }
}

// The idempotency key of a submission: derived from the contract, its inputs and its media, so
// re-running the same command after a lost reply never makes a second job.
absl::StatusOr<std::string> ContentKey(const LoadedContract& c, const MediaFiles& media) {
  Sha256Hasher h;
  h.Update(DeterministicBytes(c.contract));
  for (const LocalMedia& m : media.list()) {
    if (!m.bad_name) h.Update(DeterministicBytes(m.file));
  }
  for (const auto& [name, path] : c.input_paths) {
    h.Update(name);
    absl::Status s = ForEachChunk(path, [&](std::string data, bool) {
      h.Update(data);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
  }
  return absl::StrCat("sha256:", ToHex(h.Finish()));
}

// Splits input `in` of `c` as the dispatcher will (`split`'s rule), calling `on_item` with each
// item and collecting the refused rows in `bad` (in line order). Returns the items given.
absl::StatusOr<uint64_t> SplitInput(const LoadedContract& c, const v1::Input& in,
                                    const v1::SplitStage& split,
                                    const contract::Splitter::OnItem& on_item,
                                    std::vector<contract::BadRow>* bad) {
  contract::Splitter splitter(split, in.format());
  auto on_bad = [&](contract::BadRow b) { bad->push_back(std::move(b)); };
  absl::Status s;
  if (in.source_case() == v1::Input::kInlineText) {
    s = splitter.Feed(in.inline_text(), on_item, on_bad);
    if (s.ok()) s = splitter.Finish(on_item, on_bad);
  } else {
    s = ForEachChunk(c.input_paths.at(in.name()), [&](std::string data, bool last) {
      absl::Status fs = splitter.Feed(data, on_item, on_bad);
      if (fs.ok() && last) fs = splitter.Finish(on_item, on_bad);
      return fs;
    });
  }
  if (!s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("input ", in.name(), ": ", s.message()));
  }
  std::sort(bad->begin(), bad->end(),
            [](const contract::BadRow& a, const contract::BadRow& b) { return a.line < b.line; });
  return splitter.items();
}

// The media files the rows of every input with media fields name, hashed; those named by URL
// are fetched into `cache` first (DefaultMediaCache() when empty).
absl::StatusOr<MediaFiles> CollectMedia(const LoadedContract& c, const std::string& cache) {
  MediaFiles files(DownloadOptions{.cache_dir = cache.empty() ? DefaultMediaCache() : cache});
  const v1::SplitStage* split = nullptr;
  for (const auto& stage : c.contract.stages()) {
    if (stage.has_split()) split = &stage.split();
  }
  const std::filesystem::path base = std::filesystem::path(c.file).parent_path();
  for (const v1::Input& in : c.contract.inputs()) {
    if (in.media().empty() || split == nullptr) continue;
    const std::string folder = (base / in.media_folder()).string();
    absl::Status added;
    auto on_item = [&](v1::Item item) {
      for (const v1::MediaField& m : in.media()) {
        for (const v1::Field& f : item.fields()) {
          if (f.name() != m.field() || f.value().empty() || !added.ok()) continue;
          added = files.Add(folder, in.media_folder(), f.value(), in.name());
        }
      }
    };
    std::vector<contract::BadRow> bad;
    MW_RETURN_IF_ERROR(SplitInput(c, in, *split, on_item, &bad).status());
    MW_RETURN_IF_ERROR(added);
  }
  MW_RETURN_IF_ERROR(files.Hash());
  return files;
}

void PrintMedia(const MediaFiles& media) {
  if (media.list().empty()) return;
  std::cout << "Media: " << media.list().size() << " files, " << media.total_bytes() << " bytes, "
            << media.unreadable() << " unreadable\n";
  size_t shown = 0;
  for (const LocalMedia& m : media.list()) {
    if (m.file.unreadable().empty() || ++shown > 10) continue;
    std::cout << "  " << m.file.name() << ": " << m.file.unreadable() << "\n";
  }
}

// Which of `media`'s files the dispatcher lacks (FindMedia, a thousand at a time), and the
// largest it takes.
absl::Status AskMissing(Client& client, const MediaFiles& media, std::set<std::string>* missing,
                        uint64_t* max_file_bytes) {
  v1::FindMediaRequest request;
  auto ask = [&]() -> absl::Status {
    v1::FindMediaReply reply;
    auto ctx = client.Context();
    grpc::Status status = client.ops().FindMedia(ctx.get(), request, &reply);
    if (!status.ok()) return rpc::FromGrpcStatus(status);
    missing->insert(reply.missing().begin(), reply.missing().end());
    *max_file_bytes = reply.max_file_bytes();
    request.clear_sha256();
    return absl::OkStatus();
  };
  for (const LocalMedia& m : media.list()) {
    if (m.file.sha256().empty()) continue;
    request.add_sha256(m.file.sha256());
    if (request.sha256_size() == 1000) MW_RETURN_IF_ERROR(ask());
  }
  return ask();
}

// Prints "Input NAME: N WHAT, M rows quarantined" and the first ten refused rows.
void PrintInput(const std::string& name, uint64_t n, const std::string& what,
                const std::vector<contract::BadRow>& bad) {
  std::cout << "Input " << name << ": " << n << " " << what << ", " << bad.size()
            << " rows quarantined\n";
  for (size_t i = 0; i < bad.size() && i < 10; ++i) {
    std::cout << "  line " << bad[i].line << ": " << bad[i].reason << "\n";
  }
}

absl::Status Check(const std::string& file, const std::string& cache, const Connect& connect) {
  MW_ASSIGN_OR_RETURN(LoadedContract c, Load(file));
  const v1::Contract& k = c.contract;
  std::cout << "Contract \"" << k.name() << "\" for " << k.client() << ": budget "
            << FormatMoney(k.budget_minor(), k.currency())
            << (k.deadline().empty() ? "" : absl::StrCat(", deadline ", k.deadline())) << "\n";

  // Count the items the way the dispatcher will split them, and the check (gold) tasks each
  // stage gets from its gold input, with the rows either refuses.
  const v1::SplitStage* split = nullptr;
  for (const auto& stage : k.stages()) {
    if (stage.has_split()) split = &stage.split();
  }
  if (split == nullptr) return absl::InvalidArgumentError(absl::StrCat(file, ": no split stage"));
  uint64_t items = 0;
  std::vector<contract::BadRow> bad;
  for (const auto& in : k.inputs()) {
    if (in.name() != split->input()) continue;
    MW_ASSIGN_OR_RETURN(items, SplitInput(
                                   c, in, *split, [](v1::Item) {}, &bad));
    PrintInput(in.name(), items, "items", bad);
  }
  MW_ASSIGN_OR_RETURN(MediaFiles media, CollectMedia(c, cache));
  PrintMedia(media);
  for (const auto& stage : k.stages()) {
    if (!stage.has_human() || stage.human().gold_input().empty()) continue;
    uint64_t usable = 0;
    bad.clear();
    for (const auto& in : k.inputs()) {
      if (in.name() != stage.human().gold_input()) continue;
      auto on_item = [&](v1::Item item) {
        auto label = dispatch::TakeGoldAnswer(stage.human().answer(),
                                              stage.human().gold_answer_field(), &item);
        if (label.ok()) {
          ++usable;
        } else {
          bad.push_back({item.source_line(), std::string(label.status().message())});
        }
      };
      MW_RETURN_IF_ERROR(SplitInput(c, in, *split, on_item, &bad).status());
      PrintInput(in.name(), usable, absl::StrCat("check tasks for ", stage.name()), bad);
    }
    MW_RETURN_IF_ERROR(dispatch::CheckGoldSupply(
        stage, usable, bad.size(),
        bad.empty() ? "" : absl::StrCat("line ", bad[0].line, ": ", bad[0].reason)));
  }

  std::vector<v1::Centre> centres;
  bool asked = false;  // the dispatcher answered: its centres are the ones routing can use
  if (auto client = connect(); client.ok()) {
    v1::ListCentresReply reply;
    auto ctx = (*client)->Context();
    if ((*client)->ops().ListCentres(ctx.get(), {}, &reply).ok()) {
      asked = true;
      centres.assign(reply.centres().begin(), reply.centres().end());
    }
  }

  // The plan and its price are the dispatcher's own rules (engine/dispatch/plan.h).
  MW_ASSIGN_OR_RETURN(dispatch::ContractPlan plan, dispatch::PlanContract(k, items));
  const std::string& cur = k.currency();
  std::vector<dispatch::CentreCost> at;
  for (const auto& centre : centres) at.push_back(dispatch::CostAt(k, plan, centre));
  std::cout << "Stages:\n";
  size_t next_step = 0;
  for (int i : contract::TopologicalOrder(k)) {
    const v1::Stage& s = k.stages(i);
    if (s.has_split()) {
      std::cout << absl::StrFormat("  %-12s split   %s of %s -> %d items\n", s.name(),
                                   v1::SplitBy_Name(s.split().by()), s.split().input(), items);
      continue;
    }
    if (s.has_merge()) {
      std::cout << absl::StrFormat("  %-12s merge   %s of %s\n", s.name(),
                                   v1::MergeMode_Name(s.merge().mode()),
                                   absl::StrJoin(s.after(), ", "));
      continue;
    }
    if (s.has_gather()) {
      std::cout << absl::StrFormat("  %-12s gather  the pieces of %s back, in order\n", s.name(),
                                   s.gather().from());
      continue;
    }
    // Human, verify and iterate stages: each step's worst case (every round of an
    // iteration), its hourly pay beside each centre's floor.
    for (; next_step < plan.steps.size() && plan.steps[next_step].step.index == i; ++next_step) {
      const dispatch::StepPlan& p = plan.steps[next_step];
      const dispatch::Step& step = p.step;
      const v1::HumanStage& h = step.human;
      std::cout << absl::StrFormat(
          "  %-12s %-6s %d tasks x overlap %d at %s = %s%s\n", step.name, p.kind, p.tasks,
          p.overlap, FormatMoney(h.piece_rate_minor(), cur), FormatMoney(p.wages, cur),
          step.role == dispatch::Step::Role::kHuman || step.role == dispatch::Step::Role::kVerify
              ? ""
              : " (if every round runs)");
      if (step.scope >= 0) {
        std::cout << "               on pieces: " << p.tasks << " tasks if every item is cut "
                  << "into its most, " << p.expected_tasks << " as expected\n";
      }
      if (step.max_pieces > 0) {
        std::cout << "               cuts each item into at most " << step.max_pieces
                  << " pieces, one per line of its answer\n";
      }
      if (p.gold_answers > 0) {
        std::cout << "               + " << p.gold_answers
                  << " check tasks = " << FormatMoney(p.gold_wages, cur) << "\n";
      }
      if (p.training_per_newcomer > 0) {
        std::cout << "               + training " << FormatMoney(p.training_per_newcomer, cur)
                  << " per newcomer\n";
      }
      std::cout << "               pays " << FormatMoney(p.hourly.value_or(0), cur) << "/h ("
                << FormatMoney(h.piece_rate_minor(), cur) << " per " << h.estimated_seconds()
                << " s)\n";
      for (size_t c = 0; c < at.size(); ++c) {
        const dispatch::Eligibility& e = at[c].steps[next_step];
        std::cout << "               " << (e.ok ? "-> " : "x  ") << centres[c].id() << " (floor "
                  << FormatMoney(centres[c].wage_floor_minor_per_hour(), centres[c].currency())
                  << "/h)" << (e.ok ? "" : absl::StrCat(": ", e.why_not)) << "\n";
      }
    }
  }
  std::cout << "Cost at most " << FormatMoney(plan.cost(), cur) << " of the budget "
            << FormatMoney(k.budget_minor(), cur) << ": wages " << FormatMoney(plan.wages, cur)
            << ", check tasks " << FormatMoney(plan.gold_wages, cur) << ", platform fee "
            << FormatMoney(plan.fee, cur) << " (" << k.platform_fee_per_mille() << " per mille)"
            << (plan.budgeted() > k.budget_minor()
                    ? "  -- OVER BUDGET: the dispatcher will refuse it"
                    : "")
            << "\n";
  if (plan.pieces) {
    std::cout << "Expected cost " << FormatMoney(plan.expected_cost(), cur)
              << " with the expected pieces (wages " << FormatMoney(plan.expected_wages, cur)
              << "): the budget must cover this; past it the job waits on its budget\n";
  }
  if (plan.training_per_newcomer > 0) {
    std::cout << "  and training: " << FormatMoney(plan.training_per_newcomer, cur)
              << " per newcomer, from the budget as they train\n";
  }
  for (size_t c = 0; c < at.size(); ++c) {
    if (!at[c].serves_any()) continue;
    std::cout << "  all of it at " << centres[c].id() << ": + centre share "
              << FormatMoney(at[c].share, cur) << " (" << centres[c].centre_share_per_mille()
              << " per mille) = " << FormatMoney(at[c].total, cur) << "\n";
  }
  MW_RETURN_IF_ERROR(dispatch::CheckBudget(k, plan));
  if (!asked) {
    std::cout << "(No dispatcher answered: routing to centres was not checked.)\n";
    return absl::OkStatus();
  }
  // Work no registered centre may take would sit at 0% with its budget locked: refuse it here,
  // stage by stage, with each centre's reason (the rule submit applies too).
  return dispatch::CheckServable(k, dispatch::BuildFlow(k), centres);
}

absl::Status Submit(const std::string& file, std::string key, bool wait_for_centres,
                    const std::string& cache, const Connect& connect) {
  MW_ASSIGN_OR_RETURN(LoadedContract c, Load(file));
  MW_ASSIGN_OR_RETURN(MediaFiles media, CollectMedia(c, cache));
  if (key.empty()) {
    MW_ASSIGN_OR_RETURN(key, ContentKey(c, media));
  }
  MW_ASSIGN_OR_RETURN(auto client, connect());
  std::set<std::string> missing;
  uint64_t max_file_bytes = 0;
  if (!media.list().empty()) {
    MW_RETURN_IF_ERROR(AskMissing(*client, media, &missing, &max_file_bytes));
  }
  auto ctx = client->LongContext();
  v1::SubmitContractReply reply;
  auto writer = client->ops().SubmitContract(ctx.get(), &reply);
  v1::SubmitContractRequest msg;
  msg.mutable_header()->set_idempotency_key(key);
  *msg.mutable_header()->mutable_contract() = c.contract;
  msg.mutable_header()->set_wait_for_centres(wait_for_centres);
  bool open = writer->Write(msg);
  // Every media file named, each followed by its bytes when the dispatcher lacks them (once per
  // content), before the inputs.
  uint64_t sent_files = 0, sent_bytes = 0;
  auto header = [&](const LocalMedia& m) {
    v1::SubmitContractRequest named;
    *named.mutable_media_file() = m.file;
    open = open && writer->Write(named);
    if (!open || missing.erase(m.file.sha256()) == 0 || m.file.bytes() > max_file_bytes) {
      return false;
    }
    ++sent_files;
    return true;
  };
  auto chunk = [&](const LocalMedia& m, std::string data, bool last) {
    sent_bytes += data.size();
    v1::SubmitContractRequest piece;
    piece.mutable_media_chunk()->set_sha256(m.file.sha256());
    piece.mutable_media_chunk()->set_data(std::move(data));
    piece.mutable_media_chunk()->set_last(last);
    open = open && writer->Write(piece);
    return absl::OkStatus();
  };
  MW_RETURN_IF_ERROR(media.Send(kChunkBytes, header, chunk));
  for (const auto& input : c.input_paths) {
    if (!open) break;
    const std::string& name = input.first;  // a lambda cannot capture a structured binding
    absl::Status s = ForEachChunk(input.second, [&](std::string data, bool last) {
      v1::SubmitContractRequest chunk;
      chunk.mutable_chunk()->set_input(name);
      chunk.mutable_chunk()->set_data(std::move(data));
      chunk.mutable_chunk()->set_last(last);
      open = writer->Write(chunk);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) {
    return absl::Status(
        rpc::FromGrpcStatus(status).code(),
        absl::StrCat(file, ": the dispatcher refused the contract:\n", status.error_message()));
  }
  if (reply.existing()) {
    std::cout << "Not submitted again: this contract with these inputs was submitted before as "
              << reply.job().id() << ", which is " << v1::JobState_Name(reply.job().state()) << " ("
              << reply.job().items() << " items). To run it once more as a new job, give "
              << "--key with a new key.\n";
    return absl::OkStatus();
  }
  if (!media.list().empty()) {
    std::cout << "Media: " << media.list().size() << " files named, " << sent_files << " sent ("
              << sent_bytes << " bytes), the rest already at the dispatcher or unreadable\n";
  }
  std::cout << "Submitted " << reply.job().id() << ": " << reply.job().items() << " items";
  if (reply.quarantined_total() > 0) {
    std::cout << ", " << reply.quarantined_total() << " rows quarantined";
  }
  std::cout << "\n";
  for (const auto& q : reply.quarantined()) {
    std::cout << "  " << q.input() << " line " << q.line() << ": " << q.reason() << "\n";
  }
  return absl::OkStatus();
}

void AddMediaCacheOption(CLI::App* command, std::string* cache) {
  command->add_option("--media-cache", *cache,
                      "Where media named by URL are fetched to and kept, so a second run "
                      "sends the same bytes (default: ~/.cache/microwork/media)");
}

}  // namespace

void AddContractCommands(CLI::App& app, Run* run) {
  auto* contract = app.add_subcommand("contract", "Check or submit a contract file");
  contract->require_subcommand(1);

  auto* check = contract->add_subcommand("check", "Dry run: validate and print the plan");
  auto check_file = std::make_shared<std::string>();
  auto check_cache = std::make_shared<std::string>();
  check->add_option("file", *check_file, "Contract file (YAML or JSON)")->required();
  AddMediaCacheOption(check, check_cache.get());
  check->callback([run, check_file, check_cache] {
    *run = [check_file, check_cache](const Connect& connect) {
      return Check(*check_file, *check_cache, connect);
    };
  });

  auto* submit = contract->add_subcommand("submit", "Submit a contract and its inputs");
  auto submit_file = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  auto wait = std::make_shared<bool>(false);
  auto cache = std::make_shared<std::string>();
  submit->add_option("file", *submit_file, "Contract file (YAML or JSON)")->required();
  submit->add_option("--key", *key,
                     "Idempotency key (default: derived from the contract and its inputs)");
  submit->add_flag("--wait-for-centres", *wait,
                   "Accept work no registered centre can take yet: it waits, and mw job get "
                   "says for what");
  AddMediaCacheOption(submit, cache.get());
  submit->callback([run, submit_file, key, wait, cache] {
    *run = [submit_file, key, wait, cache](const Connect& connect) {
      return Submit(*submit_file, *key, *wait, *cache, connect);
    };
  });
}

}  // namespace mw::cli
