// Label Studio tasks with pre-annotations (labelstud.io/guide/predictions) into rows a contract
// reads, so that workers correct the shapes a model or an earlier round drew instead of drawing
// every one again.
//
// The input is Label Studio's task format: a JSON array of tasks, or one task per line (JSONL),
// each {"data": {...}, "predictions": [{"result": [...]}], "annotations": [{"result": [...]}]}.
// Each task becomes one JSONL row: its `data` fields as they are, and a field (`start_field`)
// holding the shapes of its first prediction (or, with none, its first annotation that was not
// cancelled) in qa/shapes.h's text form, in whole pixels of the original image:
//   "rectanglelabels" {x, y, width, height, rotation 0}  a box
//   "keypointlabels"  {x, y}                             a point
//   "polygonlabels"   {points: [[x, y], ...]}            a polygon (3 to 64 corners)
// Each with its one label (the first of "<type>"), in percent of the image whose size in pixels
// is the result's original_width and original_height (Label Studio writes them with every
// result). Results of other types (choices, text) are left out and counted. A contract names the
// field in its shapes stage's `start_field`; the worker's page starts with them drawn.
//
//   mw import label-studio tasks.json --out rows.jsonl
//   // tasks.json: [{"data": {"image": "street-1.png"}, "predictions": [{"result": [{"type":
//   //   "rectanglelabels", "original_width": 800, "original_height": 600, "value": {"x": 10,
//   //   "y": 20, "width": 25, "height": 10, "rotation": 0, "rectanglelabels": ["car"]}}]}]}]
//   // rows.jsonl: {"image":"street-1.png","start":"car:80,120,280,180"}
//
// Every task is checked before a row is written: a task that is not an object or has no `data`
// object of plain values (text, numbers, true, false, null), a data field named like
// `start_field`, results on two images (to_name), a rotated box, a result without the image's
// size, a value out of 0 to 100 percent, a shape without exactly one label, or shapes of two
// kinds in one file are refused with the task's place ("task 3 (id 17), result 2: ...") and no
// output is written.
#ifndef MW_FORMATS_LABEL_STUDIO_IMPORT_H_
#define MW_FORMATS_LABEL_STUDIO_IMPORT_H_

#include <cstdint>
#include <functional>
#include <istream>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"

namespace mw::formats {

struct LabelStudioImport {
  std::string start_field = "start";
  // When set, each row's shapes as the stage that corrects them takes them (its kind, labels,
  // count and corners; dispatch::CheckedLabel): OK, or why not. A task whose shapes it refuses
  // is refused, naming the task, rather than drawn for no one.
  std::function<absl::Status(const std::string& shapes)> check;
  std::string image_field;  // when set, the data field every task must have (the stage's image)
  uint64_t max_bytes = uint64_t{256} << 20;  // a JSON array is read whole: at most this
  uint64_t max_tasks = 10'000'000;
};

struct LabelStudioImported {
  uint64_t tasks = 0;
  uint64_t with_shapes = 0;  // tasks whose row starts with shapes drawn
  uint64_t shapes = 0;
  uint64_t left_out = 0;  // results of types that are not shapes
  std::string kind;       // "box", "point" or "polygon"; empty when there were none
};

// Writes the rows of `in` (the tasks, `bytes` long as the caller measured it) to `out`, one per
// task. INVALID_ARGUMENT naming the task, the result and what was expected; what was written
// before it is then to be thrown away (the caller writes to a temporary file).
absl::StatusOr<LabelStudioImported> ImportLabelStudio(std::istream& in, uint64_t bytes,
                                                      const LabelStudioImport& options,
                                                      std::ostream* out);

}  // namespace mw::formats

#endif  // MW_FORMATS_LABEL_STUDIO_IMPORT_H_
