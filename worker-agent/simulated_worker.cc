#include "worker-agent/simulated_worker.h"

#include <fstream>
#include <sstream>

#include <algorithm>
#include <cmath>
#include <functional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "engine/common/sha256.h"
#include "engine/common/words.h"
#include "engine/contract/csv_reader.h"
#include "engine/dispatch/answers.h"
#include "qa/shapes.h"
#include "qa/spans.h"

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
  std::vector<std::string> header;
  auto on_row = [&](contract::CsvReader::Row row) {
    if (!status.ok()) return;
    if (!row.error.empty() || row.fields.size() < 2 ||
        (!header.empty() && row.fields.size() != header.size())) {
      status = absl::InvalidArgumentError(absl::StrCat(
          path, ":", row.line, ": expected an item key and a label (or one label per stage)"));
      return;
    }
    if (header.empty()) {
      header = row.fields;
      model.truth_field = header[0];
    } else if (header.size() == 2) {
      model.truth[row.fields[0]] = row.fields[1];
    } else {
      for (size_t i = 1; i < header.size(); ++i) {
        model.stage_truth[header[i]][row.fields[0]] = row.fields[i];
      }
    }
  };
  reader.Feed(text.str(), on_row);
  reader.Finish(on_row);
  if (!status.ok()) return status;
  return model;
}

namespace {

// The true answer of `stage` for the item, or nullptr.
const std::string* TruthOf(const CrowdModel& model, const std::string& stage,
                           const v1::Item& item) {
  for (const auto& f : item.fields()) {
    if (f.name() != model.truth_field) continue;
    const std::map<std::string, std::string>* labels = &model.truth;
    if (auto s = model.stage_truth.find(stage); s != model.stage_truth.end()) {
      labels = &s->second;
    } else if (!model.stage_truth.empty()) {
      return nullptr;
    }
    // A piece's own row first ("R01#2": the second piece of R01), then its parent's.
    if (!item.cut_by().empty()) {
      auto it = labels->find(absl::StrCat(f.value(), "#", item.position() + 1));
      if (it != labels->end()) return &it->second;
    }
    if (auto it = labels->find(f.value()); it != labels->end()) return &it->second;
  }
  return nullptr;
}

std::string FieldOf(const v1::Item& item, const std::string& name) {
  for (const auto& f : item.fields()) {
    if (f.name() == name) return f.value();
  }
  return "";
}

// Spans: the truth (its text form), or a slip chosen by `v`: one span left out, one given
// another label, or one run on to the next word. Without a truth, the first min_count words.
v1::SpanSet SimulateSpans(const v1::SpanLabels& schema, const v1::Item& item,
                          const std::string* truth, bool right, double v) {
  std::vector<qa::LabelledSpan> spans;
  const std::vector<Word> words = SplitWords(FieldOf(item, schema.field()));
  const std::string first_label = schema.labels_size() > 0 ? schema.labels(0) : "";
  if (auto parsed = truth != nullptr ? qa::ParseSpans(*truth) : std::nullopt; parsed) {
    spans = *parsed;
    if (!right && !spans.empty()) {
      const size_t at =
          std::min(spans.size() - 1, static_cast<size_t>(v * 3 * spans.size()) % spans.size());
      if (v < 1.0 / 3 || (v < 2.0 / 3 && schema.labels_size() < 2)) {
        spans.erase(spans.begin() + static_cast<long>(at));
      } else if (v < 2.0 / 3) {
        spans[at].label = spans[at].label == first_label ? schema.labels(1) : first_label;
      } else {
        // Run on to the next word, when it is free.
        for (const Word& w : words) {
          if (w.start < spans[at].end) continue;
          if (at + 1 == spans.size() || w.end <= spans[at + 1].start) spans[at].end = w.end;
          break;
        }
      }
    } else if (!right && !words.empty()) {
      spans.push_back({words[0].start, words[0].end, first_label});  // a name where none is
    }
  } else {
    for (size_t i = 0; i < words.size() && i < schema.min_count(); ++i) {
      spans.push_back({words[i].start, words[i].end, first_label});
    }
  }
  v1::SpanSet set;
  for (const auto& s : spans) {
    auto* span = set.add_spans();
    span->set_start(s.start);
    span->set_end(s.end);
    span->set_label(s.label);
  }
  return set;
}

// Shapes: the truth's (qa/shapes.h's text form), each drawn as a hand would, its corners off by
// up to a tenth of its size either way (a polygon's each by up to a twentieth of its bounding
// box's; a point by up to 2% of the image's long side), kept in the image; a wrong answer also
// leaves one out or gives it another label (which, chosen by `v`). `noise(k)` is the k-th of the
// worker's own uniform draws for this task. Without a truth, min_count shapes in the middle.
v1::ShapeSet SimulateShapes(const v1::ShapeLabels& schema, const v1::Item& item,
                            const std::string* truth, bool right, double v,
                            const std::function<double(int)>& noise) {
  const bool points = schema.kind() == v1::SHAPE_POINT;
  uint32_t width = 1, height = 1;
  if (const v1::Field* f = dispatch::FieldNamed(item, schema.field()); f && f->has_media()) {
    width = std::max<uint32_t>(2, f->media().width());
    height = std::max<uint32_t>(2, f->media().height());
  }
  std::vector<qa::LabelledShape> shapes;
  if (auto parsed = truth != nullptr ? qa::ParseShapes(*truth) : std::nullopt; parsed) {
    shapes = *parsed;
  } else {
    const std::string label = schema.labels_size() > 0 ? schema.labels(0) : "";
    for (uint32_t i = 0; i < schema.min_count(); ++i) {
      if (schema.kind() == v1::SHAPE_POLYGON) {
        // A triangle in the middle (of at least a 4-pixel square, were the image unknown).
        const uint32_t w = std::max<uint32_t>(4, width), h = std::max<uint32_t>(4, height);
        if (auto triangle =
                qa::Polygon(label, {w / 4, h / 4, w * 3 / 4, h / 4, w / 2, h * 3 / 4})) {
          shapes.push_back(*std::move(triangle));
        }
        continue;
      }
      shapes.push_back({label, points, width / 4, height / 4, points ? 0 : width * 3 / 4,
                        points ? 0 : height * 3 / 4});
    }
  }
  int k = 0;
  auto off = [&](double span) {
    return static_cast<int64_t>(std::llround((noise(k++) - 0.5) * 2 * span));
  };
  auto clamp = [](int64_t x, int64_t lo, int64_t hi) { return std::max(lo, std::min(hi, x)); };
  for (qa::LabelledShape& s : shapes) {
    if (s.point) {
      const double reach = 0.02 * std::max(width, height);
      s.x0 = static_cast<uint32_t>(clamp(int64_t{s.x0} + off(reach), 0, width - 1));
      s.y0 = static_cast<uint32_t>(clamp(int64_t{s.y0} + off(reach), 0, height - 1));
      continue;
    }
    if (!s.polygon.empty()) {
      std::vector<uint32_t> corners = s.polygon;
      const double w = 0.05 * (static_cast<double>(s.x1) - s.x0),
                   h = 0.05 * (static_cast<double>(s.y1) - s.y0);
      for (size_t i = 0; i < corners.size(); i += 2) {
        corners[i] = static_cast<uint32_t>(clamp(int64_t{corners[i]} + off(w), 0, width));
        corners[i + 1] = static_cast<uint32_t>(clamp(int64_t{corners[i + 1]} + off(h), 0, height));
      }
      if (auto moved = qa::Polygon(s.label, std::move(corners))) s = *std::move(moved);
      continue;
    }
    const double w = 0.1 * (static_cast<double>(s.x1) - s.x0),
                 h = 0.1 * (static_cast<double>(s.y1) - s.y0);
    const int64_t x0 = clamp(int64_t{s.x0} + off(w), 0, width - 2);
    const int64_t y0 = clamp(int64_t{s.y0} + off(h), 0, height - 2);
    s.x0 = static_cast<uint32_t>(x0);
    s.y0 = static_cast<uint32_t>(y0);
    s.x1 = static_cast<uint32_t>(clamp(int64_t{s.x1} + off(w), x0 + 2, width));
    s.y1 = static_cast<uint32_t>(clamp(int64_t{s.y1} + off(h), y0 + 2, height));
  }
  if (!right && truth != nullptr && !shapes.empty()) {
    const size_t at =
        std::min(shapes.size() - 1, static_cast<size_t>(v * 2 * shapes.size()) % shapes.size());
    if (v < 0.5 || schema.labels_size() < 2) {
      shapes.erase(shapes.begin() + static_cast<long>(at));
    } else {
      shapes[at].label = shapes[at].label == schema.labels(0) ? schema.labels(1) : schema.labels(0);
    }
  }
  v1::ShapeSet set;
  dispatch::SetShapes(shapes, &set);
  return set;
}

// A ranking: the truth ("f1>f2>f3"), or with two neighbours swapped (which two chosen by `v`).
// Without a truth, the fields in a rotated order.
v1::ChoiceSet SimulateRanking(const v1::Ranking& schema, const std::string* truth, bool right,
                              double u, double v) {
  std::vector<std::string> order;
  if (truth != nullptr) {
    order = absl::StrSplit(*truth, '>', absl::SkipEmpty());
    if (order.size() != static_cast<size_t>(schema.fields_size())) order.clear();
  }
  if (order.empty()) {
    const size_t n = static_cast<size_t>(schema.fields_size());
    for (size_t i = 0; i < n; ++i) {
      order.push_back(schema.fields(static_cast<int>((i + static_cast<size_t>(u * n)) % n)));
    }
  } else if (!right && order.size() > 1) {
    const size_t at = std::min(order.size() - 2, static_cast<size_t>(v * (order.size() - 1)));
    std::swap(order[at], order[at + 1]);
  }
  v1::ChoiceSet set;
  for (auto& f : order) set.add_options(std::move(f));
  return set;
}

}  // namespace

SimulatedAnswer Simulate(const CrowdModel& model, const std::string& worker,
                         const v1::CachedAssignment& a) {
  const auto [u, v] = Uniforms(model.seed, worker, a.assignment().task_id());
  const v1::HumanStage& stage = a.spec().human();
  SimulatedAnswer out;
  out.active_seconds =
      static_cast<uint32_t>(stage.estimated_seconds() * model.speed * (0.75 + 0.5 * v)) + 1;
  // The true label, when the truth file knows this item: for a judging task, the right
  // judgement of the judged field. An iteration's steps ("sw.r2", "sw.r2.vote") and the
  // judged field of its vote ("sw.new") belong to the stage "sw".
  const v1::Item& item = a.assignment().item();
  auto stage_of = [](const std::string& name) { return name.substr(0, name.find('.')); };
  std::string judgement;
  const std::string* truth = nullptr;
  if (!stage.judged_field().empty()) {
    if (const std::string* t = TruthOf(model, stage_of(stage.judged_field()), item)) {
      const bool right = FieldOf(item, stage.judged_field()) == *t;
      judgement =
          stage.previous_field().empty() ? (right ? "yes" : "no") : (right ? "new" : "previous");
      truth = &judgement;
    }
  } else {
    truth = TruthOf(model, stage_of(a.assignment().stage()), item);
  }
  out.truth_known = truth != nullptr;
  const auto& answer = stage.answer();
  if (answer.has_single_choice() && answer.single_choice().options_size() > 0) {
    const auto& options = answer.single_choice().options();
    // A truth that is none of the options (a truth file written for another stage) is no truth.
    if (truth != nullptr && std::find(options.begin(), options.end(), *truth) == options.end()) {
      truth = nullptr;
      out.truth_known = false;
    }
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
    const auto& options = answer.multi_choice().options();
    if (truth != nullptr && u < model.accuracy) {
      // The truth as AnswerLabel writes it: the chosen options joined by '|'.
      for (absl::string_view o : absl::StrSplit(*truth, '|', absl::SkipEmpty())) {
        out.answer.mutable_choices()->add_options(std::string(o));
      }
    } else {
      // A wrong set: one option picked at random (when it is the truth, another one).
      size_t pick = std::min<size_t>(options.size() - 1, static_cast<size_t>(v * options.size()));
      if (truth != nullptr && options.Get(static_cast<int>(pick)) == *truth) {
        pick = (pick + 1) % options.size();
      }
      out.answer.mutable_choices()->add_options(options.Get(static_cast<int>(pick)));
    }
  } else if (answer.has_number()) {
    const v1::NumberRange& range = answer.number();
    double t = 0;
    const bool known = truth != nullptr && absl::SimpleAtod(*truth, &t);
    double value;
    if (known && u < model.accuracy) {
      value = t;
    } else if (known) {
      // A near miss: a tenth of the value (at least one unit) off, either way, kept in range.
      const double step = std::max(1.0, std::abs(t) / 10);
      value = std::clamp(v < 0.5 ? t - step : t + step, range.min(), range.max());
      if (value == t)
        value = v < 0.5 ? std::min(range.max(), t + step) : std::max(range.min(), t - step);
    } else {
      value = range.min() + u * (range.max() - range.min());  // unknown: anywhere in range
    }
    out.answer.set_number(range.integer() ? absl::StrCat(std::llround(value))
                                          : absl::StrFormat("%.6g", value));
  } else if (answer.has_spans()) {
    *out.answer.mutable_spans() =
        SimulateSpans(answer.spans(), item, truth, truth != nullptr && u < model.accuracy, v);
  } else if (answer.has_shapes()) {
    const std::string task = a.assignment().task_id();
    auto noise = [&](int k) {
      const auto [x, y] = Uniforms(model.seed, worker, absl::StrCat(task, "#", k / 2));
      return k % 2 == 0 ? x : y;
    };
    *out.answer.mutable_shapes() = SimulateShapes(answer.shapes(), item, truth,
                                                  truth != nullptr && u < model.accuracy, v, noise);
  } else if (answer.has_comparison()) {
    const bool known = truth != nullptr && (*truth == "a" || *truth == "b");
    const std::string& other = known && *truth == "a" ? "b" : "a";
    out.answer.mutable_pick()->set_winner(!known               ? (u < 0.5 ? "a" : "b")
                                          : u < model.accuracy ? *truth
                                                               : other);
  } else if (answer.has_ranking()) {
    *out.answer.mutable_ranking() =
        SimulateRanking(answer.ranking(), truth, truth != nullptr && u < model.accuracy, u, v);
  } else {
    if (truth == nullptr) {
      out.answer.set_text("unsure");
    } else if (u < model.accuracy || truth->size() < 2) {
      out.answer.set_text(*truth);
    } else {
      out.answer.set_text(truth->substr(0, truth->size() - 1));  // a slip at the end
    }
  }
  return out;
}

}  // namespace mw::agent
