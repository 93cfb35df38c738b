#include "worker-agent/simulated_worker.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "engine/common/sha256.h"
#include "engine/contract/csv_reader.h"

namespace mw::agent {
namespace {

// Two uniform numbers in [0, 1) derived from the inputs.
std::pair<double, double> Uniforms(uint64_t seed, const std::string& worker,
                                   const std::string& task) {
  const std::string h = Sha256(absl::StrCat(seed, "\n", worker, "\n", task));
  auto u = [&](int off) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(h[off + i]);
    return static_cast<double>(v >> 11) / static_cast<double>(uint64_t{1} << 53);
  };
  return {u(0), u(8)};
}

}  // namespace

absl::StatusOr<CrowdModel> LoadTruth(const std::string& path, CrowdModel model) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read the truth file"));
  std::stringstream text;
  text << in.rdbuf();
  contract::CsvReader reader;
  absl::Status status;
  bool header = true;
  auto on_row = [&](contract::CsvReader::Row row) {
    if (!status.ok()) return;
    if (!row.error.empty() || row.fields.size() != 2) {
      status = absl::InvalidArgumentError(
          absl::StrCat(path, ":", row.line, ": expected two fields: item key, label"));
      return;
    }
    if (header) {
      model.truth_field = row.fields[0];
      header = false;
    } else {
      model.truth[row.fields[0]] = row.fields[1];
    }
  };
  reader.Feed(text.str(), on_row);
  reader.Finish(on_row);
  if (!status.ok()) return status;
  return model;
}

SimulatedAnswer Simulate(const CrowdModel& model, const std::string& worker,
                         const v1::CachedAssignment& a) {
  const auto [u, v] = Uniforms(model.seed, worker, a.assignment().task_id());
  const v1::HumanStage& stage = a.spec().human();
  SimulatedAnswer out;
  out.active_seconds =
      static_cast<uint32_t>(stage.estimated_seconds() * model.speed * (0.75 + 0.5 * v)) + 1;
  // The true label, when the truth file knows this item.
  const std::string* truth = nullptr;
  for (const auto& f : a.assignment().item().fields()) {
    if (f.name() == model.truth_field) {
      if (auto it = model.truth.find(f.value()); it != model.truth.end()) truth = &it->second;
    }
  }
  const auto& answer = stage.answer();
  if (answer.has_single_choice() && answer.single_choice().options_size() > 0) {
    const auto& options = answer.single_choice().options();
    if (truth != nullptr && u < model.accuracy) {
      out.answer.set_choice(*truth);
    } else {
      // A wrong answer, uniformly among the other options (any option when truth is unknown).
      std::vector<std::string> pool;
      for (const auto& o : options) {
        if (truth == nullptr || o != *truth) pool.push_back(o);
      }
      if (pool.empty()) pool.assign(options.begin(), options.end());
      const double w = truth == nullptr ? u : (u - model.accuracy) / (1 - model.accuracy);
      const size_t pick = std::min(pool.size() - 1, static_cast<size_t>(w * pool.size()));
      out.answer.set_choice(pool[pick]);
    }
  } else if (answer.has_multi_choice() && answer.multi_choice().options_size() > 0) {
    out.answer.mutable_choices()->add_options(answer.multi_choice().options(0));
  } else if (answer.has_number()) {
    out.answer.set_number(absl::StrCat(static_cast<int64_t>(answer.number().min())));
  } else {
    out.answer.set_text(truth != nullptr && u < model.accuracy ? *truth : "unsure");
  }
  return out;
}

}  // namespace mw::agent
