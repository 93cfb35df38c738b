#include "engine/dispatch/verdicts.h"

#include "gtest/gtest.h"

namespace mw::dispatch {
namespace {

namespace v1 = ::microwork::v1;

v1::AnswerSchema Numbers(bool integer) {
  v1::AnswerSchema s;
  s.mutable_number()->set_min(0);
  s.mutable_number()->set_max(1000);
  s.mutable_number()->set_integer(integer);
  return s;
}

// The verdict `qa` gives `labels` on answers of `schema` (a method the schema allows).
Verdict DecideVerdict(const v1::QaPolicy& qa, const v1::AnswerSchema& schema,
                      const std::vector<std::string>& labels, const std::vector<double>& skills) {
  auto aggregation = AggregationFor(qa, schema);
  EXPECT_TRUE(aggregation.ok()) << aggregation.status();
  return aggregation.ok() ? (*aggregation)->Decide(labels, skills) : Verdict();
}

v1::QaPolicy Method(v1::Aggregation m) {
  v1::QaPolicy qa;
  qa.set_method(m);
  return qa;
}

TEST(VerdictsTest, NumbersTakeTheMedianByDefault) {
  const Verdict v = DecideVerdict(v1::QaPolicy(), Numbers(false), {"3", "2", "40"}, {.5, .5, .5});
  EXPECT_EQ(v.label, "3");
  EXPECT_EQ(v.votes, 1);
  EXPECT_EQ(v.total, 3);
  EXPECT_DOUBLE_EQ(v.confidence, 1.0 / 3);
}

TEST(VerdictsTest, WholeNumbersStayWhole) {
  // The median of 2 and 3 on a whole-number stage is the lower middle answer, not 2.5.
  EXPECT_EQ(DecideVerdict(Method(v1::MEDIAN), Numbers(true), {"3", "2"}, {.5, .5}).label, "2");
  EXPECT_EQ(DecideVerdict(Method(v1::MEDIAN), Numbers(false), {"3", "2"}, {.5, .5}).label, "2.5");
  // A mean rounds half away from zero.
  EXPECT_EQ(DecideVerdict(Method(v1::MEAN), Numbers(true), {"2", "3"}, {.5, .5}).label, "3");
  EXPECT_EQ(DecideVerdict(Method(v1::MEAN), Numbers(false), {"1", "2", "4"}, {.5, .5, .5}).label,
            "2.333333333");
}

TEST(VerdictsTest, ChoicesAndTextAreVoted) {
  v1::AnswerSchema choice;
  for (const char* o : {"yes", "no"}) choice.mutable_single_choice()->add_options(o);
  const Verdict v = DecideVerdict(v1::QaPolicy(), choice, {"no", "yes", "no"}, {.5, .5, .5});
  EXPECT_EQ(v.label, "no");
  EXPECT_EQ(v.votes, 2);
  v1::AnswerSchema text;
  text.mutable_text();
  EXPECT_EQ(DecideVerdict(Method(v1::TEXT_AGREEMENT), text, {"nairobi", "nairobi", "mombasa"},
                          {.5, .5, .5})
                .label,
            "nairobi");
  // Skill-weighted: one sure worker outweighs two who guess.
  EXPECT_EQ(
      DecideVerdict(Method(v1::WEIGHTED_VOTE), choice, {"yes", "no", "no"}, {.99, .5, .5}).label,
      "yes");
}

TEST(VerdictsTest, EveryMethodTheSchemaOffersHasAnAggregationAndOthersAreRefusedByName) {
  v1::AnswerSchema choice;
  for (const char* o : {"yes", "no"}) choice.mutable_single_choice()->add_options(o);
  v1::AnswerSchema text;
  text.mutable_text();
  for (int m = 0; m <= v1::Aggregation_MAX; ++m) {
    if (!v1::Aggregation_IsValid(m)) continue;
    const auto method = static_cast<v1::Aggregation>(m);
    const bool numbers = method == v1::MEDIAN || method == v1::MEAN;
    const bool any = method == v1::AGGREGATION_UNSPECIFIED;
    EXPECT_EQ(AggregationFor(Method(method), Numbers(false)).ok(), numbers || any)
        << v1::Aggregation_Name(method);
    EXPECT_EQ(AggregationFor(Method(method), text).ok(), !numbers) << v1::Aggregation_Name(method);
    EXPECT_EQ(AggregationFor(Method(method), choice).ok(),
              !numbers && method != v1::TEXT_AGREEMENT && method != v1::TEXT_MEDOID)
        << v1::Aggregation_Name(method);
  }
  EXPECT_EQ(AggregationFor(Method(v1::MEAN), choice).status().message(),
            "qa.method: MEAN needs a number answer");
  EXPECT_EQ(AggregationFor(Method(v1::WEIGHTED_VOTE), Numbers(true)).status().message(),
            "qa.method: WEIGHTED_VOTE needs a choice or text answer, not a number");
  EXPECT_EQ(AggregationFor(Method(v1::TEXT_AGREEMENT), choice).status().message(),
            "qa.method: TEXT_AGREEMENT needs a text answer");
  // A method added to the schema without an implementation is refused, not voted.
  EXPECT_EQ(AggregationFor(Method(static_cast<v1::Aggregation>(99)), choice).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(VerdictsTest, OneAggregationDecidesManyTasks) {
  auto median = AggregationFor(Method(v1::MEDIAN), Numbers(true));
  ASSERT_TRUE(median.ok());
  EXPECT_EQ((*median)->Decide({"1", "9", "5"}, {.5, .5, .5}).label, "5");
  EXPECT_EQ((*median)->Decide({"4", "2", "7", "100"}, {.5, .5, .5, .5}).label, "4");
}

TEST(VerdictsTest, SpansAreVotedStretchByStretchAndRankingsByBordaCount) {
  v1::AnswerSchema spans;
  spans.mutable_spans()->set_field("text");
  spans.mutable_spans()->add_labels("PER");
  spans.mutable_spans()->add_labels("LOC");
  Verdict v = DecideVerdict(Method(v1::AGGREGATION_UNSPECIFIED), spans,
                            {"0-4:PER", "0-4:PER;13-20:LOC", "0-4:PER"}, {.5, .5, .5});
  EXPECT_EQ(v.label, "0-4:PER");
  EXPECT_EQ(v.votes, 2);
  EXPECT_EQ(v.total, 3);
  EXPECT_DOUBLE_EQ(v.confidence, (4 + 7 * (2.0 / 3)) / 11);

  v1::AnswerSchema rank;
  for (const char* f : {"m1", "m2", "m3"}) rank.mutable_ranking()->add_fields(f);
  v = DecideVerdict(Method(v1::AGGREGATION_UNSPECIFIED), rank, {"m2>m1>m3", "m2>m3>m1", "m1>m2>m3"},
                    {.5, .5, .5});
  EXPECT_EQ(v.label, "m2>m1>m3");
  EXPECT_EQ(v.votes, 1);
  EXPECT_DOUBLE_EQ(v.confidence, 7.0 / 9);

  // A comparison is a choice of "a" or "b": voted, or weighted by skill.
  v1::AnswerSchema pair;
  pair.mutable_comparison()->set_a_field("x");
  pair.mutable_comparison()->set_b_field("y");
  EXPECT_EQ(
      DecideVerdict(Method(v1::AGGREGATION_UNSPECIFIED), pair, {"a", "b", "b"}, {.5, .5, .5}).label,
      "b");
  EXPECT_EQ(DecideVerdict(Method(v1::WEIGHTED_VOTE), pair, {"a", "b", "b"}, {.99, .5, .5}).label,
            "a");
  v1::AnswerSchema shapes;
  shapes.mutable_shapes()->set_field("photo");
  shapes.mutable_shapes()->set_kind(v1::SHAPE_BOX);
  shapes.mutable_shapes()->add_labels("car");
  for (const auto* schema : {&spans, &rank, &shapes}) {
    EXPECT_EQ(AggregationFor(Method(v1::MAJORITY_VOTE), *schema).status().message(),
              "qa.method: MAJORITY_VOTE does not apply: spans, rankings and shapes have their own "
              "aggregation (leave it out)");
  }
}

TEST(VerdictsTest, BoxesMostWorkersDrewAreKeptAndAWorkerAgreesWhenTheirBoxesCoverThem) {
  v1::AnswerSchema boxes;
  boxes.mutable_shapes()->set_field("photo");
  boxes.mutable_shapes()->set_kind(v1::SHAPE_BOX);
  boxes.mutable_shapes()->add_labels("car");
  auto vote = AggregationFor(Method(v1::AGGREGATION_UNSPECIFIED), boxes);
  ASSERT_TRUE(vote.ok()) << vote.status();
  const Verdict v = (*vote)->Decide({"car:10,10,50,40", "car:12,9,52,41", ""}, {.5, .5, .5});
  EXPECT_EQ(v.label, "car:11,10,51,41");
  EXPECT_EQ(v.votes, 2);
  EXPECT_EQ(v.total, 3);
  EXPECT_TRUE((*vote)->Agrees("car:12,9,52,41", v.label));
  EXPECT_FALSE((*vote)->Agrees("", v.label));
  EXPECT_FALSE((*vote)->Agrees("car:30,25,70,60", v.label));  // drawn a quarter away

  // Points are one within the contract's radius.
  v1::AnswerSchema points = boxes;
  points.mutable_shapes()->set_kind(v1::SHAPE_POINT);
  points.mutable_shapes()->set_match_radius(3);
  auto near = AggregationFor(Method(v1::AGGREGATION_UNSPECIFIED), points);
  ASSERT_TRUE(near.ok());
  EXPECT_EQ((*near)->Decide({"car:10,10", "car:12,10", "car:20,10"}, {.5, .5, .5}).label,
            "car:11,10");
  EXPECT_EQ((*near)->Decide({"car:10,10", "car:14,10", "car:20,10"}, {.5, .5, .5}).label, "");
}

TEST(VerdictsTest, TheTextMedoidKeepsASlipInOneLetterFromSplittingTheVote) {
  v1::AnswerSchema text;
  text.mutable_text();
  // By exact agreement the three differ; within a fifth of their length in edits, two of them
  // agree with each other and the third is far from both.
  const std::vector<std::string> labels = {"mkate mmoja 1.20", "mkate moja 1.20", "maziwa 0.90"};
  Verdict v = DecideVerdict(Method(v1::TEXT_MEDOID), text, labels, {.5, .5, .5});
  EXPECT_EQ(v.label, "mkate mmoja 1.20");
  EXPECT_EQ(v.votes, 2);
  EXPECT_EQ(v.total, 3);
  EXPECT_DOUBLE_EQ(v.confidence, 2.0 / 3);
  EXPECT_EQ(DecideVerdict(Method(v1::TEXT_AGREEMENT), text, labels, {.5, .5, .5}).votes, 1);
  // A worker one letter off agrees with the medoid for their skill estimate; the far one does
  // not; an exact vote agrees only with itself.
  auto medoid = AggregationFor(Method(v1::TEXT_MEDOID), text).value();
  EXPECT_TRUE(medoid->Agrees("mkate moja 1.20", v.label));
  EXPECT_FALSE(medoid->Agrees("maziwa 0.90", v.label));
  EXPECT_FALSE(
      AggregationFor(Method(v1::TEXT_AGREEMENT), text).value()->Agrees("mkate moja 1.20", v.label));
  v1::AnswerSchema choice;
  choice.mutable_single_choice()->add_options("yes");
  EXPECT_EQ(AggregationFor(Method(v1::TEXT_MEDOID), choice).status().message(),
            "qa.method: TEXT_MEDOID needs a text answer");
}

}  // namespace
}  // namespace mw::dispatch
