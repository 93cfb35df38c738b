#include "engine/dispatch/verdicts.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "qa/majority_vote.h"
#include "qa/numeric.h"
#include "qa/ranking.h"
#include "qa/shapes.h"
#include "qa/spans.h"
#include "qa/text.h"

namespace mw::dispatch {

namespace v1 = ::microwork::v1;

namespace {

Verdict FromVote(const qa::Vote& vote) {
  return {
      .label = vote.label, .confidence = vote.confidence, .votes = vote.votes, .total = vote.total};
}

class MajorityVote final : public Aggregation {
 public:
  Verdict Decide(const std::vector<std::string>& labels,
                 const std::vector<double>& skills) const override {
    return FromVote(qa::MajorityVote(labels));
  }
};

class WeightedVote final : public Aggregation {
 public:
  explicit WeightedVote(int options) : options_(options) {}
  Verdict Decide(const std::vector<std::string>& labels,
                 const std::vector<double>& skills) const override {
    return FromVote(qa::SkillWeightedVote(labels, skills, options_));
  }

 private:
  const int options_;  // how many answers are possible (2 for text: agree or not)
};

// Median and mean of number answers; `whole` keeps the verdict a whole number.
class NumberAggregation : public Aggregation {
 public:
  explicit NumberAggregation(bool whole) : whole_(whole) {}
  Verdict Decide(const std::vector<std::string>& labels,
                 const std::vector<double>& skills) const override {
    std::vector<double> values;
    values.reserve(labels.size());
    for (const std::string& label : labels) {
      double v = 0;
      if (absl::SimpleAtod(label, &v)) values.push_back(v);  // checked on arrival (CheckAnswer)
    }
    const qa::NumberEstimate e = Estimate(values);
    return {.label = whole_ ? absl::StrCat(static_cast<int64_t>(e.value))
                            : absl::StrFormat("%.10g", e.value),
            .confidence = e.confidence,
            .votes = static_cast<int>(std::lround(e.confidence * e.count)),
            .total = e.count};
  }

 protected:
  virtual qa::NumberEstimate Estimate(const std::vector<double>& values) const = 0;
  const bool whole_;
};

class Median final : public NumberAggregation {
 public:
  using NumberAggregation::NumberAggregation;

 private:
  qa::NumberEstimate Estimate(const std::vector<double>& values) const override {
    return whole_ ? qa::LowerMedian(values) : qa::Median(values);
  }
};

class Mean final : public NumberAggregation {
 public:
  using NumberAggregation::NumberAggregation;

 private:
  qa::NumberEstimate Estimate(const std::vector<double>& values) const override {
    qa::NumberEstimate e = qa::Mean(values);
    if (whole_) e.value = std::round(e.value);  // half away from zero
    return e;
  }
};

// Text: the medoid of the largest group of answers within a fifth of their length in edits
// (qa/text.h EditDistanceCluster).
class TextMedoid final : public Aggregation {
 public:
  Verdict Decide(const std::vector<std::string>& labels,
                 const std::vector<double>& skills) const override {
    const qa::TextEstimate e = qa::EditDistanceCluster(labels, kMaxDistance);
    return {.label = e.text,
            .confidence = e.confidence,
            .votes = e.support,
            .total = static_cast<int>(labels.size())};
  }
  bool Agrees(const std::string& label, const std::string& verdict) const override {
    return qa::WithinDistance(label, verdict, kMaxDistance);
  }

 private:
  static constexpr double kMaxDistance = 0.2;
};

// Spans: a vote per stretch of text (qa/spans.h).
class SpanVote final : public Aggregation {
 public:
  Verdict Decide(const std::vector<std::string>& labels,
                 const std::vector<double>& skills) const override {
    std::vector<std::vector<qa::LabelledSpan>> answers;
    answers.reserve(labels.size());
    for (const std::string& label : labels) {
      answers.push_back(qa::ParseSpans(label).value_or(
          std::vector<qa::LabelledSpan>()));  // checked on arrival (CheckAnswer)
    }
    const qa::SpanVerdict v = qa::VoteSpans(answers);
    return {.label = qa::FormatSpans(v.spans),
            .confidence = v.confidence,
            .votes = v.votes,
            .total = v.total};
  }
};

// Shapes: matched across answers by overlap or distance, kept where most drew them
// (qa/shapes.h). An answer agrees with the verdict, for the worker's skill, when its shapes
// cover the verdict's at IoU 0.7 on average.
class ShapeVote final : public Aggregation {
 public:
  explicit ShapeVote(qa::ShapeVoteOptions options) : options_(options) {}
  Verdict Decide(const std::vector<std::string>& labels,
                 const std::vector<double>& skills) const override {
    std::vector<std::vector<qa::LabelledShape>> answers;
    answers.reserve(labels.size());
    for (const std::string& label : labels) {
      answers.push_back(qa::ParseShapes(label).value_or(
          std::vector<qa::LabelledShape>()));  // checked on arrival (CheckAnswer)
    }
    const qa::ShapeVerdict v = qa::VoteShapes(answers, options_);
    return {.label = qa::FormatShapes(v.shapes),
            .confidence = v.confidence,
            .votes = v.votes,
            .total = v.total};
  }
  bool Agrees(const std::string& label, const std::string& verdict) const override {
    auto answer = qa::ParseShapes(label), decided = qa::ParseShapes(verdict);
    return answer.has_value() && decided.has_value() &&
           qa::ShapeAgreement(*answer, *decided, options_) >= 0.7;
  }

 private:
  const qa::ShapeVoteOptions options_;
};

// Rankings: a Borda count, ties in the order the contract lists the fields (qa/ranking.h).
class Borda final : public Aggregation {
 public:
  explicit Borda(std::vector<std::string> fields) : fields_(std::move(fields)) {}
  Verdict Decide(const std::vector<std::string>& labels,
                 const std::vector<double>& skills) const override {
    std::vector<std::vector<std::string>> answers;
    answers.reserve(labels.size());
    for (const std::string& label : labels) {
      answers.push_back(absl::StrSplit(label, '>', absl::SkipEmpty()));
    }
    const qa::RankVerdict v = qa::BordaCount(answers, fields_);
    return {.label = absl::StrJoin(v.order, ">"),
            .confidence = v.confidence,
            .votes = v.votes,
            .total = v.total};
  }

 private:
  const std::vector<std::string> fields_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<const Aggregation>> AggregationFor(const v1::QaPolicy& qa,
                                                                  const v1::AnswerSchema& schema) {
  const v1::Aggregation method = qa.method();
  auto refuse = [&](absl::string_view needs) {
    return absl::InvalidArgumentError(
        absl::StrCat("qa.method: ", v1::Aggregation_Name(method), " ", needs));
  };
  if (schema.has_number()) {
    const bool whole = schema.number().integer();
    switch (method) {
      case v1::AGGREGATION_UNSPECIFIED:
      case v1::MEDIAN:
        return std::make_shared<Median>(whole);
      case v1::MEAN:
        return std::make_shared<Mean>(whole);
      default:
        return refuse("needs a choice or text answer, not a number");
    }
  }
  if (schema.has_spans() || schema.has_ranking() || schema.has_shapes()) {
    if (method != v1::AGGREGATION_UNSPECIFIED) {
      return refuse(
          "does not apply: spans, rankings and shapes have their own aggregation (leave it out)");
    }
    if (schema.has_spans()) return std::make_shared<SpanVote>();
    if (schema.has_shapes()) {
      const uint32_t radius = schema.shapes().match_radius();
      const uint32_t max = schema.shapes().max_count();
      return std::make_shared<ShapeVote>(qa::ShapeVoteOptions{
          .min_iou = 0.5, .match_radius = radius == 0 ? 20 : radius, .max_count = max ? max : 50});
    }
    return std::make_shared<Borda>(std::vector<std::string>(schema.ranking().fields().begin(),
                                                            schema.ranking().fields().end()));
  }
  switch (method) {
    case v1::AGGREGATION_UNSPECIFIED:
    case v1::MAJORITY_VOTE:
      return std::make_shared<MajorityVote>();
    case v1::TEXT_AGREEMENT:
      if (!schema.has_text()) return refuse("needs a text answer");
      return std::make_shared<MajorityVote>();
    case v1::TEXT_MEDOID:
      if (!schema.has_text()) return refuse("needs a text answer");
      return std::make_shared<TextMedoid>();
    case v1::WEIGHTED_VOTE:
      return std::make_shared<WeightedVote>(
          schema.has_single_choice() ? schema.single_choice().options_size() : 2);
    case v1::MEDIAN:
    case v1::MEAN:
      return refuse("needs a number answer");
    default:
      return refuse("has no implementation in this dispatcher");
  }
}

}  // namespace mw::dispatch
