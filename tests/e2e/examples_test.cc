// The example contracts run end to end as an operator would run them: scripts/run-example.sh
// starts the real dispatcher and two agents of simulated workers, submits the contract, follows
// it to the end, exports the results and verifies the ledger. The test checks the exported
// rows: every input row exactly once, the path each item took, and that nobody judged their
// own work. Where the simulated workers answer against a truth (the shapes examples), the
// settled verdicts must beat the answers they were made from, and the unsettled items must be
// exactly the review queue; the best single worker is printed, not asserted.
#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

const std::string kSource = MW_SOURCE_DIR;

// Runs the example and returns its exported JSONL rows.
std::vector<json> RunExample(const std::string& name, const mw::testing::TempDir& dir,
                             std::string* out = nullptr) {
  const std::string bin_dir = MW_BIN_DIR;
  mw::testing::CommandResult r = mw::testing::Run(
      {kSource + "/scripts/run-example.sh", name, bin_dir.substr(0, bin_dir.rfind('/'))},
      {"MW_EXAMPLE_OUT=" + dir.Sub(name)});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("Ledger OK"));
  EXPECT_THAT(r.out, HasSubstr("completed"));
  if (out != nullptr) *out = r.out;
  std::vector<json> rows;
  std::ifstream in(dir.Sub(name) + "/results.jsonl");
  for (std::string line; std::getline(in, line);) rows.push_back(json::parse(line));
  return rows;
}

// The first column of each data row of a CSV file (no quoted first columns in the examples).
std::vector<std::string> Column(const std::string& path, size_t column) {
  std::vector<std::string> out;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, ',');
    out.push_back(f.at(column));
  }
  return out;
}

std::set<std::string> Workers(const json& step) {
  return step["workers"].get<std::set<std::string>>();
}

bool Disjoint(const std::set<std::string>& a, const std::set<std::string>& b) {
  for (const auto& x : a) {
    if (b.count(x)) return false;
  }
  return true;
}

TEST(ExamplesTest, ReceiptsRunFindFixVerifyAndNobodyVerifiesTheirOwnFix) {
  mw::testing::TempDir dir;
  std::string out;
  std::vector<json> rows = RunExample("receipts", dir, &out);
  // The workers read the real scans: every photo went with the contract.
  EXPECT_THAT(out, HasSubstr("Media: 40 files named, 40 sent ("));
  EXPECT_THAT(out, HasSubstr("Submitted job-1: 40 items\n"));
  const auto ids = Column(kSource + "/examples/receipts/receipts.csv", 0);
  const auto fixes = Column(kSource + "/examples/receipts/truth.csv", 2);
  ASSERT_EQ(rows.size(), ids.size());
  int succeeded = 0, right = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const json& row = rows[i];
    EXPECT_EQ(row["item"], i);  // input order, each row once
    EXPECT_EQ(row["fields"]["receipt_id"], ids[i]);
    const json& p = row["provenance"];
    ASSERT_EQ(p.size(), 3u) << row.dump();
    EXPECT_EQ(p[0]["stage"], "find");
    EXPECT_EQ(p[1]["stage"], "fix");
    EXPECT_EQ(p[2]["stage"], "verify");
    EXPECT_EQ(Workers(p[1]).size(), 1u);
    EXPECT_EQ(Workers(p[2]).size(), 3u);
    EXPECT_TRUE(Disjoint(Workers(p[1]), Workers(p[2]))) << row.dump();
    const std::string verdict = row["fields"]["verify"];
    EXPECT_EQ(row["status"], verdict == "yes" ? "succeeded" : "rejected by verify");
    succeeded += verdict == "yes";
    right += verdict == "yes" && row["fields"]["fix"] == fixes[i];
  }
  std::cout << "receipts: " << succeeded << " of " << rows.size() << " fixes accepted, " << right
            << " of them match the truth\n";
}

// The settled verdicts of a shapes stage against the answers they were made from, each scored
// against the truth by `score` (answer text, item) -> 0..1: the verdicts' mean over their
// photos; the answers' mean over the same photos, each photo's answers averaged first (a photo
// that needed five answers counts as one, as its verdict does); and each worker's own mean.
struct Gain {
  double verdicts = 0, mean_answer = 0, best_worker = 0;
  size_t photos = 0, answers = 0;
  int workers_with_five = 0;
  std::string Describe(const char* what) const {
    return absl::StrFormat(
        "on the %d settled photos, the verdicts' mean %s with the truth %.3f, their %d answers' "
        "(by photo) %.3f; the best of the %d workers with five or more of them %.3f",
        photos, what, verdicts, answers, mean_answer, workers_with_five, best_worker);
  }
};

Gain GainOverAnswers(const std::string& answers_file, const std::string& stage,
                     const std::map<size_t, double>& verdict,
                     const std::function<double(const std::string&, size_t)>& score) {
  Gain g;
  g.photos = verdict.size();
  for (const auto& [item, v] : verdict) g.verdicts += v / static_cast<double>(verdict.size());
  std::map<std::string, std::pair<double, int>> by_worker;
  std::map<size_t, std::pair<double, int>> by_photo;
  std::ifstream answers(answers_file);
  for (std::string line; std::getline(answers, line);) {
    const json a = json::parse(line);
    if (a["stage"] != stage || a["skipped"].get<bool>()) continue;
    if (!verdict.count(a["item"].get<size_t>())) continue;
    const double s = score(a["answer"].get<std::string>(), a["item"].get<size_t>());
    ++g.answers;
    for (auto* sn : {&by_worker[a["worker"]], &by_photo[a["item"].get<size_t>()]}) {
      sn->first += s;
      ++sn->second;
    }
  }
  for (const auto& [photo, sn] : by_photo) {
    g.mean_answer += sn.first / sn.second / static_cast<double>(by_photo.size());
  }
  for (const auto& [worker, sn] : by_worker) {
    if (sn.second >= 5) {
      g.best_worker = std::max(g.best_worker, sn.first / sn.second);
      ++g.workers_with_five;
    }
  }
  return g;
}

// A labelled box, and how well a set of boxes matches the truth's, measured here as the test's
// own reading of "mean IoU": each truth box paired with at most one answer box of its label,
// the best-overlapping pairs first, the pairs' IoU summed and divided by the larger count (so a
// box missed or drawn where none is counts 0).
struct Box {
  std::string label;
  double x0, y0, x1, y1;
};

std::vector<Box> Boxes(const std::string& text) {
  std::vector<Box> out;
  for (absl::string_view part : absl::StrSplit(text, ';', absl::SkipEmpty())) {
    const size_t colon = part.rfind(':');
    std::vector<std::string> xy = absl::StrSplit(part.substr(colon + 1), ',');
    EXPECT_EQ(xy.size(), 4u) << text;
    if (xy.size() != 4) continue;
    out.push_back({std::string(part.substr(0, colon)), std::stod(xy[0]), std::stod(xy[1]),
                   std::stod(xy[2]), std::stod(xy[3])});
  }
  return out;
}

double Iou(const Box& a, const Box& b) {
  const double w = std::min(a.x1, b.x1) - std::max(a.x0, b.x0);
  const double h = std::min(a.y1, b.y1) - std::max(a.y0, b.y0);
  if (w <= 0 || h <= 0) return 0;
  const double both = w * h;
  return both / ((a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - both);
}

// Each truth shape paired with at most one of the answer's with its label, the most alike
// first (`alike` above 0), the pairs' likeness summed and divided by the larger count.
template <typename Shape, typename Alike>
double MeanMatched(const std::vector<Shape>& answer, const std::vector<Shape>& truth, Alike alike) {
  if (answer.empty() && truth.empty()) return 1;
  std::vector<std::tuple<double, size_t, size_t>> pairs;
  for (size_t i = 0; i < answer.size(); ++i) {
    for (size_t j = 0; j < truth.size(); ++j) {
      if (answer[i].label != truth[j].label) continue;
      if (const double l = alike(answer[i], truth[j]); l > 0) pairs.emplace_back(l, i, j);
    }
  }
  std::sort(pairs.rbegin(), pairs.rend());
  std::vector<bool> used_a(answer.size()), used_t(truth.size());
  double sum = 0;
  for (const auto& [l, i, j] : pairs) {
    if (used_a[i] || used_t[j]) continue;
    used_a[i] = used_t[j] = true;
    sum += l;
  }
  return sum / static_cast<double>(std::max(answer.size(), truth.size()));
}

double MeanIou(const std::vector<Box>& answer, const std::vector<Box>& truth) {
  return MeanMatched(answer, truth, Iou);
}

// The second column of truth.csv, whose values are quoted (they hold commas).
std::vector<std::string> QuotedColumn(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    const size_t q = line.find('"');
    out.push_back(q == std::string::npos ? line.substr(line.find(',') + 1)
                                         : line.substr(q + 1, line.rfind('"') - q - 1));
  }
  return out;
}

TEST(ExamplesTest, VehiclesAreBoxedByThreeAndTheirMeanBoxBeatsTheBoxesItIsMadeOf) {
  mw::testing::TempDir dir;
  std::string out;
  std::vector<json> rows = RunExample("vehicles", dir, &out);
  EXPECT_THAT(out, HasSubstr("Media: 20 files named, 20 sent ("));
  const std::vector<std::string> truth = QuotedColumn(kSource + "/examples/vehicles/truth.csv");
  ASSERT_EQ(rows.size(), truth.size());
  const std::string vdir = dir.Sub("vehicles");

  // Each settled photo's verdict against the truth, and each answer on it (answers.jsonl) too.
  // Which worker boxes which photo follows the leases' timing, so which photos settle varies from
  // run to run (one still unsettled after five people goes to a person, asserted below). The
  // claim, on the photos that settled whichever they were: an answer is further from the truth,
  // on average, than the verdict made from it and the others. Each worker's own mean is printed;
  // that the verdicts beat the best of ten workers over a few photos each is likely, not certain,
  // and is not asserted.
  std::map<size_t, double> verdict;  // settled photo -> its verdict's IoU with the truth
  std::set<std::string> unsettled;   // below the confidence target with five answers
  for (size_t i = 0; i < rows.size(); ++i) {
    const json& row = rows[i];
    EXPECT_EQ(row["status"], "succeeded") << row.dump();
    ASSERT_EQ(row["provenance"].size(), 1u) << row.dump();
    const json& p = row["provenance"][0];
    const size_t workers = Workers(p).size();
    EXPECT_GE(workers, 3u);
    EXPECT_LE(workers, 5u);
    if (p["confidence"].get<double>() < 0.8) {
      EXPECT_EQ(workers, 5u) << "asked no more people before giving up: " << row.dump();
      unsettled.insert("job-1/vehicles/" + std::to_string(i));
    } else {
      verdict[i] = MeanIou(Boxes(p["answer"]), Boxes(truth[i]));
    }
    for (const json& box : p["value"]) {  // in its own shape, in the original's pixels
      EXPECT_LE(box["x"].get<int>() + box["width"].get<int>(), 640) << row.dump();
      EXPECT_LE(box["y"].get<int>() + box["height"].get<int>(), 480) << row.dump();
    }
  }
  ASSERT_GE(verdict.size(), 5u) << "too few photos settled to say anything";
  const Gain gain = GainOverAnswers(vdir + "/answers.jsonl", "vehicles", verdict,
                                    [&](const std::string& answer, size_t item) {
                                      return MeanIou(Boxes(answer), Boxes(truth[item]));
                                    });
  std::cout << "boxes: " << gain.Describe("IoU") << "; photos to review: " << unsettled.size()
            << "\n";
  ASSERT_GE(gain.answers, 3 * verdict.size());
  EXPECT_GT(gain.verdicts, gain.mean_answer);

  // The review queue holds exactly the photos still unsettled after five people.
  std::set<std::string> queued;
  std::ifstream review(vdir + "/review.txt");
  for (std::string line; std::getline(review, line);) {
    if (absl::StartsWith(line, "job-1/vehicles/")) queued.insert(line.substr(0, line.find(' ')));
  }
  EXPECT_EQ(queued, unsettled);

  // COCO and YOLO, each read by a checker written from its format's description.
  mw::testing::CommandResult coco = mw::testing::Run(
      {"/usr/bin/python3", kSource + "/tests/formats/check_coco.py", vdir + "/results.coco.json"});
  EXPECT_EQ(coco.exit_code, 0) << coco.out << coco.err;
  EXPECT_THAT(coco.out, HasSubstr("coco: 20 images, "));
  EXPECT_THAT(coco.out, HasSubstr(" boxes, 3 categories\n"));
  mw::testing::CommandResult yolo = mw::testing::Run(
      {"/usr/bin/python3", kSource + "/tests/formats/check_yolo.py", vdir + "/yolo"});
  EXPECT_EQ(yolo.exit_code, 0) << yolo.out << yolo.err;
  EXPECT_THAT(yolo.out, HasSubstr("yolo: 20 label files, "));
  std::cout << coco.out << yolo.out;
}

// A labelled point or polygon (its corners, x then y), and how alike two are, by this test's own
// reading: points 1 less their distance over 20 pixels (0 beyond); polygons their IoU, counted
// pixel by pixel (a pixel is inside when its centre is, by the even-odd rule).
struct Mark {
  std::string label;
  std::vector<double> xy;
};

std::vector<Mark> Marks(const std::string& text) {
  std::vector<Mark> out;
  for (absl::string_view part : absl::StrSplit(text, ';', absl::SkipEmpty())) {
    const size_t colon = part.rfind(':');
    Mark m{std::string(part.substr(0, colon)), {}};
    for (absl::string_view v : absl::StrSplit(part.substr(colon + 1), ',')) {
      m.xy.push_back(std::stod(std::string(v)));
    }
    out.push_back(std::move(m));
  }
  return out;
}

bool Inside(const std::vector<double>& p, double x, double y) {
  bool in = false;
  for (size_t i = 0, n = p.size(); i < n; i += 2) {
    const double xa = p[i], ya = p[i + 1], xb = p[(i + 2) % n], yb = p[(i + 3) % n];
    if ((ya > y) != (yb > y) && x < xa + (y - ya) * (xb - xa) / (yb - ya)) in = !in;
  }
  return in;
}

double Alike(const Mark& a, const Mark& b) {
  if (a.xy.size() == 2) {
    return std::max(0.0, 1 - std::hypot(a.xy[0] - b.xy[0], a.xy[1] - b.xy[1]) / 20);
  }
  double x0 = 1e9, y0 = 1e9, x1 = 0, y1 = 0;
  for (const Mark* m : {&a, &b}) {
    for (size_t i = 0; i < m->xy.size(); i += 2) {
      x0 = std::min(x0, m->xy[i]), x1 = std::max(x1, m->xy[i]);
      y0 = std::min(y0, m->xy[i + 1]), y1 = std::max(y1, m->xy[i + 1]);
    }
  }
  int both = 0, either = 0;
  for (double y = y0 + 0.5; y < y1; ++y) {
    for (double x = x0 + 0.5; x < x1; ++x) {
      const bool in_a = Inside(a.xy, x, y), in_b = Inside(b.xy, x, y);
      both += in_a && in_b;
      either += in_a || in_b;
    }
  }
  return either == 0 ? 0 : static_cast<double>(both) / either;
}

// As MeanIou, by Alike.
double MeanAlike(const std::vector<Mark>& answer, const std::vector<Mark>& truth) {
  return MeanMatched(answer, truth, Alike);
}

TEST(ExamplesTest, CentresAndOutlinesOfThreeBeatTheMarksTheyAreMadeOfAndTheUnsettledAreReviewed) {
  mw::testing::TempDir dir;
  std::string out;
  std::vector<json> rows = RunExample("street-marks", dir, &out);
  EXPECT_THAT(out, HasSubstr("Media: 20 files named, 20 sent ("));
  const std::string mdir = dir.Sub("street-marks");
  // truth.csv: photo_id,"centres","outlines", both quoted.
  std::map<std::string, std::vector<std::string>> truth;
  {
    std::ifstream in(kSource + "/examples/street-marks/truth.csv");
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::vector<std::string> q = absl::StrSplit(line, '"');
      ASSERT_EQ(q.size(), 5u) << line;
      truth["centres"].push_back(q[1]);
      truth["outlines"].push_back(q[3]);
    }
  }
  ASSERT_EQ(rows.size(), 20u);
  std::set<std::string> queued;
  {
    std::ifstream review(mdir + "/review.txt");
    for (std::string line; std::getline(review, line);) {
      if (absl::StartsWith(line, "job-1/")) queued.insert(line.substr(0, line.find(' ')));
    }
  }
  // As in the vehicles test, the claim is for each stage's settled verdicts, against the answers
  // they were made from; the unsettled go to a person.
  std::set<std::string> unsettled;  // both stages' photos below the target with five answers
  for (const std::string stage : {"centres", "outlines"}) {
    std::map<size_t, double> verdict;  // settled photo -> its verdict's agreement with the truth
    for (size_t i = 0; i < rows.size(); ++i) {
      const json& row = rows[i];
      EXPECT_EQ(row["status"], "succeeded") << row.dump();
      const json* p = nullptr;
      for (const json& step : row["provenance"]) {
        if (step["stage"] == stage) p = &step;
      }
      ASSERT_NE(p, nullptr) << row.dump();
      const size_t workers = Workers(*p).size();
      EXPECT_GE(workers, 3u);
      EXPECT_LE(workers, 5u);
      if ((*p)["confidence"].get<double>() < 0.8) {
        EXPECT_EQ(workers, 5u) << "asked no more people before giving up: " << row.dump();
        unsettled.insert("job-1/" + stage + "/" + std::to_string(i));
      } else {
        verdict[i] = MeanAlike(Marks((*p)["answer"]), Marks(truth[stage][i]));
      }
    }
    ASSERT_GE(verdict.size(), 5u) << stage << ": too few photos settled to say anything";
    const Gain gain = GainOverAnswers(mdir + "/answers.jsonl", stage, verdict,
                                      [&](const std::string& answer, size_t item) {
                                        return MeanAlike(Marks(answer), Marks(truth[stage][item]));
                                      });
    std::cout << stage << ": " << gain.Describe("agreement") << "\n";
    ASSERT_GE(gain.answers, 3 * verdict.size());
    EXPECT_GT(gain.verdicts, gain.mean_answer);
  }
  EXPECT_EQ(queued, unsettled);
  std::cout << "photos to review: " << unsettled.size() << "\n";
  // Each stage's COCO file, read by the checker written from the format's description.
  for (const char* stage : {"centres", "outlines"}) {
    mw::testing::CommandResult coco =
        mw::testing::Run({"/usr/bin/python3", kSource + "/tests/formats/check_coco.py",
                          mdir + "/results." + stage + ".coco.json"});
    EXPECT_EQ(coco.exit_code, 0) << coco.out << coco.err;
    EXPECT_THAT(coco.out, HasSubstr("coco: 20 images, "));
    std::cout << stage << " " << coco.out;
  }
}

TEST(ExamplesTest, SpokenClipsAreFetchedAheadPlayedAndTranscribedByThree) {
  mw::testing::TempDir dir;
  std::string out;
  std::vector<json> rows = RunExample("speech", dir, &out);
  EXPECT_THAT(out, HasSubstr("Media: 20 files named, 20 sent ("));
  EXPECT_THAT(out, HasSubstr("Submitted job-1: 20 items\n"));
  const auto ids = Column(kSource + "/examples/speech/truth.csv", 0);
  const auto said = Column(kSource + "/examples/speech/truth.csv", 1);
  ASSERT_EQ(rows.size(), 20u);
  // Each clip's exact answers (answers.jsonl). Simulated workers slip now and then, each at a
  // rate of their own, and which three transcribe which clip follows the leases' timing.
  std::map<size_t, int> exact_answers;
  std::ifstream answers(dir.Sub("speech") + "/answers.jsonl");
  for (std::string line; std::getline(answers, line);) {
    const json a = json::parse(line);
    if (a["stage"] != "transcribe" || a["skipped"].get<bool>()) continue;
    const size_t item = a["item"].get<size_t>();
    ASSERT_LT(item, said.size()) << line;
    exact_answers[item] += a["answer"] == said[item];
  }
  int exact = 0, two_exact = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const json& row = rows[i];
    EXPECT_EQ(row["fields"]["clip_id"], ids[i]);
    EXPECT_EQ(row["fields"]["clip"], ids[i] + ".wav");
    EXPECT_EQ(row["status"], "succeeded") << row.dump();
    ASSERT_EQ(row["provenance"].size(), 1u);
    EXPECT_EQ(Workers(row["provenance"][0]).size(), 3u);
    exact += row["fields"]["transcribe"] == said[i];
    // The medoid of three keeps the clean answer whenever two of them are clean, whoever slipped.
    if (exact_answers[i] >= 2) {
      ++two_exact;
      EXPECT_EQ(row["fields"]["transcribe"], said[i]) << row.dump();
    }
  }
  EXPECT_GE(two_exact, 10);  // most clips: a slip is the exception
  std::cout << "speech: " << exact << " of " << rows.size() << " transcripts exact (" << two_exact
            << " with two or three exact answers)\n";
}

TEST(ExamplesTest, TranslationIteratesAndGroupsPhrasesIntoNotices) {
  mw::testing::TempDir dir;
  std::vector<json> rows = RunExample("translation", dir);
  const auto notices = Column(kSource + "/examples/translation/phrases.csv", 1);
  std::vector<std::string> order;  // the notices in the order they first appear
  for (const auto& n : notices) {
    if (std::find(order.begin(), order.end(), n) == order.end()) order.push_back(n);
  }
  ASSERT_EQ(rows.size(), order.size());
  std::set<uint64_t> items;
  for (size_t i = 0; i < rows.size(); ++i) {
    const json& row = rows[i];
    EXPECT_EQ(row["fields"]["notice"], order[i]);
    for (uint64_t item : row["merged_items"]) {
      EXPECT_TRUE(items.insert(item).second) << "item " << item << " in two rows";
      EXPECT_EQ(notices.at(item), order[i]);
    }
    // Each round: one improver, then three voters among whom the improver is not.
    const json& p = row["provenance"];
    for (size_t s = 0; s < p.size(); ++s) {
      const std::string stage = p[s]["stage"];
      if (stage.find(".vote") != std::string::npos) {
        ASSERT_GT(s, 0u);
        EXPECT_EQ(p[s - 1]["stage"].get<std::string>() + ".vote", stage);
        EXPECT_EQ(Workers(p[s]).size(), 3u);
        EXPECT_TRUE(Disjoint(Workers(p[s - 1]), Workers(p[s]))) << row.dump();
      } else {
        EXPECT_EQ(Workers(p[s]).size(), 1u);
      }
    }
  }
  EXPECT_EQ(items.size(), notices.size());  // every phrase in exactly one notice
}

TEST(ExamplesTest, ModerationAsksTwoQuestionsSideBySideAndJoinsThemIntoOneRow) {
  mw::testing::TempDir dir;
  std::vector<json> rows = RunExample("moderation", dir);
  const auto ids = Column(kSource + "/examples/moderation/posts.csv", 0);
  const auto priorities = Column(kSource + "/examples/moderation/truth.csv", 3);
  ASSERT_EQ(rows.size(), ids.size());
  int right = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const json& row = rows[i];
    EXPECT_EQ(row["item"], i);  // input order, each row once
    EXPECT_EQ(row["fields"]["post_id"], ids[i]);
    EXPECT_EQ(row["status"], "succeeded");
    // Both questions answered by three people each, then the priority by one, last.
    const json& p = row["provenance"];
    ASSERT_EQ(p.size(), 3u) << row.dump();
    EXPECT_EQ(p[0]["stage"], "topic");
    EXPECT_EQ(p[1]["stage"], "harm");
    EXPECT_EQ(p[2]["stage"], "priority");
    EXPECT_EQ(Workers(p[0]).size(), 3u);
    EXPECT_EQ(Workers(p[1]).size(), 3u);
    EXPECT_EQ(Workers(p[2]).size(), 1u);
    for (const char* field : {"topic", "harm", "priority"}) {
      EXPECT_NE(row["fields"][field], "") << field << " in " << row.dump();
    }
    right += row["fields"]["priority"] == priorities[i];
  }
  std::cout << "moderation: " << right << " of " << rows.size() << " priorities match the truth\n";
}

TEST(ExamplesTest, ProofreadingCutsParagraphsIntoSentencesAndGathersTheFixesBack) {
  mw::testing::TempDir dir;
  std::vector<json> rows = RunExample("proofreading", dir);
  const auto ids = Column(kSource + "/examples/proofreading/paragraphs.csv", 0);
  ASSERT_EQ(rows.size(), ids.size());
  int pieces = 0, fixed = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const json& row = rows[i];
    EXPECT_EQ(row["item"], i);  // input order, each paragraph once
    EXPECT_EQ(row["fields"]["paragraph_id"], ids[i]);
    // One person found the sentences; each is a piece of its own, fixed by one person and
    // verified by three others, then gathered back in order.
    const json& p = row["provenance"];
    ASSERT_EQ(p.size(), 1u) << row.dump();
    EXPECT_EQ(p[0]["stage"], "find");
    std::vector<std::string> found =
        absl::StrSplit(p[0]["answer"].get<std::string>(), '\n', absl::SkipWhitespace());
    const json children = row.value("children", json::array());
    ASSERT_EQ(children.size(), found.size()) << row.dump();
    std::vector<std::string> gathered;
    for (size_t k = 0; k < children.size(); ++k) {
      const json& piece = children[k];
      EXPECT_EQ(piece["parent"], i);
      EXPECT_EQ(piece["position"], k);
      EXPECT_EQ(piece["cut_by"], "find");
      EXPECT_EQ(piece["fields"]["find"], found[k]);
      const json& q = piece["provenance"];
      ASSERT_EQ(q.size(), 2u) << piece.dump();
      EXPECT_EQ(q[0]["stage"], "fix");
      EXPECT_EQ(q[1]["stage"], "verify");
      EXPECT_EQ(Workers(q[1]).size(), 3u);
      EXPECT_TRUE(Disjoint(Workers(q[0]), Workers(q[1]))) << piece.dump();
      const bool accepted = piece["fields"]["verify"] == "yes";
      // A fix voted down gives way to the sentence as found (the default for pieces).
      EXPECT_EQ(piece["status"], accepted ? "succeeded" : "kept find as fix: rejected by verify");
      if (!accepted) EXPECT_EQ(piece["fields"]["fix"], piece["fields"]["find"]);
      gathered.push_back(piece["fields"]["fix"]);
      fixed += accepted;
    }
    pieces += static_cast<int>(children.size());
    EXPECT_EQ(row["fields"]["find"], absl::StrJoin(gathered, "\n")) << row.dump();
  }
  std::cout << "proofreading: " << pieces << " sentences found, " << fixed << " fixes accepted\n";
}

TEST(ExamplesTest, ReceiptLinesAreCutTranscribedOneByOneAndJoinedBack) {
  mw::testing::TempDir dir;
  std::vector<json> rows = RunExample("receipt-lines", dir);
  const auto ids = Column(kSource + "/examples/receipt-lines/receipts.csv", 0);
  ASSERT_EQ(rows.size(), ids.size());
  int lines = 0, kept = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const json& row = rows[i];
    EXPECT_EQ(row["item"], i);
    EXPECT_EQ(row["fields"]["receipt_id"], ids[i]);
    // One person listed the lines; the total was read after they came back.
    const json& p = row["provenance"];
    ASSERT_EQ(p.size(), 2u) << row.dump();
    EXPECT_EQ(p[0]["stage"], "lines");
    EXPECT_EQ(p[1]["stage"], "total");
    std::vector<std::string> listed =
        absl::StrSplit(p[0]["answer"].get<std::string>(), '\n', absl::SkipWhitespace());
    const json children = row.value("children", json::array());
    ASSERT_EQ(children.size(), listed.size()) << row.dump();
    std::vector<std::string> gathered;
    for (size_t k = 0; k < children.size(); ++k) {
      const json& line = children[k];
      EXPECT_EQ(line["parent"], i);
      EXPECT_EQ(line["position"], k);
      EXPECT_EQ(line["fields"]["lines"], listed[k]);
      const json& q = line["provenance"];
      ASSERT_EQ(q.size(), 2u) << line.dump();
      EXPECT_EQ(q[0]["stage"], "line");
      EXPECT_EQ(q[1]["stage"], "check");
      EXPECT_EQ(Workers(q[1]).size(), 2u);
      EXPECT_TRUE(Disjoint(Workers(q[0]), Workers(q[1]))) << line.dump();
      // Voted down: the line as it was listed stands in for the transcription, and says so.
      const bool accepted = line["fields"]["check"] == "yes";
      EXPECT_EQ(line["status"], accepted ? "succeeded" : "kept lines as line: rejected by check");
      if (!accepted) EXPECT_EQ(line["fields"]["line"], listed[k]);
      gathered.push_back(line["fields"]["line"]);
      kept += !accepted;
    }
    lines += static_cast<int>(children.size());
    EXPECT_EQ(row["fields"]["lines"], absl::StrJoin(gathered, "\n")) << row.dump();
    EXPECT_FALSE(row["fields"]["total"].get<std::string>().empty());
  }
  std::cout << "receipt-lines: " << lines << " lines listed, " << kept
            << " transcriptions voted down and kept as listed\n";
}

// A CoNLL-2003 file read as its format says, not as this project writes it: "-DOCSTART-" lines
// and blank lines separate documents and sentences; every other line is a token followed by
// three tags separated by spaces, the last the named-entity tag in IOB (B-X begins an entity of
// type X, I-X continues one, O is outside). Returns each sentence's entities as "type:words".
std::vector<std::vector<std::string>> ReadConll(const std::string& path) {
  std::vector<std::vector<std::string>> sentences;
  std::vector<std::string> entities;
  std::string words, type;
  bool in_sentence = false;
  auto close_entity = [&] {
    if (!type.empty()) entities.push_back(type + ":" + words);
    type.clear();
    words.clear();
  };
  auto close_sentence = [&] {
    close_entity();
    if (in_sentence) sentences.push_back(entities);
    entities.clear();
    in_sentence = false;
  };
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.rfind("-DOCSTART-", 0) == 0) {
      close_sentence();
      continue;
    }
    std::vector<std::string> cols = absl::StrSplit(line, ' ', absl::SkipEmpty());
    EXPECT_EQ(cols.size(), 4u) << line;
    if (cols.size() != 4) continue;
    in_sentence = true;
    const std::string& tag = cols[3];
    if (tag == "O") {
      close_entity();
    } else if (tag.rfind("B-", 0) == 0 || (tag.rfind("I-", 0) == 0 && tag.substr(2) != type)) {
      // IOB2 begins every entity with B-; an I- of another type would also begin one (IOB1).
      EXPECT_EQ(tag.substr(0, 2), "B-") << "an entity must begin with B-: " << line;
      close_entity();
      type = tag.substr(2);
      words = cols[0];
    } else if (tag.rfind("I-", 0) == 0) {
      words += " " + cols[0];
    } else {
      ADD_FAILURE() << "not an IOB tag: " << line;
    }
  }
  close_sentence();
  return sentences;
}

// UTF-8 as UTF-16 code units, as a JavaScript string holds it (Label Studio counts offsets in
// them): a character outside the BMP becomes a surrogate pair.
std::u16string Utf16(const std::string& s) {
  std::u16string out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
    for (int k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (s[i + k] & 0x3F);
    i += n;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out += static_cast<char16_t>(0xD800 + (cp >> 10));
      out += static_cast<char16_t>(0xDC00 + (cp & 0x3FF));
    } else {
      out += static_cast<char16_t>(cp);
    }
  }
  return out;
}

TEST(ExamplesTest, EntitiesAreMarkedAsSpansVotedCheckedAndExportedForAnnotationTools) {
  mw::testing::TempDir dir;
  std::vector<json> rows = RunExample("entities", dir);
  const auto ids = Column(kSource + "/examples/entities/texts.csv", 0);
  const auto truth = Column(kSource + "/examples/entities/truth.csv", 1);
  const auto better = Column(kSource + "/examples/entities/truth.csv", 2);
  ASSERT_EQ(rows.size(), ids.size());
  const std::vector<std::vector<std::string>> conll =
      ReadConll(dir.Sub("entities") + "/results.conll");
  int exact = 0, picks = 0, rejected = 0;
  size_t sentence = 0;  // the CoNLL file has the texts the check did not turn down, in order
  for (size_t i = 0; i < rows.size(); ++i) {
    const json& row = rows[i];
    EXPECT_EQ(row["item"], i);
    EXPECT_EQ(row["fields"]["text_id"], ids[i]);
    const json& p = row["provenance"];
    ASSERT_EQ(p.size(), 3u) << row.dump();
    EXPECT_EQ(p[0]["stage"], "entities");
    EXPECT_EQ(p[1]["stage"], "check");
    EXPECT_EQ(p[2]["stage"], "better");
    EXPECT_EQ(Workers(p[0]).size(), 3u);
    EXPECT_EQ(Workers(p[1]).size(), 3u);
    EXPECT_EQ(Workers(p[2]).size(), 3u);
    EXPECT_TRUE(Disjoint(Workers(p[0]), Workers(p[1]))) << row.dump();  // nobody checks their own
    const bool accepted = row["fields"]["check"] == "yes";
    EXPECT_EQ(row["status"], accepted ? "succeeded" : "rejected by check") << row.dump();
    // The spans in their own shape: each span's text is the words it covers, and the CoNLL
    // reader finds the same entities in the same order.
    const std::string text = row["fields"]["text"];
    std::vector<std::string> expected;
    for (const json& span : p[0]["value"]) {
      const std::string words = span["text"];
      EXPECT_NE(text.find(words), std::string::npos) << row.dump();
      expected.push_back(span["label"].get<std::string>() + ":" + words);
    }
    if (accepted) {
      ASSERT_LT(sentence, conll.size());
      EXPECT_EQ(conll[sentence++], expected) << row.dump();
    }
    rejected += !accepted;
    EXPECT_EQ(row["fields"]["entities"], p[0]["answer"]);
    exact += p[0]["answer"] == truth[i];
    const std::string pick = p[2]["value"]["winner"];
    EXPECT_TRUE(pick == "a" || pick == "b") << row.dump();
    picks += pick == better[i];
  }
  EXPECT_EQ(sentence, conll.size());

  // The summarisers ranked from every reader's answer of "better" (mw qa rank --job): the one
  // whose summaries the truth prefers in each of its pairs first.
  std::ifstream ranking(dir.Sub("entities") + "/ranking.csv");
  std::vector<std::string> order;
  std::string line;
  std::getline(ranking, line);
  EXPECT_EQ(line, "rank,item,strength");
  while (std::getline(ranking, line)) {
    std::vector<std::string> f = absl::StrSplit(line, ',');
    ASSERT_EQ(f.size(), 3u) << line;
    order.push_back(f[1]);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"summariser-large", "summariser-medium",
                                             "summariser-small"}));

  // Label Studio's task format, read as its documentation describes it: an array of tasks, each
  // with its data and annotations whose results name a control (from_name), the object it
  // labels (to_name), a type and a value; a text span's offsets count UTF-16 code units.
  std::ifstream ls_file(dir.Sub("entities") + "/results.label-studio.json");
  const json tasks = json::parse(ls_file);
  ASSERT_TRUE(tasks.is_array());
  ASSERT_EQ(tasks.size(), rows.size());
  for (size_t i = 0; i < tasks.size(); ++i) {
    const json& task = tasks[i];
    ASSERT_TRUE(task["data"].is_object()) << task.dump();
    EXPECT_EQ(task["data"]["text_id"], ids[i]);
    ASSERT_EQ(task["annotations"].size(), 1u);
    size_t spans = 0, pairwise = 0, choices = 0;
    for (const json& r : task["annotations"][0]["result"]) {
      for (const char* key : {"id", "from_name", "to_name", "type", "value"}) {
        ASSERT_TRUE(r.contains(key)) << key << " missing in " << r.dump();
      }
      const std::string type = r["type"];
      if (type == "labels") {
        EXPECT_EQ(r["from_name"], "entities");
        const std::u16string text = Utf16(task["data"].at(r["to_name"].get<std::string>()));
        const size_t start = r["value"]["start"], end = r["value"]["end"];
        ASSERT_TRUE(start < end && end <= text.size()) << r.dump();
        EXPECT_EQ(text.substr(start, end - start), Utf16(r["value"]["text"])) << r.dump();
        ASSERT_EQ(r["value"]["labels"].size(), 1u);
        const std::set<std::string> labels = {"PER", "LOC", "ORG"};
        EXPECT_EQ(labels.count(r["value"]["labels"][0]), 1u) << r.dump();
        ++spans;
      } else if (type == "pairwise") {
        EXPECT_EQ(r["from_name"], "better");
        std::vector<std::string> objects = absl::StrSplit(r["to_name"].get<std::string>(), ',');
        EXPECT_EQ(objects, (std::vector<std::string>{"summary_a", "summary_b"}));
        EXPECT_EQ(r["value"]["selected"] == "left" ? "a" : "b",
                  rows[i]["provenance"][2]["value"]["winner"]);
        ++pairwise;
      } else if (type == "choices") {
        EXPECT_EQ(r["from_name"], "check");
        EXPECT_EQ(r["value"]["choices"], json::array({rows[i]["fields"]["check"]}));
        ++choices;
      } else {
        ADD_FAILURE() << "a result type this contract has no stage of: " << r.dump();
      }
    }
    EXPECT_EQ(spans, rows[i]["provenance"][0]["value"].size());
    EXPECT_EQ(pairwise, 1u);
    EXPECT_EQ(choices, 1u);
  }
  std::cout << "entities: " << exact << " of " << rows.size()
            << " texts' spans match the truth exactly, " << rejected
            << " turned down by the check; " << picks << " of " << rows.size()
            << " comparisons pick the better summary\n";
}

}  // namespace
