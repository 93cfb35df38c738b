// The formats ML teams load directly, written from a job's exported rows (ResultRecord).
//
// AnswerJson: a verdict in its own shape, for JSONL: spans as [{start, end, label, text}] (code
// points of the marked field, end exclusive), a comparison as {winner, reason}, a ranking as the
// ordered list of fields; other kinds as their text.
//
// CoNLL-2003 (WriteConllItem): after one "-DOCSTART- -X- -X- O" line and a blank line, each
// item's words (engine/common/words.h, the words the worker tapped) one per line as
// "word -X- _ TAG", where TAG is B-<label> on a span's first word, I-<label> on the words after
// it and O outside any span (IOB2), and a blank line after each item; items a verify stage
// turned down are left out. White space inside a word or a label (a no-break space, say) is
// written as '_'.
//
// Label Studio's JSON task format (LabelStudioTask; labelstud.io/guide/task_format): one task
// per exported item, {"id", "data": the item's fields, "meta": {"item", "status"},
// "annotations": [{"id", "result": [...], "ground_truth": false, "was_cancelled": false}]},
// with one result per verdict of a stage (from_name the stage), each in the shape of its kind:
//   spans          "labels", one per span: {start, end, text, labels: [label]}, to_name the
//                  marked field; start and end in UTF-16 code units, as Label Studio's Text
//                  tag counts them (a character outside the BMP counts two)
//   comparison     "pairwise": {selected: "left" (a) or "right" (b)}, to_name "<a>,<b>"
//   choices        "choices": {choices: [...]}, to_name "item" (verify stages: yes or no)
//   text, number   "textarea": {text: [answer]}, "number": {number}, to_name "item"
// ("item" names no field: a labelling config to import these into names its object "item").
//   shapes         "rectanglelabels" {x, y, width, height, rotation: 0, rectanglelabels: [label]}
//                  or "keypointlabels" {x, y, width, keypointlabels: [label]} or
//                  "polygonlabels" {points: [[x, y], ...], closed: true, polygonlabels: [label]},
//                  in percent of the image, with original_width and original_height; to_name
//                  the image field
// Rankings have no result type in Label Studio's format and are left out (the JSONL has them).
// Items a verify stage turned down are there, with their status in meta.
//
// COCO (CocoDataset; cocodataset.org/#format-data, "Object Detection" and "Keypoint
// Detection"): {"info", "images": [{id, file_name, width, height}], "annotations": [{id,
// image_id, category_id, bbox: [x, y, width, height], area, iscrowd: 0}], "categories": [{id,
// name, supercategory}]}, one image per item with a verdict of the shapes stage (its image
// field's file name and upright size), one annotation per box, categories the stage's labels in
// order from id 1. A points stage writes each point as an annotation with keypoints [x, y, 2],
// num_keypoints 1 and a bbox of the stage's match_radius round it (within the image) as its
// extent, and its categories have keypoints ["point"]. A polygons stage writes each polygon's
// corners as its segmentation [[x, y, x, y, ...]] with its bounding box and enclosed area. Verdicts
// still waiting in the review queue are there as they stand.
//
// YOLO (YoloLabels): one line per box, "class cx cy w h", the class the label's place in the
// stage's labels from 0 and the rest fractions of the image's width and height (6 decimals).
#ifndef MW_FORMATS_ANNOTATION_FORMATS_H_
#define MW_FORMATS_ANNOTATION_FORMATS_H_

#include <map>
#include <ostream>
#include <string>
#include <utility>

#include "microwork/v1/contract.pb.h"
#include "microwork/v1/dispatch.pb.h"
#include "nlohmann/json.hpp"

namespace mw::formats {

namespace v1 = ::microwork::v1;

// The line a CoNLL-2003 file starts with, before its blank line.
inline constexpr char kConllStart[] = "-DOCSTART- -X- -X- O\n\n";

nlohmann::ordered_json AnswerJson(const v1::Answer& answer, const v1::Item& item);

// The verdict of spans stage `stage` in `rec`'s provenance (the first spans verdict when `stage`
// is empty), or nullptr when the item has none (it was stopped before that stage, say).
const v1::Provenance* SpansVerdict(const v1::ResultRecord& rec, const std::string& stage);

// Whether `rec` or one of its pieces (at any depth) has a verdict of that spans stage.
bool HasSpansVerdict(const v1::ResultRecord& rec, const std::string& stage);

// Writes `rec`'s words with their tags from its spans verdict (SpansVerdict) and the blank line
// after them. False, writing nothing, when it has none or a verify stage rejected the item
// ("rejected by" anywhere in its status: stopped, or kept as it was).
bool WriteConllItem(const v1::ResultRecord& rec, const std::string& stage, std::ostream* out);

// `rec` as a Label Studio task with id `id`; `answers` is each stage's answer schema by name
// (Job.stages), which says what kind of result each verdict is. Verdicts of stages not in it
// (an iteration's rounds) are left out.
nlohmann::ordered_json LabelStudioTask(const v1::ResultRecord& rec, uint64_t id,
                                       const std::map<std::string, v1::AnswerSchema>& answers);

// The verdict of shapes stage `stage` in `rec`'s provenance, with the image field it is drawn
// on; {nullptr, nullptr} when it has none or a verify stage turned the item down.
std::pair<const v1::Provenance*, const v1::Field*> ShapesVerdict(const v1::ResultRecord& rec,
                                                                 const std::string& stage);

class CocoDataset {
 public:
  // `schema`: the shapes stage's.
  CocoDataset(const std::string& stage, const v1::ShapeLabels& schema);
  // Adds `rec` and its pieces (at any depth) that have a verdict of the stage. Returns how many.
  uint64_t Add(const v1::ResultRecord& rec);
  nlohmann::ordered_json Json() const;

 private:
  std::string stage_;
  v1::ShapeLabels schema_;
  nlohmann::ordered_json images_ = nlohmann::ordered_json::array();
  nlohmann::ordered_json annotations_ = nlohmann::ordered_json::array();
};

// The YOLO label file of one verdict of a boxes stage whose labels are `labels`, drawn on
// `image`.
std::string YoloLabels(const v1::Provenance& verdict, const v1::Field& image,
                       const google::protobuf::RepeatedPtrField<std::string>& labels);

// Where an image's YOLO label file goes under the export's labels/ folder: its name with the
// extension ".txt" (a URL's last part; anything but letters, digits and "._-/" as '_', and a
// part of the path that is empty, "." or ".." as "_", so it never leads out of labels/).
std::string YoloLabelPath(const std::string& image_name);

}  // namespace mw::formats

#endif  // MW_FORMATS_ANNOTATION_FORMATS_H_
