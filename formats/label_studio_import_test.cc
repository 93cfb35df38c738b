#include "formats/label_studio_import.h"

#include <sstream>

#include "gtest/gtest.h"

namespace mw::formats {
namespace {

absl::StatusOr<LabelStudioImported> Import(const std::string& tasks, std::string* rows,
                                           LabelStudioImport options = {}) {
  std::istringstream in(tasks);
  std::ostringstream out;
  absl::StatusOr<LabelStudioImported> s = ImportLabelStudio(in, tasks.size(), options, &out);
  *rows = out.str();
  return s;
}

// A result as Label Studio writes it for an 800x600 image.
std::string Box(const std::string& label, const std::string& x, const std::string& y,
                const std::string& w, const std::string& h, const std::string& rotation = "0") {
  return R"({"type":"rectanglelabels","from_name":"label","to_name":"image",)"
         R"("original_width":800,"original_height":600,"value":{"x":)" +
         x + R"(,"y":)" + y + R"(,"width":)" + w + R"(,"height":)" + h + R"(,"rotation":)" +
         rotation + R"(,"rectanglelabels":[")" + label + R"("]}})";
}

TEST(LabelStudioImportTest, PredictionsBecomeTheShapesARowStartsFromInPixelsOfTheOriginal) {
  const std::string tasks =
      R"([{"id":17,"data":{"image":"street-1.png","place":"Kibera"},"predictions":[{"result":[)" +
      Box("car", "10", "20", "25", "10") + "," + Box("bus", "50.06", "50", "49.94", "50") +
      R"(,{"type":"choices","value":{"choices":["day"]}}]}]},)"
      R"({"data":{"image":"street-2.png"},"annotations":[{"was_cancelled":true,"result":[)" +
      Box("car", "0", "0", "50", "50") + R"(]},{"result":[)" + Box("truck", "1", "2", "3", "4") +
      R"(]}]},)"
      R"({"data":{"image":"street-3.png"}}])";
  std::string rows;
  absl::StatusOr<LabelStudioImported> s = Import(tasks, &rows);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(rows,
            "{\"image\":\"street-1.png\",\"place\":\"Kibera\",\"start\":\"car:80,120,280,180;"
            "bus:400,300,800,600\"}\n"
            "{\"image\":\"street-2.png\",\"start\":\"truck:8,12,32,36\"}\n"
            "{\"image\":\"street-3.png\",\"start\":\"\"}\n");
  EXPECT_EQ(s->tasks, 3u);
  EXPECT_EQ(s->with_shapes, 2u);
  EXPECT_EQ(s->shapes, 3u);
  EXPECT_EQ(s->left_out, 1u);
  EXPECT_EQ(s->kind, "box");
}

TEST(LabelStudioImportTest, PolygonsAndPointsAreReadOneTaskALineToo) {
  const std::string tasks =
      R"({"data":{"image":"a.png"},"predictions":[{"result":[{"type":"polygonlabels",)"
      R"("original_width":200,"original_height":100,"value":{"points":[[10,10],[50,10],[30,60]],)"
      R"("polygonlabels":["field"]}}]}]})"
      "\n\n"
      R"({"data":{"image":"b.png"}})"
      "\n";
  std::string rows;
  absl::StatusOr<LabelStudioImported> s = Import(tasks, &rows, {.start_field = "pre"});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(rows,
            "{\"image\":\"a.png\",\"pre\":\"field:20,10,100,10,60,60\"}\n"
            "{\"image\":\"b.png\",\"pre\":\"\"}\n");
  EXPECT_EQ(s->kind, "polygon");

  const std::string points =
      R"([{"data":{"image":"a.png"},"predictions":[{"result":[{"type":"keypointlabels",)"
      R"("original_width":200,"original_height":100,"value":{"x":100,"y":50,"width":0.5,)"
      R"("keypointlabels":["door"]}}]}]}])";
  s = Import(points, &rows);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(rows, "{\"image\":\"a.png\",\"start\":\"door:199,50\"}\n");  // inside the image
}

TEST(LabelStudioImportTest, WhatCannotBeDrawnHereIsRefusedWithItsPlace) {
  const auto task = [](const std::string& result) {
    return R"([{"data":{"image":"a.png"}},{"id":"t-9","data":{"image":"b.png"},"predictions":[)"
           R"({"result":[)" +
           result + "]}]}]";
  };
  const std::string no_size =
      R"({"type":"rectanglelabels","value":{"x":1,"y":1,"width":1,"height":1,"rectanglelabels":["car"]}})";
  const std::string mixed = Box("car", "1", "1", "5", "5") +
                            R"(,{"type":"keypointlabels","original_width":8,"original_height":6,)"
                            R"("value":{"x":1,"y":1,"keypointlabels":["car"]}})";
  const std::string flat =
      R"({"type":"polygonlabels","original_width":8,"original_height":6,"value":{"points":)"
      R"([[0,0],[50,0],[100,0]],"polygonlabels":["f"]}})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {task(Box("car", "1", "1", "5", "5", "30")),
       "task 2 (id t-9), result 1: a rotated box: expected rotation 0 (boxes here are upright)"},
      {task(no_size),
       "task 2 (id t-9), result 1: expected original_width, the image's size in whole pixels, "
       "which Label Studio writes with each result"},
      {task(mixed),
       "task 2 (id t-9), result 2: a point among boxes: expected shapes of one kind, as one "
       "stage draws"},
      {task(Box("car", "1", "1", "105", "5")),
       "task 2 (id t-9), result 1: value.width is 105; expected 0 to 100 percent of the image"},
      {task(Box("car:red", "1", "1", "5", "5")),
       "task 2 (id t-9), result 1: label \"car:red\": expected 1 to 40 characters without ';' "
       "or ':'"},
      {task(Box("car", "1", "1", "0", "5")),
       "task 2 (id t-9), result 1: a box of no size at 800x600 pixels: expected width and "
       "height above 0"},
      {task(flat), "task 2 (id t-9), result 1: 3 corners: expected 3 to 64 enclosing some area"},
      {R"([{"data":{"start":"x"}}])",
       "task 1: its data already has a field \"start\": choose another with --start-field"},
      {R"([{"data":"a.png"}])", "task 1: expected an object with a \"data\" object"},
      {R"([{"data":{"image":"a.png","meta":{"deep":[[[1]]]}}}])",
       "task 1: data.meta is a list or an object; expected text, a number, true, false or null "
       "(a row's fields are plain values)"},
      {task(Box("car", "1", "1", "5", "5") + "," +
            R"({"type":"rectanglelabels","to_name":"second","original_width":8,)"
            R"("original_height":6,"value":{"x":1,"y":1,"width":5,"height":5,)"
            R"("rectanglelabels":["car"]}})"),
       "task 2 (id t-9), result 2: drawn on \"second\" after \"image\": expected the shapes of "
       "one image a task"},
      {R"([{"data":{}},)",
       "expected a JSON list of Label Studio tasks; this does not parse as one (cut short?)"},
      {"", "no tasks: expected a JSON list of Label Studio tasks, or one task a line"},
      {"[]", "no tasks: expected a JSON list of Label Studio tasks, or one task a line"},
      {task(Box("car", "90", "1", "20", "5")),
       "task 2 (id t-9), result 1: value.x + width is 110; expected the box within the image "
       "(at most 100 percent)"},
      {"{\"data\":{}}\n{\"data\":", "line 2: expected a Label Studio task as one JSON object"},
  };
  for (const auto& [tasks, message] : cases) {
    std::string rows;
    absl::StatusOr<LabelStudioImported> s = Import(tasks, &rows);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << tasks;
    EXPECT_EQ(s.status().message(), message) << tasks;
  }
  // With the stage that corrects them, shapes it would not take are refused here, not lost on
  // the page.
  LabelStudioImport checked;
  checked.check = [](const std::string& shapes) {
    return shapes == "bus:400,300,800,600" ? absl::InvalidArgumentError("no buses")
                                           : absl::OkStatus();
  };
  std::string rows;
  absl::StatusOr<LabelStudioImported> s =
      Import(R"([{"data":{"image":"a.png"}},{"data":{"image":"b.png"},"predictions":[{"result":[)" +
                 Box("bus", "50", "50", "50", "50") + "]}]}]",
             &rows, checked);
  EXPECT_EQ(s.status().message(), "task 2: its shapes are not ones the stage takes: no buses");
  checked.image_field = "photo";
  s = Import(R"([{"data":{"image":"a.png"}}])", &rows, checked);
  EXPECT_EQ(s.status().message(),
            "task 1: its data has no field \"photo\", the image the stage draws on");

  s = Import(R"([{"data":{}}])", &rows, {.max_bytes = 5});
  EXPECT_EQ(s.status().message(),
            "the tasks are one JSON list of 13 bytes; at most 5 are read whole: export them as "
            "JSONL (one task per line), which is read line by line");
  EXPECT_EQ(rows, "");
}

}  // namespace
}  // namespace mw::formats
