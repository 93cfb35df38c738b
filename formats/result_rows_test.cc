#include "formats/result_rows.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_format.h"
#include "formats/annotation_formats.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace mw::formats {
namespace {

// The row as mw wrote it before its rows were streamed: an nlohmann document, dumped. The
// streamed text must be the same, byte for byte.
nlohmann::ordered_json Document(const v1::ResultRecord& rec) {
  nlohmann::ordered_json j;
  j["item"] = rec.item_index();
  j["line"] = rec.item().source_line();
  if (!rec.item().cut_by().empty()) {
    j["parent"] = rec.item().parent();
    j["position"] = rec.item().position();
    j["cut_by"] = rec.item().cut_by();
  }
  nlohmann::ordered_json fields = nlohmann::ordered_json::object();
  for (const auto& f : rec.item().fields()) fields[f.name()] = f.value();
  j["fields"] = fields;
  j["status"] = rec.status();
  j["stage"] = rec.stage();
  j["answer"] = AnswerText(rec.answer());
  j["confidence"] = rec.confidence();
  j["votes"] = rec.votes();
  j["workers"] = std::vector<std::string>(rec.workers().begin(), rec.workers().end());
  if (rec.merged_items_size() > 0) {
    j["merged_items"] = std::vector<uint64_t>(rec.merged_items().begin(), rec.merged_items().end());
  }
  nlohmann::ordered_json provenance = nlohmann::ordered_json::array();
  for (const auto& p : rec.provenance()) {
    provenance.push_back(
        {{"stage", p.stage()},
         {"answer", p.answer()},
         {"confidence", p.confidence()},
         {"workers", std::vector<std::string>(p.workers().begin(), p.workers().end())},
         {"answers", std::vector<std::string>(p.answers().begin(), p.answers().end())}});
    if (p.has_value()) provenance.back()["value"] = AnswerJson(p.value(), rec.item());
  }
  j["provenance"] = provenance;
  if (rec.children_size() > 0) {
    nlohmann::ordered_json children = nlohmann::ordered_json::array();
    for (const auto& child : rec.children()) children.push_back(Document(child));
    j["children"] = children;
  }
  return j;
}

std::string Streamed(const v1::ResultRecord& rec) {
  std::string text;
  WriteRowJson(rec, &text);
  return text;
}

void AddField(v1::ResultRecord* rec, const std::string& name, const std::string& value) {
  v1::Field* f = rec->mutable_item()->add_fields();
  f->set_name(name);
  f->set_value(value);
}

v1::ResultRecord Plain() {
  v1::ResultRecord rec;
  rec.set_item_index(7);
  rec.mutable_item()->set_source_line(9);
  AddField(&rec, "receipt", "R7");
  AddField(&rec, "total", "12.50");
  rec.set_status("succeeded");
  rec.set_stage("check");
  rec.mutable_answer()->set_choice("yes");
  rec.set_confidence(2.0 / 3);
  rec.set_votes(2);
  rec.add_workers("c0w1");
  rec.add_workers("c1w4");
  v1::Provenance* p = rec.add_provenance();
  p->set_stage("check");
  p->set_answer("yes");
  p->set_confidence(2.0 / 3);
  p->add_workers("c0w1");
  p->add_answers("yes");
  return rec;
}

TEST(ResultRowsTest, AStreamedRowIsTheDocumentMwWroteBefore) {
  const v1::ResultRecord rec = Plain();
  EXPECT_EQ(Streamed(rec), Document(rec).dump());
}

TEST(ResultRowsTest, NumbersEscapesAndTwiceNamedFieldsAreWrittenAsBefore) {
  for (double confidence :
       {0.0, -0.0, 1.0, -2.5, 1e-5, 1e-7, 0.1, 2.0 / 3, 5e-324, 1.7976931348623157e308,
        123456789012345678.0, 1e14, 999999999999999.0, 1e15, -7.0, -1e14,
        std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    v1::ResultRecord rec = Plain();
    rec.set_confidence(confidence);
    rec.mutable_provenance(0)->set_confidence(confidence);
    EXPECT_EQ(Streamed(rec), Document(rec).dump()) << confidence;
  }
  v1::ResultRecord rec = Plain();
  AddField(&rec, "note",
           "esc \x1b[31m, tab\t, quote \", backslash \\, slash /, é, ሰላም, \b\f\r\x01\x1f\x7f");
  AddField(&rec, "receipt", "R7 again");  // a header that names a column twice
  rec.set_status("rejected by check\n(two lines)");
  rec.add_merged_items(7);
  rec.add_merged_items(8);
  EXPECT_EQ(Streamed(rec), Document(rec).dump());
}

TEST(ResultRowsTest, PiecesAndAnswersInTheirOwnShapeAreWrittenAsBefore) {
  v1::ResultRecord rec = Plain();
  v1::Shape* box = rec.mutable_provenance(0)->mutable_value()->mutable_shapes()->add_shapes();
  box->set_label("car");
  box->set_x0(10);
  box->set_y0(20);
  box->set_x1(110);
  box->set_y1(90);
  v1::ResultRecord piece = Plain();
  piece.set_item_index(1ull << 40);
  piece.mutable_item()->set_cut_by("lines");
  piece.mutable_item()->set_parent(7);
  piece.mutable_item()->set_position(2);
  piece.clear_provenance();
  *rec.add_children() = piece;
  EXPECT_EQ(Streamed(rec), Document(rec).dump());
}

// An answer row as mw wrote it before its rows were streamed: an nlohmann document, dumped.
std::string AnswerDocument(const v1::AnswerRow& a) {
  nlohmann::ordered_json j;
  j["task"] = a.task_id();
  j["stage"] = a.stage();
  j["item"] = a.item_index();
  j["worker"] = a.worker();
  j["centre"] = a.centre();
  j["answer"] = a.answer().skipped() ? a.answer().skip_reason() : AnswerText(a.answer());
  j["skipped"] = a.answer().skipped();
  j["active_seconds"] = a.active_seconds();
  j["credited_seconds"] = a.credited_seconds();
  j["wage_minor"] = a.wage_minor();
  j["currency"] = a.currency();
  j["late"] = a.late();
  j["counted"] = a.counted();
  j["check"] = a.check();
  j["check_correct"] = a.check_correct();
  j["withheld"] = a.withheld();
  j["answered_at_ms"] = a.answered_at_ms();
  return j.dump();
}

std::string StreamedAnswer(const v1::AnswerRow& a) {
  std::string text;
  WriteAnswerJson(a, &text);
  return text;
}

TEST(ResultRowsTest, AStreamedAnswerRowIsTheDocumentMwWroteBefore) {
  v1::AnswerRow a;
  a.set_task_id("job-1/check/7");
  a.set_stage("check");
  a.set_item_index((1ull << 62) + 3);  // a check task's
  a.set_worker("c0w1");
  a.set_centre("centre-0");
  a.mutable_answer()->set_text("esc \x1b[31m, tab\t, quote \", backslash \\, é, ሰላም");
  a.set_active_seconds(4'000'000'000u);
  a.set_credited_seconds(9);
  a.set_wage_minor(-12);  // withheld back
  a.set_currency("KES");
  a.set_late(true);
  a.set_check(true);
  a.set_withheld(true);
  a.set_answered_at_ms(1'764'000'000'123);
  EXPECT_EQ(StreamedAnswer(a), AnswerDocument(a));
  a.mutable_answer()->set_skipped(true);
  a.mutable_answer()->set_skip_reason("image does not load");
  a.set_counted(true);
  a.set_check_correct(true);
  EXPECT_EQ(StreamedAnswer(a), AnswerDocument(a));
  EXPECT_EQ(AnswerRowAnswer(a), "image does not load");
  v1::AnswerRow choice;
  choice.mutable_answer()->mutable_choices()->add_options("a");
  choice.mutable_answer()->mutable_choices()->add_options("b");
  EXPECT_EQ(StreamedAnswer(choice), AnswerDocument(choice));
  EXPECT_EQ(AnswerRowAnswer(choice), "a|b");
}

TEST(ResultTextTest, CsvIsTheHeaderOnceThenARowForEachItemAndPieceInOrder) {
  v1::ResultRecord rec = Plain();
  AddField(&rec, "note, quoted", "say \"hi\"");
  v1::ResultRecord piece = Plain();
  piece.set_item_index((1ull << 40) + 1);
  piece.mutable_item()->set_cut_by("lines");
  piece.mutable_item()->set_parent(7);
  piece.set_confidence(1);
  piece.clear_workers();
  piece.clear_provenance();
  *rec.add_children() = piece;
  ResultText text(ResultText::Format::kCsv);
  std::string out;
  text.Append(rec, &out);
  rec.clear_children();
  rec.set_item_index(8);
  text.Append(rec, &out);
  EXPECT_EQ(
      out,
      "receipt,total,\"note, quoted\",status,confidence,votes,workers,provenance,item,parent\n"
      "R7,12.50,\"say \"\"hi\"\"\",succeeded,0.6667,2,c0w1;c1w4,check=yes (0.67; c0w1),7,\n"
      "R7,12.50,succeeded,1.0000,2,,,1099511627777,7\n"
      "R7,12.50,\"say \"\"hi\"\"\",succeeded,0.6667,2,c0w1;c1w4,check=yes (0.67; c0w1),8,\n");
}

TEST(ResultTextTest, CsvConfidencesAreFixedPointAndFieldsOfPartsAreQuotedWhole) {
  for (double confidence : {0.0, -0.0, 1.0, 2.0, -3.0, 0.5, 2.0 / 3, 0.99995, 0.995, 1e14, 1e15,
                            123456789012345678.0, 1e-7}) {
    v1::ResultRecord rec = Plain();
    rec.set_confidence(confidence);
    rec.mutable_provenance(0)->set_confidence(confidence);
    ResultText text(ResultText::Format::kCsv);
    std::string out;
    text.Append(rec, &out);
    EXPECT_EQ(out.substr(out.find('\n') + 1),
              absl::StrFormat("R7,12.50,succeeded,%.4f,2,c0w1;c1w4,check=yes (%.2f; c0w1),7,\n",
                              confidence, confidence))
        << confidence;
  }
  // A worker or a step whose text needs quoting quotes the whole field it is part of.
  v1::ResultRecord rec = Plain();
  rec.set_workers(1, "c1,w4");
  rec.mutable_provenance(0)->set_answer("\"yes\"");
  ResultText text(ResultText::Format::kCsv);
  std::string out;
  text.Append(rec, &out);
  EXPECT_EQ(out.substr(out.find('\n') + 1),
            "R7,12.50,succeeded,0.6667,2,\"c0w1;c1,w4\",\"check=\"\"yes\"\" (0.67; c0w1)\",7,\n");
  // And one that would start a formula is shown as text.
  rec = Plain();
  rec.set_workers(0, "=cmd");
  out.clear();
  ResultText again(ResultText::Format::kCsv);
  again.Append(rec, &out);
  EXPECT_EQ(out.substr(out.find('\n') + 1),
            "R7,12.50,succeeded,0.6667,2,\"'=cmd;c1w4\",check=yes (0.67; c0w1),7,\n");
}

TEST(ResultTextTest, JsonlIsOneStreamedRowALineWithItsPiecesInside) {
  v1::ResultRecord rec = Plain();
  v1::ResultRecord piece = Plain();
  piece.mutable_item()->set_cut_by("lines");
  *rec.add_children() = piece;
  ResultText text(ResultText::Format::kJsonl);
  std::string out = "before\n";
  text.Append(rec, &out);
  text.Append(Plain(), &out);
  EXPECT_EQ(out, "before\n" + Document(rec).dump() + "\n" + Document(Plain()).dump() + "\n");
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3);
}

}  // namespace
}  // namespace mw::formats
