#include "formats/label_studio_import.h"

#include <cmath>
#include <limits>
#include <optional>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "nlohmann/json.hpp"
#include "qa/shapes.h"

namespace mw::formats {
namespace {

using Json = nlohmann::ordered_json;

constexpr uint64_t kMaxLine = uint64_t{16} << 20;  // one task of a JSONL file
constexpr uint32_t kMaxSide = (1u << 31) - 1;      // what qa/shapes.h's text form holds

absl::Status Bad(const std::string& where, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

// "task 3 (id 17)": its place in the file from 1, and its id when it has one.
std::string TaskPlace(uint64_t n, const Json& task) {
  std::string place = absl::StrCat("task ", n);
  if (task.is_object() && task.contains("id") &&
      (task["id"].is_number() || task["id"].is_string())) {
    absl::StrAppend(&place, " (id ",
                    task["id"].is_string() ? task["id"].get<std::string>() : task["id"].dump(),
                    ")");
  }
  return place;
}

absl::StatusOr<double> Percent(const Json& value, const char* name, const std::string& where) {
  if (!value.contains(name) || !value[name].is_number()) {
    return Bad(where, absl::StrCat("expected value.", name, ", a number of percent"));
  }
  const double v = value[name].get<double>();
  if (!(v >= 0 && v <= 100)) {
    return Bad(where, absl::StrCat("value.", name, " is ", value[name].dump(),
                                   "; expected 0 to 100 percent of the image"));
  }
  return v;
}

// `percent` of a side `size` pixels long, in whole pixels (half away from zero), at most `top`.
uint32_t Pixel(double percent, uint32_t size, uint32_t top) {
  const double px = std::llround(percent / 100.0 * size);
  return static_cast<uint32_t>(std::min<double>(px, top));
}

absl::StatusOr<uint32_t> Side(const Json& result, const char* name, const std::string& where) {
  if (!result.contains(name) || !result[name].is_number_integer() ||
      result[name].get<int64_t>() <= 0 || result[name].get<int64_t>() > kMaxSide) {
    return Bad(where, absl::StrCat("expected ", name,
                                   ", the image's size in whole pixels, which Label Studio writes "
                                   "with each result"));
  }
  return static_cast<uint32_t>(result[name].get<int64_t>());
}

bool IsShapeType(const std::string& type) {
  return type == "rectanglelabels" || type == "keypointlabels" || type == "polygonlabels";
}

// One result as a shape, or nullopt for a result that is no shape (left out). `kind` is the kind
// the file's shapes are of so far ("" before the first).
absl::StatusOr<std::optional<qa::LabelledShape>> Shape(const Json& result, const std::string& where,
                                                       std::string* kind) {
  if (!result.is_object() || !result.contains("type") || !result["type"].is_string()) {
    return Bad(where, "expected an object with a \"type\"");
  }
  const std::string type = result["type"].get<std::string>();
  const std::string this_kind = type == "rectanglelabels"  ? "box"
                                : type == "keypointlabels" ? "point"
                                : type == "polygonlabels"  ? "polygon"
                                                           : "";
  if (this_kind.empty()) return std::nullopt;
  if (!kind->empty() && *kind != this_kind) {
    return Bad(where, absl::StrCat("a ", this_kind, " among ", *kind, *kind == "box" ? "es" : "s",
                                   ": expected shapes of one kind, as one stage draws"));
  }
  *kind = this_kind;
  if (!result.contains("value") || !result["value"].is_object()) {
    return Bad(where, "expected a \"value\" object");
  }
  const Json& value = result["value"];
  MW_ASSIGN_OR_RETURN(const uint32_t width, Side(result, "original_width", where));
  MW_ASSIGN_OR_RETURN(const uint32_t height, Side(result, "original_height", where));
  if (!value.contains(type) || !value[type].is_array() || value[type].size() != 1 ||
      !value[type][0].is_string()) {
    return Bad(where, absl::StrCat("expected value.", type, " to hold one label"));
  }
  qa::LabelledShape s;
  s.label = value[type][0].get<std::string>();
  if (s.label.empty() || s.label.size() > 40 || s.label.find_first_of(";:") != std::string::npos) {
    return Bad(where, absl::StrCat("label ", Json(s.label).dump(),
                                   ": expected 1 to 40 characters without ';' or ':'"));
  }
  if (type == "polygonlabels") {
    if (!value.contains("points") || !value["points"].is_array()) {
      return Bad(where, "expected value.points, the corners as [x, y] in percent");
    }
    std::vector<uint32_t> corners;
    for (const Json& point : value["points"]) {
      if (!point.is_array() || point.size() != 2 || !point[0].is_number() ||
          !point[1].is_number()) {
        return Bad(where, "expected each of value.points to be [x, y] in percent");
      }
      const Json xy = {{"x", point[0]}, {"y", point[1]}};
      MW_ASSIGN_OR_RETURN(const double x, Percent(xy, "x", where));
      MW_ASSIGN_OR_RETURN(const double y, Percent(xy, "y", where));
      corners.push_back(Pixel(x, width, width));
      corners.push_back(Pixel(y, height, height));
    }
    const size_t count = corners.size() / 2;
    std::optional<qa::LabelledShape> polygon = qa::Polygon(s.label, std::move(corners));
    if (!polygon.has_value()) {
      return Bad(where, absl::StrCat(count, " corners: expected 3 to ", qa::kMaxPolygonCorners,
                                     " enclosing some area"));
    }
    return polygon;
  }
  MW_ASSIGN_OR_RETURN(const double x, Percent(value, "x", where));
  MW_ASSIGN_OR_RETURN(const double y, Percent(value, "y", where));
  if (type == "keypointlabels") {
    s.point = true;
    s.x0 = Pixel(x, width, width - 1);
    s.y0 = Pixel(y, height, height - 1);
    return s;
  }
  if (value.contains("rotation") &&
      (!value["rotation"].is_number() || value["rotation"].get<double>() != 0)) {
    return Bad(where, "a rotated box: expected rotation 0 (boxes here are upright)");
  }
  MW_ASSIGN_OR_RETURN(const double w, Percent(value, "width", where));
  MW_ASSIGN_OR_RETURN(const double h, Percent(value, "height", where));
  for (const auto& [from, extent, name] :
       {std::make_tuple(x, w, "x + width"), std::make_tuple(y, h, "y + height")}) {
    if (from + extent > 100 + 1e-6) {  // beyond the image, not a rounding of its edge
      return Bad(where, absl::StrCat("value.", name, " is ", from + extent,
                                     "; expected the box within the image (at most 100 percent)"));
    }
  }
  s.x0 = Pixel(x, width, width);
  s.y0 = Pixel(y, height, height);
  s.x1 = Pixel(x + w, width, width);
  s.y1 = Pixel(y + h, height, height);
  if (s.x1 <= s.x0 || s.y1 <= s.y0) {
    return Bad(where, absl::StrCat("a box of no size at ", width, "x", height,
                                   " pixels: expected width and height above 0"));
  }
  return s;
}

// The results a task's pre-annotations hold: its first prediction's, or with none, its first
// annotation's that was not cancelled; nullptr when it has neither.
const Json* StartingResults(const Json& task) {
  if (task.contains("predictions") && task["predictions"].is_array()) {
    for (const Json& p : task["predictions"]) {
      if (p.is_object() && p.contains("result")) return &p["result"];
    }
  }
  if (task.contains("annotations") && task["annotations"].is_array()) {
    for (const Json& a : task["annotations"]) {
      if (a.is_object() && a.contains("result") &&
          !(a.contains("was_cancelled") && a["was_cancelled"] == true)) {
        return &a["result"];
      }
    }
  }
  return nullptr;
}

absl::Status Row(const Json& task, uint64_t n, const LabelStudioImport& o, LabelStudioImported* s,
                 std::ostream* out) {
  const std::string place = TaskPlace(n, task);
  if (!task.is_object() || !task.contains("data") || !task["data"].is_object()) {
    return Bad(place, "expected an object with a \"data\" object");
  }
  for (const auto& [name, value] : task["data"].items()) {
    if (value.is_structured()) {
      return Bad(place, absl::StrCat("data.", name,
                                     " is a list or an object; expected text, a number, true, "
                                     "false or null (a row's fields are plain values)"));
    }
  }
  Json row = task["data"];
  if (!o.image_field.empty() && !row.contains(o.image_field)) {
    return Bad(place, absl::StrCat("its data has no field \"", o.image_field,
                                   "\", the image the stage draws on"));
  }
  if (row.contains(o.start_field)) {
    return Bad(place, absl::StrCat("its data already has a field \"", o.start_field,
                                   "\": choose another with --start-field"));
  }
  std::vector<qa::LabelledShape> shapes;
  if (const Json* results = StartingResults(task); results != nullptr) {
    if (!results->is_array()) return Bad(place, "expected \"result\" to be a list");
    std::string image;  // the to_name every shape is drawn on
    for (size_t r = 0; r < results->size(); ++r) {
      const Json& result = (*results)[r];
      if (result.is_object() && result.contains("to_name") && result["to_name"].is_string()) {
        const std::string to = result["to_name"].get<std::string>();
        const bool shape = result.contains("type") && result["type"].is_string() &&
                           IsShapeType(result["type"].get<std::string>());
        if (shape && !image.empty() && to != image) {
          return Bad(absl::StrCat(place, ", result ", r + 1),
                     absl::StrCat("drawn on \"", to, "\" after \"", image,
                                  "\": expected the shapes of one image a task"));
        }
        if (shape && image.empty()) image = to;
      }
      MW_ASSIGN_OR_RETURN(std::optional<qa::LabelledShape> shape,
                          Shape((*results)[r], absl::StrCat(place, ", result ", r + 1), &s->kind));
      if (shape.has_value()) {
        shapes.push_back(*std::move(shape));
      } else {
        ++s->left_out;
      }
    }
  }
  row[o.start_field] = qa::FormatShapes(shapes);
  if (o.check) {
    if (absl::Status s = o.check(row[o.start_field].get<std::string>()); !s.ok()) {
      return Bad(place, absl::StrCat("its shapes are not ones the stage takes: ", s.message()));
    }
  }
  ++s->tasks;
  s->shapes += shapes.size();
  if (!shapes.empty()) ++s->with_shapes;
  *out << row.dump() << "\n";
  return absl::OkStatus();
}

// One task a line (JSONL), each line read alone.
absl::Status Lines(std::istream& in, const LabelStudioImport& options, LabelStudioImported* summary,
                   std::ostream* out) {
  std::string line;
  for (uint64_t n = 1;; ++n) {
    line.clear();
    char c;
    while (in.get(c) && c != '\n') {
      if (line.size() >= kMaxLine) {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", n, ": longer than ", kMaxLine, " bytes; expected one task"));
      }
      line.push_back(c);
    }
    if (line.find_first_not_of(" \t\r") != std::string::npos) {
      if (summary->tasks >= options.max_tasks) {
        return absl::InvalidArgumentError(
            absl::StrCat("more than ", options.max_tasks, " tasks in one file"));
      }
      const Json task = Json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (task.is_discarded()) {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", n, ": expected a Label Studio task as one JSON object"));
      }
      MW_RETURN_IF_ERROR(Row(task, n, options, summary, out));
    }
    if (!in) break;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LabelStudioImported> ImportLabelStudio(std::istream& in, uint64_t bytes,
                                                      const LabelStudioImport& options,
                                                      std::ostream* out) {
  LabelStudioImported summary;
  in >> std::ws;
  if (in.peek() == '[') {
    if (bytes > options.max_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the tasks are one JSON list of ", bytes, " bytes; at most ", options.max_bytes,
          " are read whole: export them as JSONL (one task per line), which is read line by line"));
    }
    const Json tasks = Json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (tasks.is_discarded() || !tasks.is_array()) {
      return absl::InvalidArgumentError(
          "expected a JSON list of Label Studio tasks; this does not parse as one (cut short?)");
    }
    if (tasks.size() > options.max_tasks) {
      return absl::InvalidArgumentError(
          absl::StrCat(tasks.size(), " tasks; at most ", options.max_tasks, " in one file"));
    }
    for (size_t i = 0; i < tasks.size(); ++i) {
      MW_RETURN_IF_ERROR(Row(tasks[i], i + 1, options, &summary, out));
    }
  } else {
    MW_RETURN_IF_ERROR(Lines(in, options, &summary, out));
  }
  if (summary.tasks == 0) {
    return absl::InvalidArgumentError(
        "no tasks: expected a JSON list of Label Studio tasks, or one task a line");
  }
  return summary;
}

}  // namespace mw::formats
