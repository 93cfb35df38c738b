#include "engine/dispatch/answers.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/common/plain_text.h"
#include "engine/common/status_macros.h"
#include "engine/common/words.h"
#include "qa/shapes.h"
#include "qa/spans.h"

namespace mw::dispatch {

using microwork::v1::Answer;
using microwork::v1::AnswerSchema;

namespace {

// A value from outside, for an error message: at most 60 bytes (cut at a character boundary),
// control characters shown as U+FFFD.
std::string Quoted(const std::string& value) {
  if (value.size() <= 60) return absl::StrCat("\"", TerminalText(value), "\"");
  size_t cut = 60;
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat("\"", TerminalText(value.substr(0, cut)), "...\" (", value.size(), " bytes)");
}

bool Listed(const google::protobuf::RepeatedPtrField<std::string>& options,
            const std::string& value) {
  return std::find(options.begin(), options.end(), value) != options.end();
}

const std::string* FieldOf(const microwork::v1::Item& item, const std::string& name) {
  const microwork::v1::Field* f = FieldNamed(item, name);
  return f != nullptr ? &f->value() : nullptr;
}

// The count check every kind with several marks opens with: "expected 1 to 5 boxes, got 7".
absl::Status CheckCount(uint32_t n, uint32_t min, uint32_t max_or_zero, absl::string_view what) {
  const uint32_t max = max_or_zero == 0 ? 50 : max_or_zero;
  if (n < min || n > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected ", min, " to ", max, " ", what, ", got ", n));
  }
  return absl::OkStatus();
}

absl::Status CheckSpans(const microwork::v1::SpanLabels& schema, const microwork::v1::SpanSet& set,
                        const microwork::v1::Item* item) {
  if (!set.field().empty() && set.field() != schema.field()) {
    return absl::InvalidArgumentError(
        absl::StrCat("spans mark the field ", Quoted(set.field()), "; expected ", schema.field()));
  }
  MW_RETURN_IF_ERROR(CheckCount(static_cast<uint32_t>(set.spans_size()), schema.min_count(),
                                schema.max_count(), "spans"));
  std::vector<Word> words;
  uint32_t length = 0;
  if (item != nullptr) {
    const std::string* text = FieldOf(*item, schema.field());
    if (text == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("the item has no field ", Quoted(schema.field()), " to mark"));
    }
    words = SplitWords(*text);
    length = CodePoints(*text);
  }
  uint32_t previous_end = 0;
  for (int i = 0; i < set.spans_size(); ++i) {
    const microwork::v1::Span& s = set.spans(i);
    const std::string where = absl::StrCat("span ", i + 1, " (", s.start(), "-", s.end(), ")");
    if (!Listed(schema.labels(), s.label())) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": label ", Quoted(s.label()),
                                                     " is not one of ",
                                                     absl::StrJoin(schema.labels(), ", ")));
    }
    if (s.start() >= s.end()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": expected start before end"));
    }
    if (i > 0 && s.start() < previous_end) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": overlaps the span before it, or is out of order"));
    }
    previous_end = s.end();
    if (item == nullptr) continue;
    if (s.end() > length) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": the text has ", length, " characters"));
    }
    const bool starts = std::any_of(words.begin(), words.end(),
                                    [&](const Word& w) { return w.start == s.start(); });
    const bool ends =
        std::any_of(words.begin(), words.end(), [&](const Word& w) { return w.end == s.end(); });
    if (!starts || !ends) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": expected whole words, from a word's start to a word's end"));
    }
  }
  return absl::OkStatus();
}

// Shapes: each labelled from the set, a box's corners in order, and with the item, within its
// image (the upright original's pixels, Field.media).
absl::Status CheckShapes(const microwork::v1::ShapeLabels& schema,
                         const microwork::v1::ShapeSet& set, const microwork::v1::Item* item) {
  if (!set.field().empty() && set.field() != schema.field()) {
    return absl::InvalidArgumentError(
        absl::StrCat("shapes are drawn on ", Quoted(set.field()), "; expected ", schema.field()));
  }
  MW_RETURN_IF_ERROR(CheckCount(static_cast<uint32_t>(set.shapes_size()), schema.min_count(),
                                schema.max_count(), "shapes"));
  uint32_t width = 0, height = 0;
  if (item != nullptr) {
    const microwork::v1::Field* image = FieldNamed(*item, schema.field());
    if (image == nullptr || image->media().kind() != microwork::v1::MEDIA_IMAGE) {
      return absl::InvalidArgumentError(
          absl::StrCat("the item has no image ", Quoted(schema.field()), " to draw on"));
    }
    width = image->media().width();
    height = image->media().height();
  }
  const bool points = schema.kind() == microwork::v1::SHAPE_POINT;
  const bool polygons = schema.kind() == microwork::v1::SHAPE_POLYGON;
  const uint32_t max_corners = schema.max_vertices() == 0 ? 12 : schema.max_vertices();
  for (int i = 0; i < set.shapes_size(); ++i) {
    const microwork::v1::Shape& s = set.shapes(i);
    const std::string where = points ? absl::StrCat("point ", i + 1, " (", s.x0(), ",", s.y0(), ")")
                              : polygons ? absl::StrCat("polygon ", i + 1)
                                         : absl::StrCat("box ", i + 1, " (", s.x0(), ",", s.y0(),
                                                        ")-(", s.x1(), ",", s.y1(), ")");
    if (!Listed(schema.labels(), s.label())) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": label ", Quoted(s.label()),
                                                     " is not one of ",
                                                     absl::StrJoin(schema.labels(), ", ")));
    }
    if (points && (s.x1() != 0 || s.y1() != 0)) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": a point has one corner, not two"));
    }
    if (polygons != (s.polygon_size() > 0) ||
        (polygons && (s.x0() != 0 || s.y0() != 0 || s.x1() != 0 || s.y1() != 0))) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, polygons ? ": expected its corners in polygon, and x0 to y1 left 0"
                                       : ": only a polygon has corners in polygon"));
    }
    if (polygons && (s.polygon_size() % 2 != 0 || s.polygon_size() < 6 ||
                     static_cast<uint32_t>(s.polygon_size()) > 2 * max_corners)) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": expected 3 to ", max_corners,
                                                     " corners, x then y of each; got ",
                                                     s.polygon_size(), " numbers"));
    }
    constexpr uint32_t kMax = (1u << 31) - 1;  // what qa/shapes.h's text form holds
    const auto highest = std::max_element(s.polygon().begin(), s.polygon().end());
    if (std::max({s.x0(), s.y0(), s.x1(), s.y1(), highest == s.polygon().end() ? 0u : *highest}) >
        kMax) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": coordinates go up to ", kMax));
    }
    uint32_t right = s.x1(), bottom = s.y1();
    if (polygons) {
      const std::optional<qa::LabelledShape> polygon =
          qa::Polygon(s.label(), {s.polygon().begin(), s.polygon().end()});
      if (!polygon.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where,
                         ": its corners enclose no area (all on one line, or crossing "
                         "itself into halves that cancel)"));
      }
      right = polygon->x1;
      bottom = polygon->y1;
    } else if (!points && (s.x0() >= s.x1() || s.y0() >= s.y1())) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": expected the top left corner, then the bottom right"));
    }
    if (item == nullptr) continue;
    const bool inside =
        points ? s.x0() < width && s.y0() < height : right <= width && bottom <= height;
    if (!inside) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": outside the image, which is ", width, "x", height, " pixels"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

const microwork::v1::Field* FieldNamed(const microwork::v1::Item& item, absl::string_view name) {
  for (const auto& f : item.fields()) {
    if (f.name() == name) return &f;
  }
  return nullptr;
}

const std::string& FieldValue(const microwork::v1::Item& item, absl::string_view name) {
  static const std::string* const kNone = new std::string();
  const microwork::v1::Field* f = FieldNamed(item, name);
  return f != nullptr ? f->value() : *kNone;
}

std::vector<qa::LabelledShape> ShapesOf(const microwork::v1::ShapeSet& set) {
  std::vector<qa::LabelledShape> shapes;
  for (const microwork::v1::Shape& s : set.shapes()) {
    if (s.polygon_size() > 0) {
      if (std::optional<qa::LabelledShape> polygon =
              qa::Polygon(s.label(), {s.polygon().begin(), s.polygon().end()})) {
        shapes.push_back(*std::move(polygon));
        continue;
      }
    }
    const bool point = s.x1() == 0 && s.y1() == 0;
    shapes.push_back({s.label(), point, s.x0(), s.y0(), s.x1(), s.y1()});
  }
  return shapes;
}

void SetShapes(const std::vector<qa::LabelledShape>& shapes, microwork::v1::ShapeSet* set) {
  for (const qa::LabelledShape& s : shapes) {
    microwork::v1::Shape* shape = set->add_shapes();
    shape->set_label(s.label);
    if (!s.polygon.empty()) {
      shape->mutable_polygon()->Add(s.polygon.begin(), s.polygon.end());
      continue;
    }
    shape->set_x0(s.x0);
    shape->set_y0(s.y0);
    shape->set_x1(s.point ? 0 : s.x1);
    shape->set_y1(s.point ? 0 : s.y1);
  }
}

absl::Status CheckAnswer(const AnswerSchema& schema, const Answer& answer,
                         const microwork::v1::Item* item) {
  if (answer.skipped()) return absl::OkStatus();
  switch (schema.kind_case()) {
    case AnswerSchema::kSingleChoice:
      if (answer.value_case() != Answer::kChoice) {
        return absl::InvalidArgumentError("expected a single choice");
      }
      if (!Listed(schema.single_choice().options(), answer.choice())) {
        return absl::InvalidArgumentError(
            absl::StrCat("choice ", Quoted(answer.choice()), " is not one of the options (",
                         absl::StrJoin(schema.single_choice().options(), ", "), ")"));
      }
      return absl::OkStatus();
    case AnswerSchema::kMultiChoice: {
      if (answer.value_case() != Answer::kChoices) {
        return absl::InvalidArgumentError("expected a set of choices");
      }
      const auto& mc = schema.multi_choice();
      std::set<std::string> seen;
      for (const auto& c : answer.choices().options()) {
        if (!Listed(mc.options(), c)) {
          return absl::InvalidArgumentError(
              absl::StrCat("choice ", Quoted(c), " is not an option"));
        }
        if (!seen.insert(c).second) {
          return absl::InvalidArgumentError(absl::StrCat("choice ", Quoted(c), " is given twice"));
        }
      }
      const uint32_t n = static_cast<uint32_t>(seen.size());
      if (n < mc.min_selected() || (mc.max_selected() != 0 && n > mc.max_selected())) {
        return absl::InvalidArgumentError(absl::StrCat("expected ", mc.min_selected(), " to ",
                                                       mc.max_selected(), " choices, got ", n));
      }
      return absl::OkStatus();
    }
    case AnswerSchema::kText: {
      if (answer.value_case() != Answer::kText) return absl::InvalidArgumentError("expected text");
      const size_t n = CodePoints(answer.text());
      const auto& t = schema.text();
      if (n < t.min_length() || (t.max_length() != 0 && n > t.max_length())) {
        return absl::InvalidArgumentError(absl::StrCat("expected ", t.min_length(), " to ",
                                                       t.max_length(), " characters, got ", n));
      }
      return absl::OkStatus();
    }
    case AnswerSchema::kNumber: {
      if (answer.value_case() != Answer::kNumber) {
        return absl::InvalidArgumentError("expected a number");
      }
      double v;
      if (!absl::SimpleAtod(answer.number(), &v) || !std::isfinite(v)) {
        return absl::InvalidArgumentError(absl::StrCat(
            Quoted(answer.number()), " is not a number; expected digits such as 12.5"));
      }
      const auto& r = schema.number();
      if (v < r.min() || v > r.max()) {
        return absl::InvalidArgumentError(
            absl::StrCat(answer.number(), " is outside ", r.min(), " to ", r.max()));
      }
      int64_t i;
      if (r.integer() && !absl::SimpleAtoi(answer.number(), &i)) {
        return absl::InvalidArgumentError(
            absl::StrCat("expected a whole number, got ", answer.number()));
      }
      return absl::OkStatus();
    }
    case AnswerSchema::kSpans:
      if (answer.value_case() != Answer::kSpans) {
        return absl::InvalidArgumentError("expected labelled spans");
      }
      return CheckSpans(schema.spans(), answer.spans(), item);
    case AnswerSchema::kShapes:
      if (answer.value_case() != Answer::kShapes) {
        return absl::InvalidArgumentError("expected labelled shapes");
      }
      return CheckShapes(schema.shapes(), answer.shapes(), item);
    case AnswerSchema::kComparison: {
      if (answer.value_case() != Answer::kPick) {
        return absl::InvalidArgumentError("expected a pick of \"a\" or \"b\"");
      }
      const auto& c = schema.comparison();
      if (answer.pick().winner() != "a" && answer.pick().winner() != "b") {
        return absl::InvalidArgumentError(
            absl::StrCat("pick ", Quoted(answer.pick().winner()), ": expected \"a\" or \"b\""));
      }
      const uint32_t max = !c.ask_reason()         ? 0
                           : c.max_reason_length() ? c.max_reason_length()
                                                   : 500;
      if (const size_t n = CodePoints(answer.pick().reason()); n > max) {
        return absl::InvalidArgumentError(
            absl::StrCat("reason: expected at most ", max, " characters, got ", n));
      }
      return absl::OkStatus();
    }
    case AnswerSchema::kRanking: {
      if (answer.value_case() != Answer::kRanking) {
        return absl::InvalidArgumentError("expected a ranking");
      }
      const auto& fields = schema.ranking().fields();
      const auto& order = answer.ranking().options();
      std::set<std::string> seen;
      for (const auto& f : order) {
        if (!Listed(fields, f)) {
          return absl::InvalidArgumentError(absl::StrCat(Quoted(f), " is not one of the ranked (",
                                                         absl::StrJoin(fields, ", "), ")"));
        }
        if (!seen.insert(f).second) {
          return absl::InvalidArgumentError(absl::StrCat(Quoted(f), " is ranked twice"));
        }
      }
      if (order.size() != fields.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("expected all ", fields.size(), " ranked, got ", order.size()));
      }
      return absl::OkStatus();
    }
    case AnswerSchema::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("the stage has no answer schema");
}

std::string AnswerLabel(const Answer& answer) {
  switch (answer.value_case()) {
    case Answer::kChoice:
      return answer.choice();
    case Answer::kChoices: {
      std::vector<std::string> c(answer.choices().options().begin(),
                                 answer.choices().options().end());
      std::sort(c.begin(), c.end());
      return absl::StrJoin(c, "|");
    }
    case Answer::kText: {
      std::vector<std::string> words =
          absl::StrSplit(absl::AsciiStrToLower(answer.text()), ' ', absl::SkipWhitespace());
      for (auto& w : words) absl::StripAsciiWhitespace(&w);
      return absl::StrJoin(words, " ");
    }
    case Answer::kNumber:
      return answer.number();
    case Answer::kSpans: {
      std::vector<qa::LabelledSpan> spans;
      for (const auto& s : answer.spans().spans()) spans.push_back({s.start(), s.end(), s.label()});
      return qa::FormatSpans(spans);
    }
    case Answer::kShapes:
      return qa::FormatShapes(ShapesOf(answer.shapes()));
    case Answer::kPick:
      return answer.pick().winner();
    case Answer::kRanking:
      return absl::StrJoin(answer.ranking().options(), ">");
    case Answer::VALUE_NOT_SET:
      break;
  }
  return "";
}

Answer LabelToAnswer(const AnswerSchema& schema, const std::string& label) {
  Answer a;
  switch (schema.kind_case()) {
    case AnswerSchema::kSingleChoice:
      a.set_choice(label);
      break;
    case AnswerSchema::kMultiChoice:
      for (auto part : absl::StrSplit(label, '|', absl::SkipEmpty())) {
        a.mutable_choices()->add_options(std::string(part));
      }
      break;
    case AnswerSchema::kNumber:
      a.set_number(label);
      break;
    case AnswerSchema::kSpans: {
      auto* set = a.mutable_spans();
      set->set_field(schema.spans().field());
      for (const qa::LabelledSpan& s :
           qa::ParseSpans(label).value_or(std::vector<qa::LabelledSpan>())) {
        auto* span = set->add_spans();
        span->set_start(s.start);
        span->set_end(s.end);
        span->set_label(s.label);
      }
      break;
    }
    case AnswerSchema::kShapes: {
      a.mutable_shapes()->set_field(schema.shapes().field());
      SetShapes(qa::ParseShapes(label).value_or(std::vector<qa::LabelledShape>()),
                a.mutable_shapes());
      break;
    }
    case AnswerSchema::kComparison:
      a.mutable_pick()->set_winner(label);
      break;
    case AnswerSchema::kRanking:
      for (auto part : absl::StrSplit(label, '>', absl::SkipEmpty())) {
        a.mutable_ranking()->add_options(std::string(part));
      }
      break;
    default:
      a.set_text(label);
  }
  return a;
}

absl::StatusOr<Answer> CheckedLabel(const AnswerSchema& schema, const std::string& label,
                                    const microwork::v1::Item* item) {
  Answer answer = LabelToAnswer(schema, label);
  if (schema.has_spans() && !qa::ParseSpans(label).has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quoted(label), " is not spans written as start-end:label;start-end:label"));
  }
  if (schema.has_shapes()) {
    const std::optional<std::vector<qa::LabelledShape>> shapes = qa::ParseShapes(label);
    const microwork::v1::ShapeKind kind = schema.shapes().kind();
    const auto kind_of = [](const qa::LabelledShape& s) {
      return s.point              ? microwork::v1::SHAPE_POINT
             : !s.polygon.empty() ? microwork::v1::SHAPE_POLYGON
                                  : microwork::v1::SHAPE_BOX;
    };
    if (!shapes.has_value() ||
        std::any_of(shapes->begin(), shapes->end(),
                    [&](const qa::LabelledShape& s) { return kind_of(s) != kind; })) {
      return absl::InvalidArgumentError(absl::StrCat(
          Quoted(label), kind == microwork::v1::SHAPE_POINT
                             ? " is not points written as label:x,y;label:x,y"
                         : kind == microwork::v1::SHAPE_POLYGON
                             ? " is not polygons written as label:x,y,x,y,x,y;..."
                             : " is not boxes written as label:x0,y0,x1,y1;label:x0,y0,x1,y1"));
    }
  }
  MW_RETURN_IF_ERROR(CheckAnswer(schema, answer, item));
  return answer;
}

std::vector<std::string> FieldsShownByAnswer(const AnswerSchema& schema) {
  switch (schema.kind_case()) {
    case AnswerSchema::kSpans:
      return {schema.spans().field()};
    case AnswerSchema::kShapes:
      if (!schema.shapes().start_field().empty()) {
        return {schema.shapes().field(), schema.shapes().start_field()};
      }
      return {schema.shapes().field()};
    case AnswerSchema::kComparison:
      return {schema.comparison().a_field(), schema.comparison().b_field()};
    case AnswerSchema::kRanking:
      return {schema.ranking().fields().begin(), schema.ranking().fields().end()};
    default:
      return {};
  }
}

absl::StatusOr<std::string> TakeGoldAnswer(const microwork::v1::AnswerSchema& schema,
                                           const std::string& answer_field,
                                           microwork::v1::Item* item) {
  const std::string& name = answer_field.empty() ? std::string("answer") : answer_field;
  auto* fields = item->mutable_fields();
  for (int i = 0; i < fields->size(); ++i) {
    if (fields->Get(i).name() != name) continue;
    const std::string label = fields->Get(i).value();
    fields->DeleteSubrange(i, 1);
    absl::StatusOr<microwork::v1::Answer> answer = CheckedLabel(schema, label, item);
    if (!answer.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("gold answer: ", answer.status().message()));
    }
    return AnswerLabel(*answer);
  }
  return absl::InvalidArgumentError(absl::StrCat("gold row has no \"", name, "\" field"));
}

}  // namespace mw::dispatch
