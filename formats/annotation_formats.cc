#include "formats/annotation_formats.h"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "engine/common/words.h"
#include "engine/dispatch/answers.h"
#include "qa/shapes.h"

namespace mw::formats {

namespace {

using dispatch::FieldNamed;

const std::string* FieldValue(const v1::Item& item, const std::string& name) {
  const v1::Field* f = FieldNamed(item, name);
  return f != nullptr ? &f->value() : nullptr;
}

// The bytes of code points [start, end) of `text`.
std::string CodePointSlice(std::string_view text, uint32_t start, uint32_t end) {
  size_t from = text.size(), to = text.size();
  uint32_t point = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (point == start && from == text.size()) from = i;
    if (point == end) {
      to = i;
      break;
    }
    ++point;
  }
  return from < to ? std::string(text.substr(from, to - from)) : std::string();
}

// `text` as one CoNLL column: white space of any kind (no-break, ideographic, line and
// paragraph separators, which SplitWords keeps inside a word) becomes '_', so a reader that
// splits on any white space finds the same columns; and a word "-DOCSTART-" is not read as a
// document's start.
std::string ConllColumn(absl::string_view text) {
  static constexpr absl::string_view kSpaces[] = {" ",
                                                  "\t",
                                                  "\xc2\x85",
                                                  "\xc2\xa0",
                                                  "\xe1\x9a\x80",
                                                  "\xe2\x80\xa8",
                                                  "\xe2\x80\xa9",
                                                  "\xe2\x80\xaf",
                                                  "\xe2\x81\x9f",
                                                  "\xe3\x80\x80"};
  std::string out;
  for (size_t i = 0; i < text.size();) {
    size_t matched = 0;
    for (absl::string_view space : kSpaces) {
      if (text.substr(i, space.size()) == space) matched = space.size();
    }
    // U+2000 to U+200A: E2 80 80 to E2 80 8A.
    if (matched == 0 && text.substr(i, 2) == "\xe2\x80" && i + 2 < text.size() &&
        static_cast<unsigned char>(text[i + 2]) <= 0x8A) {
      matched = 3;
    }
    if (matched > 0) {
      out += '_';
      i += matched;
    } else {
      out += text[i++];
    }
  }
  if (out == "-DOCSTART-") out = "_DOCSTART-";
  return out;
}

// Where code point `point` of `text` is in UTF-16 code units.
uint32_t Utf16Offset(std::string_view text, uint32_t point) {
  uint32_t units = 0, seen = 0;
  for (size_t i = 0; i < text.size() && seen < point; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) == 0x80) continue;
    units += c >= 0xF0 ? 2 : 1;  // four UTF-8 bytes: outside the BMP, a surrogate pair
    ++seen;
  }
  return units + (point - seen);
}

}  // namespace

nlohmann::ordered_json AnswerJson(const v1::Answer& answer, const v1::Item& item) {
  switch (answer.value_case()) {
    case v1::Answer::kSpans: {
      const std::string* text = FieldValue(item, answer.spans().field());
      nlohmann::ordered_json spans = nlohmann::ordered_json::array();
      for (const auto& s : answer.spans().spans()) {
        spans.push_back({{"start", s.start()},
                         {"end", s.end()},
                         {"label", s.label()},
                         {"text", text ? CodePointSlice(*text, s.start(), s.end()) : ""}});
      }
      return spans;
    }
    case v1::Answer::kShapes: {
      nlohmann::ordered_json shapes = nlohmann::ordered_json::array();
      for (const auto& s : answer.shapes().shapes()) {
        if (s.x1() == 0 && s.y1() == 0) {
          shapes.push_back({{"label", s.label()}, {"x", s.x0()}, {"y", s.y0()}});
        } else {
          shapes.push_back({{"label", s.label()},
                            {"x", s.x0()},
                            {"y", s.y0()},
                            {"width", s.x1() - s.x0()},
                            {"height", s.y1() - s.y0()}});
        }
      }
      return shapes;
    }
    case v1::Answer::kPick:
      return {{"winner", answer.pick().winner()}, {"reason", answer.pick().reason()}};
    case v1::Answer::kRanking:
      return std::vector<std::string>(answer.ranking().options().begin(),
                                      answer.ranking().options().end());
    case v1::Answer::kChoices:
      return std::vector<std::string>(answer.choices().options().begin(),
                                      answer.choices().options().end());
    case v1::Answer::kChoice:
      return answer.choice();
    case v1::Answer::kText:
      return answer.text();
    case v1::Answer::kNumber:
      return answer.number();
    case v1::Answer::VALUE_NOT_SET:
      break;
  }
  return nullptr;
}

bool HasSpansVerdict(const v1::ResultRecord& rec, const std::string& stage) {
  if (SpansVerdict(rec, stage) != nullptr) return true;
  for (const auto& child : rec.children()) {
    if (HasSpansVerdict(child, stage)) return true;
  }
  return false;
}

const v1::Provenance* SpansVerdict(const v1::ResultRecord& rec, const std::string& stage) {
  for (const auto& p : rec.provenance()) {
    if (p.value().has_spans() && (stage.empty() || p.stage() == stage)) return &p;
  }
  return nullptr;
}

bool WriteConllItem(const v1::ResultRecord& rec, const std::string& stage, std::ostream* out) {
  // A verify stage turned it down (or a piece of it, kept as it was cut): not an answer to train
  // on.
  if (absl::StrContains(rec.status(), "rejected by ")) return false;
  const v1::Provenance* verdict = SpansVerdict(rec, stage);
  if (verdict == nullptr) return false;
  const std::string* text = FieldValue(rec.item(), verdict->value().spans().field());
  if (text == nullptr) return false;
  const auto& spans = verdict->value().spans().spans();
  int at = 0;  // the first span not yet passed
  for (const Word& w : SplitWords(*text)) {
    while (at < spans.size() && spans[at].end() <= w.start) ++at;
    std::string tag = "O";
    if (at < spans.size() && spans[at].start() <= w.start && w.end <= spans[at].end()) {
      tag = (w.start == spans[at].start() ? "B-" : "I-") + spans[at].label();
    }
    *out << ConllColumn(w.text) << " -X- _ " << ConllColumn(tag) << "\n";
  }
  *out << "\n";
  return true;
}

nlohmann::ordered_json LabelStudioTask(const v1::ResultRecord& rec, uint64_t id,
                                       const std::map<std::string, v1::AnswerSchema>& answers) {
  nlohmann::ordered_json data = nlohmann::ordered_json::object();
  for (const auto& f : rec.item().fields()) data[f.name()] = f.value();
  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  for (const auto& p : rec.provenance()) {
    auto schema = answers.find(p.stage());
    if (schema == answers.end()) continue;
    auto result = [&](const std::string& to_name, const char* type, nlohmann::ordered_json value) {
      results.push_back({{"id", absl::StrCat(p.stage(), "-", results.size() + 1)},
                         {"from_name", p.stage()},
                         {"to_name", to_name},
                         {"type", type},
                         {"value", std::move(value)}});
    };
    const v1::AnswerSchema& a = schema->second;
    if (a.has_spans()) {
      const std::string* text = FieldValue(rec.item(), a.spans().field());
      if (text == nullptr) continue;
      for (const auto& s : p.value().spans().spans()) {
        result(a.spans().field(), "labels",
               {{"start", Utf16Offset(*text, s.start())},
                {"end", Utf16Offset(*text, s.end())},
                {"text", CodePointSlice(*text, s.start(), s.end())},
                {"labels", {s.label()}}});
      }
    } else if (a.has_shapes()) {
      const v1::Field* image = FieldNamed(rec.item(), a.shapes().field());
      if (image == nullptr || image->media().width() == 0 || image->media().height() == 0) {
        continue;
      }
      const double w = image->media().width(), h = image->media().height();
      for (const auto& s : p.value().shapes().shapes()) {
        const bool point = a.shapes().kind() == v1::SHAPE_POINT;
        if (s.polygon_size() > 0) {
          nlohmann::ordered_json corners = nlohmann::ordered_json::array();
          for (int i = 0; i + 1 < s.polygon_size(); i += 2) {
            corners.push_back({100.0 * s.polygon(i) / w, 100.0 * s.polygon(i + 1) / h});
          }
          result(
              a.shapes().field(), "polygonlabels",
              {{"points", std::move(corners)}, {"closed", true}, {"polygonlabels", {s.label()}}});
        } else {
          nlohmann::ordered_json value = {{"x", 100.0 * s.x0() / w}, {"y", 100.0 * s.y0() / h}};
          if (point) {
            value["width"] = 0.5;
            value["keypointlabels"] = {s.label()};
          } else {
            value["width"] = 100.0 * (s.x1() - s.x0()) / w;
            value["height"] = 100.0 * (s.y1() - s.y0()) / h;
            value["rotation"] = 0;
            value["rectanglelabels"] = {s.label()};
          }
          result(a.shapes().field(), point ? "keypointlabels" : "rectanglelabels",
                 std::move(value));
        }
        results.back()["original_width"] = image->media().width();
        results.back()["original_height"] = image->media().height();
        results.back()["image_rotation"] = 0;
      }
    } else if (a.has_comparison()) {
      result(absl::StrCat(a.comparison().a_field(), ",", a.comparison().b_field()), "pairwise",
             {{"selected", p.value().pick().winner() == "a" ? "left" : "right"}});
    } else if (a.has_single_choice()) {
      result("item", "choices", {{"choices", {p.answer()}}});
    } else if (a.has_multi_choice()) {
      std::vector<std::string> chosen = absl::StrSplit(p.answer(), '|', absl::SkipEmpty());
      result("item", "choices", {{"choices", chosen}});
    } else if (a.has_text()) {
      result("item", "textarea", {{"text", {p.answer()}}});
    } else if (a.has_number()) {
      double n = 0;
      if (absl::SimpleAtod(p.answer(), &n)) result("item", "number", {{"number", n}});
    }
  }
  nlohmann::ordered_json task;
  task["id"] = id;
  task["data"] = std::move(data);
  task["meta"] = {{"item", rec.item_index()}, {"status", rec.status()}};
  task["annotations"] = nlohmann::ordered_json::array({{{"id", id},
                                                        {"result", std::move(results)},
                                                        {"ground_truth", false},
                                                        {"was_cancelled", false}}});
  return task;
}

std::pair<const v1::Provenance*, const v1::Field*> ShapesVerdict(const v1::ResultRecord& rec,
                                                                 const std::string& stage) {
  if (absl::StrContains(rec.status(), "rejected by ")) return {nullptr, nullptr};
  for (const auto& p : rec.provenance()) {
    if (p.stage() != stage || !p.value().has_shapes()) continue;
    const v1::Field* image = FieldNamed(rec.item(), p.value().shapes().field());
    if (image == nullptr || !image->has_media()) return {nullptr, nullptr};
    return {&p, image};
  }
  return {nullptr, nullptr};
}

CocoDataset::CocoDataset(const std::string& stage, const v1::ShapeLabels& schema)
    : stage_(stage), schema_(schema) {}

uint64_t CocoDataset::Add(const v1::ResultRecord& rec) {
  uint64_t added = 0;
  if (auto [verdict, image] = ShapesVerdict(rec, stage_); verdict != nullptr) {
    const uint64_t image_id = images_.size() + 1;
    images_.push_back({{"id", image_id},
                       {"file_name", image->value()},
                       {"width", image->media().width()},
                       {"height", image->media().height()}});
    for (const auto& s : verdict->value().shapes().shapes()) {
      const auto label = std::find(schema_.labels().begin(), schema_.labels().end(), s.label());
      if (label == schema_.labels().end()) continue;  // checked on arrival: never
      nlohmann::ordered_json a = {{"id", annotations_.size() + 1},
                                  {"image_id", image_id},
                                  {"category_id", label - schema_.labels().begin() + 1}};
      if (schema_.kind() == v1::SHAPE_POINT) {
        // The reach two workers' points are one within, as the object's extent: COCO's keypoint
        // similarity is scaled by the area.
        const int64_t r = schema_.match_radius() == 0 ? 20 : schema_.match_radius();
        const int64_t x0 = std::max<int64_t>(0, int64_t{s.x0()} - r);
        const int64_t y0 = std::max<int64_t>(0, int64_t{s.y0()} - r);
        const int64_t x1 = std::min<int64_t>(image->media().width(), int64_t{s.x0()} + r + 1);
        const int64_t y1 = std::min<int64_t>(image->media().height(), int64_t{s.y0()} + r + 1);
        a["keypoints"] = {s.x0(), s.y0(), 2};
        a["num_keypoints"] = 1;
        a["bbox"] = {x0, y0, x1 - x0, y1 - y0};
        a["area"] = (x1 - x0) * (y1 - y0);
      } else if (s.polygon_size() > 0) {
        // A polygon: its corners as the one part of its segmentation, its bounding box, and the
        // area it encloses (the shoelace formula; half pixels are kept).
        const std::optional<qa::LabelledShape> p =
            qa::Polygon(s.label(), {s.polygon().begin(), s.polygon().end()});
        if (!p.has_value()) continue;  // checked on arrival: never
        double twice = 0;
        for (size_t i = 0; i < p->polygon.size(); i += 2) {
          const size_t j = (i + 2) % p->polygon.size();
          twice += static_cast<double>(p->polygon[i]) * p->polygon[j + 1] -
                   static_cast<double>(p->polygon[j]) * p->polygon[i + 1];
        }
        a["segmentation"] = {p->polygon};
        a["bbox"] = {p->x0, p->y0, p->x1 - p->x0, p->y1 - p->y0};
        a["area"] = std::abs(twice) / 2;
      } else {
        const uint32_t w = s.x1() - s.x0(), h = s.y1() - s.y0();
        a["bbox"] = {s.x0(), s.y0(), w, h};
        a["area"] = uint64_t{w} * h;
      }
      a["iscrowd"] = 0;
      annotations_.push_back(std::move(a));
    }
    ++added;
  }
  for (const auto& child : rec.children()) added += Add(child);
  return added;
}

nlohmann::ordered_json CocoDataset::Json() const {
  nlohmann::ordered_json categories = nlohmann::ordered_json::array();
  for (int i = 0; i < schema_.labels_size(); ++i) {
    nlohmann::ordered_json c = {{"id", i + 1}, {"name", schema_.labels(i)}, {"supercategory", ""}};
    if (schema_.kind() == v1::SHAPE_POINT) {
      c["keypoints"] = {"point"};
      c["skeleton"] = nlohmann::ordered_json::array();
    }
    categories.push_back(std::move(c));
  }
  nlohmann::ordered_json out;
  out["info"] = {{"description", absl::StrCat("microwork: the verdicts of stage ", stage_)}};
  out["images"] = images_;
  out["annotations"] = annotations_;
  out["categories"] = std::move(categories);
  return out;
}

std::string YoloLabels(const v1::Provenance& verdict, const v1::Field& image,
                       const google::protobuf::RepeatedPtrField<std::string>& labels) {
  const double w = image.media().width(), h = image.media().height();
  std::string out;
  for (const auto& s : verdict.value().shapes().shapes()) {
    const auto label = std::find(labels.begin(), labels.end(), s.label());
    if (label == labels.end() || (s.x1() == 0 && s.y1() == 0)) continue;
    absl::StrAppend(
        &out, label - labels.begin(), " ",
        absl::StrFormat("%.6f %.6f %.6f %.6f", (s.x0() + s.x1()) / 2.0 / w,
                        (s.y0() + s.y1()) / 2.0 / h, (s.x1() - s.x0()) / w, (s.y1() - s.y0()) / h),
        "\n");
  }
  return out;
}

std::string YoloLabelPath(const std::string& image_name) {
  std::string name = image_name;
  if (absl::StartsWithIgnoreCase(name, "http://") || absl::StartsWithIgnoreCase(name, "https://")) {
    name = name.substr(name.find("://") + 3);
    name = name.substr(0, name.find_first_of("?#"));
    name = name.substr(name.find_last_of('/') + 1);
  }
  // Each part of the path kept to letters, digits and "._-"; a part that is empty, "." or ".."
  // becomes "_", so the file stays inside labels/ whatever the contract's rows named.
  std::vector<std::string> parts = absl::StrSplit(name, '/');
  for (std::string& part : parts) {
    for (char& c : part) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
        c = '_';
      }
    }
    if (part.empty() || part == "." || part == "..") part = "_";
  }
  std::string& last = parts.back();
  if (const size_t dot = last.find_last_of('.'); dot != std::string::npos && dot > 0) {
    last.resize(dot);
  }
  return absl::StrCat(absl::StrJoin(parts, "/"), ".txt");
}

}  // namespace mw::formats
