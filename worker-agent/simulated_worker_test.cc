#include "worker-agent/simulated_worker.h"

#include <cstdlib>
#include <set>

#include "gtest/gtest.h"

namespace mw::agent {
namespace {

v1::CachedAssignment Task(const std::string& id) {
  v1::CachedAssignment a;
  a.mutable_assignment()->set_task_id("job-1/label/" + id);
  v1::Field* f = a.mutable_assignment()->mutable_item()->add_fields();
  f->set_name("id");
  f->set_value(id);
  auto* h = a.mutable_spec()->mutable_human();
  h->set_estimated_seconds(20);
  for (const char* o : {"positive", "negative", "neutral"}) {
    h->mutable_answer()->mutable_single_choice()->add_options(o);
  }
  return a;
}

CrowdModel Model(double accuracy) {
  CrowdModel m;
  m.accuracy = accuracy;
  m.truth_field = "id";
  for (int i = 0; i < 1000; ++i) m.truth[std::to_string(i)] = "neutral";
  return m;
}

TEST(SimulatedWorkerTest, AccuracyIsHonouredOverManyTasks) {
  const CrowdModel m = Model(0.8);
  int right = 0;
  for (int i = 0; i < 1000; ++i) {
    SimulatedAnswer a = Simulate(m, "w1", Task(std::to_string(i)));
    right += a.answer.choice() == "neutral";
    EXPECT_GE(a.active_seconds, 16u);
    EXPECT_LE(a.active_seconds, 31u);
  }
  // 1000 Bernoulli(0.8) draws: mean 800, sd ~12.6; 5 sd either side.
  EXPECT_GT(right, 737);
  EXPECT_LT(right, 863);
}

TEST(SimulatedWorkerTest, AnswersReplayFromTheSeed) {
  const CrowdModel m = Model(0.5);
  for (int i = 0; i < 50; ++i) {
    auto t = Task(std::to_string(i));
    EXPECT_EQ(Simulate(m, "w1", t).answer.choice(), Simulate(m, "w1", t).answer.choice());
  }
  EXPECT_EQ(Simulate(Model(1.0), "w9", Task("3")).answer.choice(), "neutral");
  EXPECT_NE(Simulate(Model(0.0), "w9", Task("3")).answer.choice(), "neutral");
}

// A task of step `step` whose item has `fields`, asking `options` (a text answer when empty).
v1::CachedAssignment Judge(const std::string& step,
                           std::vector<std::pair<std::string, std::string>> fields,
                           std::vector<std::string> options, const std::string& judged = "",
                           const std::string& previous = "") {
  v1::CachedAssignment a;
  a.mutable_assignment()->set_task_id("job-1/" + step + "/0");
  a.mutable_assignment()->set_stage(step);
  for (const auto& [name, value] : fields) {
    v1::Field* f = a.mutable_assignment()->mutable_item()->add_fields();
    f->set_name(name);
    f->set_value(value);
  }
  auto* h = a.mutable_spec()->mutable_human();
  h->set_estimated_seconds(10);
  if (options.empty()) h->mutable_answer()->mutable_text();
  for (const auto& o : options) h->mutable_answer()->mutable_single_choice()->add_options(o);
  h->set_judged_field(judged);
  h->set_previous_field(previous);
  return a;
}

TEST(SimulatedWorkerTest, PerStageTruthDrivesFixesVerificationsAndVotes) {
  CrowdModel m;
  m.accuracy = 1.0;
  m.truth_field = "id";
  m.stage_truth["fix"]["R1"] = "12.50";
  m.stage_truth["sw"]["R1"] = "Asante";
  EXPECT_EQ(Simulate(m, "w", Judge("fix", {{"id", "R1"}}, {})).answer.text(), "12.50");
  EXPECT_EQ(Simulate(m, "w", Judge("check", {{"id", "R1"}, {"fix", "12.50"}}, {"yes", "no"}, "fix"))
                .answer.choice(),
            "yes");
  EXPECT_EQ(Simulate(m, "w", Judge("check", {{"id", "R1"}, {"fix", "12.5"}}, {"yes", "no"}, "fix"))
                .answer.choice(),
            "no");
  EXPECT_EQ(Simulate(m, "w", Judge("sw.r2", {{"id", "R1"}, {"sw", "Asant"}}, {})).answer.text(),
            "Asante");
  const auto vote = [&](const std::string& fresh, const std::string& previous) {
    return Simulate(m, "w",
                    Judge("sw.r2.vote", {{"id", "R1"}, {"sw", previous}, {"sw.new", fresh}},
                          {"new", "previous"}, "sw.new", "sw"))
        .answer.choice();
  };
  EXPECT_EQ(vote("Asante", "Asant"), "new");
  EXPECT_EQ(vote("Asant", "Asante"), "previous");
  m.accuracy = 0.0;  // always wrong: the other judgement, and a slip at the end of a text
  EXPECT_EQ(vote("Asante", "Asant"), "previous");
  EXPECT_EQ(Simulate(m, "w", Judge("fix", {{"id", "R1"}}, {})).answer.text(), "12.5");
}

// A piece finds its own truth row ("R1#2"), and falls back to its parent's.
TEST(SimulatedWorkerTest, APieceIsAnsweredFromItsOwnTruthRow) {
  CrowdModel m;
  m.accuracy = 1.0;
  m.truth_field = "id";
  m.stage_truth["price"]["R1#2"] = "0.90";
  m.stage_truth["price"]["R1"] = "9.99";
  auto piece = [](uint32_t position) {
    v1::CachedAssignment a = Judge("price", {{"id", "R1"}, {"lines", "Milk"}}, {});
    a.mutable_assignment()->mutable_item()->set_cut_by("lines");
    a.mutable_assignment()->mutable_item()->set_position(position);
    return a;
  };
  EXPECT_EQ(Simulate(m, "w", piece(1)).answer.text(), "0.90");
  EXPECT_EQ(Simulate(m, "w", piece(0)).answer.text(), "9.99");
  EXPECT_EQ(Simulate(m, "w", Judge("price", {{"id", "R1#2"}}, {})).answer.text(), "0.90");
}

// The regression: simulated workers answered the minimum on every number stage whatever the
// truth file said.
TEST(SimulatedWorkerTest, NumberStagesFollowTheTruthAndMissNearItWhenWrong) {
  auto task = [](const std::string& id, bool integer) {
    v1::CachedAssignment a = Task(id);
    v1::NumberRange* n = a.mutable_spec()->mutable_human()->mutable_answer()->mutable_number();
    n->set_min(0);
    n->set_max(1000);
    n->set_integer(integer);
    return a;
  };
  CrowdModel m = Model(1.0);
  m.truth["7"] = "420";
  EXPECT_EQ(Simulate(m, "w1", task("7", true)).answer.number(), "420");
  m.accuracy = 0.0;
  const std::string wrong = Simulate(m, "w1", task("7", true)).answer.number();
  EXPECT_TRUE(wrong == "378" || wrong == "462") << wrong;  // a tenth off, either way
  m.truth["8"] = "2.5";
  const std::string near = Simulate(m, "w1", task("8", false)).answer.number();
  EXPECT_TRUE(near == "1.5" || near == "3.5") << near;  // at least one unit off
  m.truth["9"] = "0";
  EXPECT_EQ(Simulate(m, "w2", task("9", true)).answer.number(), "1");  // kept in range
}

TEST(SimulatedWorkerTest, MultiChoiceStagesFollowTheTruth) {
  v1::CachedAssignment a = Task("5");
  auto* h = a.mutable_spec()->mutable_human();
  h->mutable_answer()->clear_single_choice();
  for (const char* o : {"bug", "billing", "account"}) {
    h->mutable_answer()->mutable_multi_choice()->add_options(o);
  }
  CrowdModel m = Model(1.0);
  m.truth["5"] = "billing|bug";
  const v1::Answer right = Simulate(m, "w1", a).answer;
  ASSERT_EQ(right.choices().options_size(), 2);
  EXPECT_EQ(right.choices().options(0), "billing");
  EXPECT_EQ(right.choices().options(1), "bug");
  m.accuracy = 0.0;
  m.truth["5"] = "account";
  const v1::Answer wrong = Simulate(m, "w1", a).answer;
  ASSERT_EQ(wrong.choices().options_size(), 1);
  EXPECT_NE(wrong.choices().options(0), "account");
}

TEST(SimulatedWorkerTest, AnItemTheTruthFileLacksIsAGuessAndSaysSo) {
  EXPECT_TRUE(Simulate(Model(0.9), "w1", Task("3")).truth_known);
  EXPECT_FALSE(Simulate(Model(0.9), "w1", Task("gold-17")).truth_known);
}

TEST(SimulatedWorkerTest, SpansComparisonsAndRankingsAreTheTruthOrOneSlipFromIt) {
  CrowdModel m;
  m.truth_field = "id";
  m.stage_truth["names"]["7"] = "0-4:PER;13-20:LOC";
  m.stage_truth["better"]["7"] = "b";
  m.stage_truth["order"]["7"] = "t2>t3>t1";
  auto task = [](const std::string& stage, const v1::AnswerSchema& schema) {
    v1::CachedAssignment a;
    a.mutable_assignment()->set_task_id("job-1/" + stage + "/7");
    a.mutable_assignment()->set_stage(stage);
    for (auto [name, value] : {std::pair{"id", "7"}, std::pair{"text", "Juma anaishi Nairobi ."}}) {
      v1::Field* f = a.mutable_assignment()->mutable_item()->add_fields();
      f->set_name(name);
      f->set_value(value);
    }
    *a.mutable_spec()->mutable_human()->mutable_answer() = schema;
    return a;
  };
  v1::AnswerSchema names, pair, order;
  names.mutable_spans()->set_field("text");
  names.mutable_spans()->add_labels("PER");
  names.mutable_spans()->add_labels("LOC");
  pair.mutable_comparison()->set_a_field("text");
  pair.mutable_comparison()->set_b_field("id");
  for (const char* f : {"t1", "t2", "t3"}) order.mutable_ranking()->add_fields(f);
  m.accuracy = 1;
  EXPECT_EQ(Simulate(m, "w1", task("names", names)).answer.spans().ShortDebugString(),
            "spans { end: 4 label: \"PER\" } spans { start: 13 end: 20 label: \"LOC\" }");
  EXPECT_EQ(Simulate(m, "w1", task("better", pair)).answer.pick().winner(), "b");
  EXPECT_EQ(Simulate(m, "w1", task("order", order)).answer.ranking().ShortDebugString(),
            "options: \"t2\" options: \"t3\" options: \"t1\"");
  // Always wrong: every answer differs from the truth, and is still one the schema allows.
  m.accuracy = 0;
  std::set<std::string> slips;
  for (int w = 0; w < 30; ++w) {
    const std::string worker = "w" + std::to_string(w);
    const v1::Answer spans = Simulate(m, worker, task("names", names)).answer;
    std::string text;
    for (const auto& s : spans.spans().spans()) {
      text += std::to_string(s.start()) + "-" + std::to_string(s.end()) + ":" + s.label() + ";";
    }
    EXPECT_NE(text, "0-4:PER;13-20:LOC;");
    slips.insert(text);
    EXPECT_EQ(Simulate(m, worker, task("better", pair)).answer.pick().winner(), "a");
    EXPECT_NE(Simulate(m, worker, task("order", order)).answer.ranking().options(0) +
                  Simulate(m, worker, task("order", order)).answer.ranking().options(1) +
                  Simulate(m, worker, task("order", order)).answer.ranking().options(2),
              "t2t3t1");
  }
  // All three kinds of slip occur: one left out, one relabelled, one run on to the next word.
  EXPECT_TRUE(slips.count("13-20:LOC;") || slips.count("0-4:PER;"));
  EXPECT_TRUE(slips.count("0-4:LOC;13-20:LOC;") || slips.count("0-4:PER;13-20:PER;"));
  EXPECT_TRUE(slips.count("0-12:PER;13-20:LOC;") || slips.count("0-4:PER;13-22:LOC;"));
}

TEST(SimulatedWorkerTest, BoxesAreTheTruthsDrawnALittleOffInsideTheImageAndWrongOnesMissOne) {
  CrowdModel m;
  m.truth_field = "id";
  m.stage_truth["vehicles"]["7"] = "car:100,100,200,160;bus:300,200,600,400";
  v1::CachedAssignment a;
  a.mutable_assignment()->set_task_id("job-1/vehicles/7");
  a.mutable_assignment()->set_stage("vehicles");
  v1::Field* id = a.mutable_assignment()->mutable_item()->add_fields();
  id->set_name("id");
  id->set_value("7");
  v1::Field* photo = a.mutable_assignment()->mutable_item()->add_fields();
  photo->set_name("photo");
  photo->set_value("s7.png");
  photo->mutable_media()->set_kind(v1::MEDIA_IMAGE);
  photo->mutable_media()->set_width(640);
  photo->mutable_media()->set_height(480);
  v1::AnswerSchema* schema = a.mutable_spec()->mutable_human()->mutable_answer();
  schema->mutable_shapes()->set_field("photo");
  schema->mutable_shapes()->set_kind(v1::SHAPE_BOX);
  schema->mutable_shapes()->add_labels("car");
  schema->mutable_shapes()->add_labels("bus");
  m.accuracy = 1;
  std::set<std::string> drawn;
  for (int w = 0; w < 20; ++w) {
    const v1::Answer answer = Simulate(m, "w" + std::to_string(w), a).answer;
    ASSERT_EQ(answer.shapes().shapes_size(), 2);
    const v1::Shape& car = answer.shapes().shapes(0);
    const v1::Shape& bus = answer.shapes().shapes(1);
    EXPECT_EQ(car.label(), "car");
    EXPECT_EQ(bus.label(), "bus");
    // Within a tenth of the box's size of each true corner, and inside the 640x480 image.
    EXPECT_LE(std::abs(static_cast<int>(car.x0()) - 100), 10);
    EXPECT_LE(std::abs(static_cast<int>(car.y1()) - 160), 6);
    EXPECT_LE(std::abs(static_cast<int>(bus.x1()) - 600), 30);
    EXPECT_LT(car.x0(), car.x1());
    EXPECT_LE(bus.x1(), 640u);
    EXPECT_LE(bus.y1(), 480u);
    drawn.insert(answer.shapes().ShortDebugString());
  }
  EXPECT_GT(drawn.size(), 15u);  // each hand draws its own
  // The same worker draws the same boxes again: a run replays exactly.
  EXPECT_EQ(Simulate(m, "w3", a).answer.ShortDebugString(),
            Simulate(m, "w3", a).answer.ShortDebugString());
  m.accuracy = 0;
  for (int w = 0; w < 10; ++w) {
    const v1::Answer wrong = Simulate(m, "w" + std::to_string(w), a).answer;
    const bool missed = wrong.shapes().shapes_size() == 1;
    const bool relabelled =
        wrong.shapes().shapes_size() == 2 &&
        (wrong.shapes().shapes(0).label() != "car" || wrong.shapes().shapes(1).label() != "bus");
    EXPECT_TRUE(missed || relabelled) << wrong.ShortDebugString();
  }
}

}  // namespace
}  // namespace mw::agent
