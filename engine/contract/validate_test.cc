#include "engine/contract/validate.h"

#include "absl/strings/str_cat.h"
#include "engine/contract/contract_file.h"
#include "gtest/gtest.h"

namespace mw::contract {
namespace {

using microwork::v1::Contract;

Contract Good() {
  return LoadContractFile(std::string(MW_CONTRACT_TESTDATA) + "/good.yaml").value();
}

// Good() with a stage inserted between "label" and the merge: stages[2] is `s`, named "check".
void InsertStage(Contract* c, microwork::v1::Stage s) {
  s.set_name("check");
  s.add_after("label");
  *c->mutable_stages()->Add() = c->stages(2);
  *c->mutable_stages(2) = std::move(s);
  c->mutable_stages(3)->set_after(0, "check");
}

microwork::v1::VerifyStage GoodVote() {
  microwork::v1::VerifyStage v;
  v.set_overlap(3);
  v.set_piece_rate_minor(2);
  v.set_estimated_seconds(10);
  return v;
}

microwork::v1::Stage Verify() {
  microwork::v1::Stage s;
  *s.mutable_verify() = GoodVote();
  return s;
}

microwork::v1::Stage Iterate() {
  microwork::v1::Stage s;
  auto* it = s.mutable_iterate();
  (*it->mutable_improve()->mutable_instructions())["en"] = "Improve the summary.";
  it->mutable_improve()->mutable_answer()->mutable_text()->set_max_length(200);
  it->mutable_improve()->set_piece_rate_minor(10);
  it->mutable_improve()->set_estimated_seconds(60);
  it->mutable_improve()->set_overlap(1);
  *it->mutable_vote() = GoodVote();
  it->set_max_rounds(3);
  return s;
}

// Good() with "label" cutting each review into its sentences (pieces, text answer, overlap 1),
// "tone" on each sentence, and "back" gathering them before the merge.
Contract WithPieces() {
  Contract c = Good();
  auto* label = c.mutable_stages(1);
  label->mutable_pieces()->set_max(10);
  label->mutable_human()->mutable_answer()->mutable_text()->set_max_length(2000);
  label->mutable_human()->set_overlap(1);
  label->mutable_human()->clear_qa();
  auto tone = c.stages(1);
  tone.set_name("tone");
  tone.clear_pieces();
  tone.set_after(0, "label");
  *c.add_stages() = tone;  // stages[3]
  microwork::v1::Stage back;
  back.set_name("back");
  back.add_after("tone");
  back.mutable_gather()->set_from("label");
  *c.add_stages() = back;  // stages[4]
  c.mutable_stages(2)->set_after(0, "back");
  return c;
}

TEST(ValidateTest, PiecesCutByPeopleAndTheirGatherAreAccepted) {
  EXPECT_EQ(ValidateContract(WithPieces(), Limits()), std::vector<ContractError>{});
}

TEST(ValidateTest, BranchesAfterTheSplitAndJoinsAreAccepted) {
  // Two questions on the same rows, a stage waiting for both, and a merge after two stages.
  Contract c = Good();
  auto second = c.stages(1);
  second.set_name("tone");
  *c.add_stages() = second;
  auto join = c.stages(1);
  join.set_name("both");
  join.clear_after();
  join.add_after("label");
  join.add_after("tone");
  join.set_readiness(microwork::v1::QUORUM);
  join.set_quorum(1);
  *c.add_stages() = join;
  c.mutable_stages(2)->add_after("both");
  EXPECT_EQ(ValidateContract(c, Limits()), std::vector<ContractError>{});
}

TEST(ValidateTest, VerifyIterateAndKeyedMergesAreAccepted) {
  Contract c = Good();
  InsertStage(&c, Verify());
  EXPECT_EQ(ValidateContract(c, Limits()), std::vector<ContractError>{});
  c = Good();
  InsertStage(&c, Iterate());
  c.mutable_stages(3)->mutable_merge()->set_mode(microwork::v1::GROUP_BY_KEY);
  c.mutable_stages(3)->mutable_merge()->set_key_field("product");
  c.mutable_stages(3)->set_readiness(microwork::v1::ALL_DONE);
  EXPECT_EQ(ValidateContract(c, Limits()), std::vector<ContractError>{});
}

TEST(ValidateTest, WhatAStageDoesWithARejectionIsCheckedWhereItIsSet) {
  using microwork::v1::KEEP_PREVIOUS;
  using microwork::v1::SEND_TO_REVIEW;
  using microwork::v1::STOP_ITEM;
  auto with = [](microwork::v1::Stage s, microwork::v1::OnReject how, const std::string& keep) {
    Contract c = Good();
    s.set_on_reject(how);
    s.set_keep(keep);
    InsertStage(&c, std::move(s));
    return ValidateContract(c, Limits());
  };
  using Errors = std::vector<ContractError>;
  EXPECT_EQ(with(Verify(), SEND_TO_REVIEW, ""), Errors{});
  EXPECT_EQ(with(Verify(), STOP_ITEM, ""), Errors{});
  EXPECT_EQ(with(Verify(), KEEP_PREVIOUS, "text"), Errors{});    // an input column
  EXPECT_EQ(with(Iterate(), KEEP_PREVIOUS, "label"), Errors{});  // a human stage before it
  EXPECT_EQ(with(Verify(), KEEP_PREVIOUS, ""),
            (Errors{{"stages[2].keep",
                     "KEEP_PREVIOUS on whole items needs the field that holds the previous "
                     "version: an input column or a stage before this one"}}));
  EXPECT_EQ(with(Verify(), KEEP_PREVIOUS, "result"),
            (Errors{{"stages[2].keep",
                     "expected an input column or a human or iterate stage before this one, got "
                     "\"result\""}}));
  EXPECT_EQ(with(Verify(), KEEP_PREVIOUS, "label"),
            (Errors{{"stages[2].keep",
                     "\"label\" holds the version turned down: expected the field that holds "
                     "the one before it"}}));
  EXPECT_EQ(with(Verify(), static_cast<microwork::v1::OnReject>(7), ""),
            (Errors{{"stages[2].on_reject",
                     "expected STOP_ITEM, KEEP_PREVIOUS or SEND_TO_REVIEW, got 7"}}));
  EXPECT_EQ(with(Verify(), STOP_ITEM, "text"),
            (Errors{{"stages[2].keep", "only on_reject: KEEP_PREVIOUS keeps a field"}}));
  EXPECT_EQ(with(Iterate(), SEND_TO_REVIEW, ""),
            (Errors{{"stages[2].on_reject",
                     "SEND_TO_REVIEW is for verify stages (an iteration that ends with no version "
                     "leaves a person nothing to judge): expected STOP_ITEM or KEEP_PREVIOUS"}}));
  Contract c = Good();
  c.mutable_stages(1)->set_on_reject(STOP_ITEM);
  EXPECT_EQ(ValidateContract(c, Limits()),
            (Errors{{"stages[1].on_reject",
                     "only verify and iterate stages reject items: set it on the stage that "
                     "judges"}}));
}

TEST(ValidateTest, AGathersQuorumCountsPieces) {
  Contract c = WithPieces();  // "label" cuts at most 10 pieces; "back" gathers them
  c.mutable_stages(4)->set_readiness(microwork::v1::QUORUM);
  c.mutable_stages(4)->set_quorum(10);
  EXPECT_EQ(ValidateContract(c, Limits()), std::vector<ContractError>{});
  c.mutable_stages(4)->set_quorum(11);
  EXPECT_EQ(ValidateContract(c, Limits()),
            (std::vector<ContractError>{
                {"stages[4].quorum",
                 "a gather's QUORUM counts the pieces that succeeded: expected 1 to pieces.max of "
                 "\"label\" (10), got 11"}}));
}

TEST(ValidateTest, MediaNamesStayInsideTheirFolder) {
  for (const char* good : {"a.jpg", "scans/2026/r 12.jpg", "ünïcode.png", "..a/b..c"}) {
    EXPECT_EQ(MediaNameProblem(good), "") << good;
  }
  EXPECT_EQ(MediaNameProblem(""), "is empty");
  EXPECT_EQ(MediaNameProblem(std::string(256, 'a')), "is 256 bytes, more than 255");
  EXPECT_EQ(MediaNameProblem("/etc/passwd"),
            "is an absolute path: expected one relative to the contract");
  for (const char* bad : {"../x.jpg", "a/../../x", "a//b", "./a", "a/"}) {
    EXPECT_EQ(MediaNameProblem(bad),
              "has an empty, \".\" or \"..\" part: expected a path that stays inside its folder")
        << bad;
  }
  for (const char* bad : {"a\\b", "a\nb", "a\x7f"}) {
    EXPECT_EQ(MediaNameProblem(bad),
              "has a control character or a backslash: expected a relative path with / between "
              "folders")
        << bad;
  }
  EXPECT_EQ(MediaNameProblem("a\xff.jpg"), "is not valid UTF-8");
}

TEST(ValidateTest, GoodContractHasNoErrors) {
  EXPECT_TRUE(ValidateContract(Good(), Limits()).empty());
  EXPECT_EQ(TopologicalOrder(Good()), (std::vector<int>{0, 1, 2}));
}

struct Case {
  const char* name;
  std::function<void(Contract*)> edit;
  std::vector<ContractError> errors;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class ValidateErrorTest : public ::testing::TestWithParam<Case> {};

TEST_P(ValidateErrorTest, ReportsExactPathAndMessage) {
  Contract c = Good();
  GetParam().edit(&c);
  EXPECT_EQ(ValidateContract(c, Limits()), GetParam().errors);
}

std::string PrintCase(const ::testing::TestParamInfo<Case>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(
    OneErrorPerKind, ValidateErrorTest,
    ::testing::Values(
        Case{"GoldInputOfTwoStages",
             [](Contract* c) {
               auto* checks = c->add_inputs();
               checks->set_name("checks");
               checks->set_format(microwork::v1::FORMAT_CSV);
               checks->set_path("checks.csv");
               c->mutable_stages(1)->mutable_human()->set_gold_input("checks");
               microwork::v1::Stage again = c->stages(1);
               again.clear_after();
               InsertStage(c, again);  // "check", after "label"
             },
             {{"stages[2].human.gold_input",
               "input \"checks\" is already the gold input of stage \"label\"; give each stage "
               "its own"}}},
        Case{"SpansLabelsAndCounts",
             [](Contract* c) {
               auto* h = c->mutable_stages(1)->mutable_human();
               h->clear_qa();
               auto* sp = h->mutable_answer()->mutable_spans();
               sp->add_labels("PER;X");
               sp->add_labels("PER;X");
               sp->add_labels(" LOC");
               sp->set_max_count(60);
               sp->set_min_count(70);
             },
             {{"stages[1].human.answer.spans.field",
               "expected an item field's name (1 to 200 bytes)"},
              {"stages[1].human.answer.spans.labels[0]",
               "expected letters, digits, spaces and _-. (not ; : > | , or quotes)"},
              {"stages[1].human.answer.spans.labels[1]",
               "expected letters, digits, spaces and _-. (not ; : > | , or quotes)"},
              {"stages[1].human.answer.spans.labels[1]", "\"PER;X\" repeats"},
              {"stages[1].human.answer.spans.labels[2]",
               "expected 1 to 40 characters, without spaces at either end"},
              {"stages[1].human.answer.spans.max_count", "expected 0 to 50 (0 means 50)"},
              {"stages[1].human.answer.spans.min_count", "must be at most max_count"}}},
        Case{"SpansAreNotMajorityVoted",
             [](Contract* c) {
               auto* sp = c->mutable_stages(1)->mutable_human()->mutable_answer()->mutable_spans();
               sp->set_field("review");
               sp->add_labels("PRODUCT");
             },
             {{"stages[1].human.qa.method",
               "MAJORITY_VOTE and WEIGHTED_VOTE need a choice, comparison or text answer (spans, "
               "rankings and shapes have their own aggregation: leave qa.method out)"}}},
        Case{"ShapesOnAFieldThatIsNoImage",
             [](Contract* c) {
               auto* h = c->mutable_stages(1)->mutable_human();
               h->clear_qa();
               h->set_gold_input("checks");
               auto* checks = c->add_inputs();
               checks->set_name("checks");
               checks->set_format(microwork::v1::FORMAT_CSV);
               checks->set_path("checks.csv");
               auto* sh = h->mutable_answer()->mutable_shapes();
               sh->set_field("review");
               sh->add_labels("car");
               sh->add_labels("car");
               sh->set_max_count(51);
               sh->set_match_radius(10001);
               sh->set_max_vertices(8);
               sh->set_start_field("review");
               h->mutable_qa()->set_max_overlap(8);
             },
             {{"stages[1].human.answer.shapes.field",
               "\"review\" is no input's image: expected a field of an input's media with kind "
               "MEDIA_IMAGE"},
              {"stages[1].human.answer.shapes.kind",
               "expected SHAPE_BOX, SHAPE_POINT or SHAPE_POLYGON"},
              {"stages[1].human.answer.shapes.max_vertices",
               "this stage draws SHAPE_KIND_UNSPECIFIED: only a SHAPE_POLYGON stage has corners to "
               "count (leave it out)"},
              {"stages[1].human.answer.shapes.start_field",
               "expected the field holding the shapes to start from, not the image"},
              {"stages[1].human.answer.shapes.labels[1]", "\"car\" repeats"},
              {"stages[1].human.answer.shapes.max_count", "expected 0 to 50 (0 means 50)"},
              {"stages[1].human.answer.shapes.match_radius",
               "expected 0 to 10000 pixels (0 means 20)"},
              {"stages[1].human.qa.max_overlap",
               "shapes are compared across at most 7 answers a task"},
              {"stages[1].human.gold_input",
               "shapes are not checked against gold tasks: check them with a verify stage"}}},
        Case{"ComparisonOfOneField",
             [](Contract* c) {
               auto* p =
                   c->mutable_stages(1)->mutable_human()->mutable_answer()->mutable_comparison();
               p->set_a_field("draft");
               p->set_b_field("draft");
               p->set_ask_reason(true);
               p->set_max_reason_length(1u << 30);
             },
             {{"stages[1].human.answer.comparison.b_field", "must differ from a_field"},
              {"stages[1].human.answer.comparison.max_reason_length",
               absl::StrCat("at most ", Limits().max_text_length)}}},
        Case{"MediaOnInlineTextRows",
             [](Contract* c) {
               auto* in = c->mutable_inputs(0);
               in->set_inline_text("a\nb\n");
               in->set_format(microwork::v1::FORMAT_TEXT);
               in->set_media_folder("../photos");
               auto* m = in->add_media();
               m->set_field("photo");
               m->set_kind(microwork::v1::MEDIA_IMAGE);
               *in->add_media() = *m;
               in->add_media()->set_field("clip");
             },
             {{"inputs[0].media_folder",
               "has an empty, \".\" or \"..\" part: expected a path that stays inside its "
               "folder"},
              {"inputs[0].media",
               "media files come with an input read from a file (path), not inline"},
              {"inputs[0].media", "media fields need rows with fields: FORMAT_CSV or FORMAT_JSONL"},
              {"inputs[0].media[1].field", "\"photo\" is named by an earlier media field"},
              {"inputs[0].media[2].kind", "expected MEDIA_IMAGE or MEDIA_AUDIO"},
              {"stages[0].split.by",
               "SPLIT_ROWS needs an input in FORMAT_CSV, but \"reviews\" is FORMAT_TEXT: split it "
               "by SPLIT_LINES or SPLIT_CHARS"}}},
        Case{"RankingOfOneField",
             [](Contract* c) {
               auto* h = c->mutable_stages(1)->mutable_human();
               h->clear_qa();
               h->mutable_answer()->mutable_ranking()->add_fields("a>b");
             },
             {{"stages[1].human.answer.ranking.fields", "expected 2 to 8 fields to rank"},
              {"stages[1].human.answer.ranking.fields[0]", "must not hold '>'"}}},
        Case{"TextMedoidOfLongTexts",
             [](Contract* c) {
               auto* h = c->mutable_stages(1)->mutable_human();
               h->mutable_answer()->mutable_text()->set_max_length(2000);
               h->mutable_qa()->set_method(microwork::v1::TEXT_MEDOID);
             },
             {{"stages[1].human.answer.text.max_length",
               "TEXT_MEDOID needs a max_length of 1 to 300"}}},
        Case{"TextMedoidOfTooManyAnswers",
             [](Contract* c) {
               auto* h = c->mutable_stages(1)->mutable_human();
               h->mutable_answer()->mutable_text()->set_max_length(300);
               h->mutable_qa()->set_method(microwork::v1::TEXT_MEDOID);
               h->mutable_qa()->set_confidence_target(0.8);
               h->mutable_qa()->set_max_overlap(8);
             },
             {{"stages[1].human.qa.max_overlap", "TEXT_MEDOID compares at most 7 answers a task"}}},
        Case{"TextMedoidWithoutAMaxLength",
             [](Contract* c) {
               auto* h = c->mutable_stages(1)->mutable_human();
               h->mutable_answer()->mutable_text();
               h->mutable_qa()->set_method(microwork::v1::TEXT_MEDOID);
             },
             {{"stages[1].human.answer.text.max_length",
               "TEXT_MEDOID needs a max_length of 1 to 300"}}},
        Case{"Currency",
             [](Contract* c) { c->set_currency("dollars"); },
             {{"currency", "expected an ISO 4217 code such as USD, got \"dollars\""}}},
        Case{"ExchangeRate",
             [](Contract* c) {
               auto* r = c->add_exchange_rates();
               r->set_currency("KES");
               r->set_rate("129,50");
               r->set_agreed_at("2026-11-01T09:00:00Z");
               r->set_agreed_by("Amina Odhiambo");
             },
             {{"exchange_rates[0].rate",
               "expected a decimal rate such as \"129.50\" (at most 12 digits, 9 decimals), got "
               "\"129,50\""}}},
        Case{"ExchangeRateTwice",
             [](Contract* c) {
               for (int i = 0; i < 2; ++i) {
                 auto* r = c->add_exchange_rates();
                 r->set_currency("KES");
                 r->set_rate("129.50");
                 r->set_agreed_at("2026-11-01T09:00:00Z");
                 r->set_agreed_by("Amina Odhiambo");
               }
             },
             {{"exchange_rates[1].currency", "a rate for KES is agreed already"}}},
        Case{"ExchangeRateUnagreed",
             [](Contract* c) {
               auto* r = c->add_exchange_rates();
               r->set_currency(c->currency());
               r->set_rate("1");
             },
             {{"exchange_rates[0].currency",
               "expected the ISO 4217 code of a centre's currency other than the contract's, got "
               "\"USD\""},
              {"exchange_rates[0].agreed_at", "expected the RFC 3339 time it was agreed, got \"\""},
              {"exchange_rates[0].agreed_by", "must name who agreed the rate"}}},
        Case{"PlatformFee",
             [](Contract* c) { c->set_platform_fee_per_mille(900); },
             {{"platform_fee_per_mille", "expected 0 to 500 (thousandths of each wage), got 900"}}},
        Case{"Budget",
             [](Contract* c) { c->set_budget_minor(0); },
             {{"budget_minor", "must be a positive amount in minor units, got 0"}}},
        Case{"Deadline",
             [](Contract* c) { c->set_deadline("tomorrow"); },
             {{"deadline",
               "expected an RFC 3339 time such as 2026-12-31T18:00:00Z, got \"tomorrow\""}}},
        Case{"PieceRate",
             [](Contract* c) { c->mutable_stages(1)->mutable_human()->set_piece_rate_minor(0); },
             {{"stages[1].human.piece_rate_minor",
               "must be a positive amount in minor units, got 0"}}},
        Case{"Overlap",
             [](Contract* c) { c->mutable_stages(1)->mutable_human()->set_overlap(0); },
             {{"stages[1].human.overlap", "expected 1 to 15, got 0"}}},
        Case{
            "Seconds",
            [](Contract* c) { c->mutable_stages(1)->mutable_human()->set_estimated_seconds(4000); },
            {{"stages[1].human.estimated_seconds", "expected 1 to 3600, got 4000"}}},
        Case{"NoEnglish",
             [](Contract* c) {
               c->mutable_stages(1)->mutable_human()->mutable_instructions()->erase("en");
             },
             {{"stages[1].human.instructions", "needs instructions in English (key \"en\")"}}},
        Case{"OneOption",
             [](Contract* c) {
               auto* o = c->mutable_stages(1)
                             ->mutable_human()
                             ->mutable_answer()
                             ->mutable_single_choice()
                             ->mutable_options();
               o->erase(o->begin() + 1, o->end());
             },
             {{"stages[1].human.answer.single_choice.options", "needs at least two options"}}},
        Case{"UnknownAfter",
             [](Contract* c) { c->mutable_stages(1)->set_after(0, "rowz"); },
             {{"stages[1].after[0]", "no stage is named \"rowz\""}}},
        Case{
            "Cycle",
            [](Contract* c) { c->mutable_stages(1)->set_after(0, "result"); },
            {{"stages[2].after", "\"result\" and \"label\" form a cycle; stages must form a DAG"}}},
        Case{"DuplicateStage",
             [](Contract* c) { c->mutable_stages(2)->set_name("label"); },
             {{"stages[2].name", "\"label\" is used by an earlier stage"}}},
        Case{"SplitFormat",
             [](Contract* c) { c->mutable_inputs(0)->set_format(microwork::v1::FORMAT_JSONL); },
             {{"stages[0].split.by",
               "SPLIT_ROWS needs an input in FORMAT_CSV, but \"reviews\" is FORMAT_JSONL: split it "
               "by SPLIT_RECORDS"}}},
        Case{"SplitInput",
             [](Contract* c) { c->mutable_stages(0)->mutable_split()->set_input("photos"); },
             {{"stages[0].split.input", "no input is named \"photos\""}}},
        Case{"NoKind",
             [](Contract* c) { c->mutable_stages(2)->clear_merge(); },
             {{"stages[2]", "needs exactly one of split, human, verify, iterate, merge, gather"}}},
        Case{"DepthCap",
             [](Contract* c) { c->mutable_caps()->set_max_depth(2); },
             {{"stages[2]", "is 3 stages deep; the cap is 2"}}},
        Case{"VerifyTargetNotBefore",
             [](Contract* c) {
               auto v = Verify();
               v.mutable_verify()->set_target("rows");
               InsertStage(c, v);
             },
             {{"stages[2].verify.target",
               "expected the stage it is after, \"label\", got \"rows\""}}},
        Case{"VerifyOverlap",
             [](Contract* c) {
               auto v = Verify();
               v.mutable_verify()->set_overlap(0);
               InsertStage(c, v);
             },
             {{"stages[2].verify.overlap", "expected 1 to 15, got 0"}}},
        Case{"VerifyAfterSplit",
             [](Contract* c) {
               *c->mutable_stages(1) = Verify();
               c->mutable_stages(1)->set_name("label");
               c->mutable_stages(1)->add_after("rows");
             },
             {{"stages[1].verify.target",
               "\"rows\" is not a human stage; only human stages' answers are verified (an "
               "iterate stage votes on its own)"},
              {"stages[1].after", "the stage after a split must be a human or iterate stage"}}},
        Case{"IterateImproveIsText",
             [](Contract* c) {
               auto s = Iterate();
               s.mutable_iterate()->mutable_improve()->mutable_answer()->mutable_number();
               InsertStage(c, s);
             },
             {{"stages[2].iterate.improve.answer", "an improvement is a text answer"}}},
        Case{"IterateOneImprover",
             [](Contract* c) {
               auto s = Iterate();
               s.mutable_iterate()->mutable_improve()->set_overlap(3);
               InsertStage(c, s);
             },
             {{"stages[2].iterate.improve.overlap", "one worker improves each round: expected 1"}}},
        Case{"IterateRounds",
             [](Contract* c) {
               auto s = Iterate();
               s.mutable_iterate()->set_max_rounds(11);
               InsertStage(c, s);
             },
             {{"stages[2].iterate.max_rounds", "expected 1 to 10, got 11"}}},
        Case{"IterateVoteRate",
             [](Contract* c) {
               auto s = Iterate();
               s.mutable_iterate()->mutable_vote()->set_piece_rate_minor(0);
               InsertStage(c, s);
             },
             {{"stages[2].iterate.vote.piece_rate_minor",
               "must be a positive amount in minor units, got 0"}}},
        Case{"GroupByNeedsKey",
             [](Contract* c) {
               c->mutable_stages(2)->mutable_merge()->set_mode(microwork::v1::GROUP_BY_KEY);
             },
             {{"stages[2].merge.key_field",
               "GROUP_BY_KEY needs the field to group by: an input column or a stage's name"}}},
        Case{"QuorumAboveDependencies",
             [](Contract* c) {
               c->mutable_stages(1)->set_readiness(microwork::v1::QUORUM);
               c->mutable_stages(1)->set_quorum(2);
             },
             {{"stages[1].quorum",
               "QUORUM readiness needs a quorum of 1 to the 1 stages it is after, got 2"}}},
        Case{"PiecesOnAChoice",
             [](Contract* c) { c->mutable_stages(1)->mutable_pieces()->set_max(3); },
             {{"stages[1].human.answer",
               "a stage that cuts pieces has a text answer, one per line"},
              {"stages[1].human.overlap",
               "one worker cuts each item into pieces: expected 1 (a verify after it can check "
               "each piece)"},
              {"stages[2].after",
               "a merge comes after stages that work on whole items: gather the pieces first"},
              {"stages[1].pieces", "needs exactly one gather stage to take its pieces back, has 0"}}},
        Case{"AfterTwice",
             [](Contract* c) { c->mutable_stages(2)->add_after("label"); },
             {{"stages[2].after", "\"label\" is named twice"}}},
        Case{"AfterTheSplitAndAStage",
             [](Contract* c) {
               auto s = c->stages(1);
               s.set_name("second");
               *c->add_stages() = s;  // stages[3]: after the split
               c->mutable_stages(3)->add_after("label");
             },
             {{"stages[3].after",
               "a stage after the split is after nothing else: it takes every item as it comes"}}},
        Case{"VerifyAfterTwo",
             [](Contract* c) {
               auto tone = c->stages(1);
               tone.set_name("tone");
               *c->add_stages() = tone;
               auto s = Verify();
               s.set_name("check");
               s.add_after("label");
               s.add_after("tone");
               *c->add_stages() = s;
             },
             {{"stages[4].after", "a verify stage consumes exactly one stage"}}},
        Case{"Barrier",
             [](Contract* c) { c->mutable_stages(2)->set_barrier(true); },
             {{"stages[2].barrier",
               "stage-wide barriers are not supported by this dispatcher yet"}}},
        Case{"JudgedFieldInContract",
             [](Contract* c) { c->mutable_stages(1)->mutable_human()->set_judged_field("label"); },
             {{"stages[1].human",
               "judged_field, previous_field and judged_answer are set by the dispatcher only"}}},
        Case{"MethodForAnswer",
             [](Contract* c) {
               c->mutable_stages(1)->mutable_human()->mutable_qa()->set_method(
                   microwork::v1::MEDIAN);
             },
             {{"stages[1].human.qa.method", "MEDIAN and MEAN need a number answer"}}}),
    PrintCase);

class PieceErrorTest : public ::testing::TestWithParam<Case> {};

TEST_P(PieceErrorTest, ReportsExactPathAndMessage) {
  Contract c = WithPieces();
  GetParam().edit(&c);
  EXPECT_EQ(ValidateContract(c, Limits()), GetParam().errors);
}

// WithPieces(): stages rows, label (cuts), result (merge), tone (on pieces), back (gather).
INSTANTIATE_TEST_SUITE_P(
    OneErrorPerKind, PieceErrorTest,
    ::testing::Values(
        Case{"GatherFromAStageThatDoesNotCut",
             [](Contract* c) { c->mutable_stages(4)->mutable_gather()->set_from("tone"); },
             {{"stages[4].gather.from", "expected a stage that cuts pieces, got \"tone\""},
              {"stages[1].pieces",
               "needs exactly one gather stage to take its pieces back, has 0"}}},
        Case{"MergeOfPieces",
             [](Contract* c) { c->mutable_stages(2)->set_after(0, "tone"); },
             {{"stages[2].after",
               "a merge comes after stages that work on whole items: gather the pieces first"}}},
        Case{"JoinOfPiecesAndWholeItems",
             [](Contract* c) {
               auto both = c->stages(3);
               both.set_name("both");
               both.set_after(0, "back");
               both.add_after("tone");
               *c->add_stages() = both;  // stages[5]
               c->mutable_stages(2)->set_after(0, "both");
             },
             {{"stages[5].after",
               "\"back\" and \"tone\" hand on different items (pieces of different stages, "
               "or pieces and whole items); a stage waits for stages of one kind"}}},
        Case{"TooManyPieces",
             [](Contract* c) { c->mutable_stages(1)->mutable_pieces()->set_max(2000); },
             {{"stages[1].pieces.max", "expected 1 to 100, got 2000"}}},
        Case{"ExpectedAboveMax",
             [](Contract* c) { c->mutable_stages(1)->mutable_pieces()->set_expected(11); },
             {{"stages[1].pieces.expected", "at most pieces.max (10), got 11"}}}),
    PrintCase);

// Good() with `count` human stages in a chain between the split and the merge.
Contract LongChain(int count) {
  Contract c = Good();
  const microwork::v1::Stage label = c.stages(1);
  const microwork::v1::Stage merge = c.stages(2);
  c.mutable_stages()->DeleteSubrange(1, 2);
  std::string previous = "rows";
  for (int i = 0; i < count; ++i) {
    microwork::v1::Stage s = label;
    s.set_name(absl::StrCat("s", i));
    s.set_after(0, previous);
    previous = s.name();
    *c.add_stages() = std::move(s);
  }
  microwork::v1::Stage m = merge;
  m.set_after(0, previous);
  *c.add_stages() = std::move(m);
  return c;
}

TEST(ValidateTest, TooManyStagesIsOneErrorAndNothingMoreIsChecked) {
  // 20,000 stages once crashed the dispatcher: the check of the count did not stop the
  // recursive search for cycles behind it.
  auto errors = ValidateContract(LongChain(20'000), Limits());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], (ContractError{"stages", "at most 32 stages, got 20002"}));
}

TEST(ValidateTest, AHundredThousandStagesAreCheckedWithoutRecursion) {
  // An installation that raised its caps still gets an answer, not a stack overflow.
  Limits big;
  big.max_stages = 200'000;
  big.max_depth = 200'000;
  Contract c = LongChain(100'000);
  EXPECT_EQ(ValidateContract(c, big), std::vector<ContractError>{});
  EXPECT_EQ(TopologicalOrder(c).size(), 100'002u);
  EXPECT_EQ(TopologicalOrder(c).back(), 100'001);
  big.max_depth = 1000;
  EXPECT_EQ(ValidateContract(c, big),
            (std::vector<ContractError>{{"stages[1000]", "is 1001 stages deep; the cap is 1000"}}));
  // A cycle at the far end of the chain is found and named.
  c.mutable_stages(1)->set_after(0, "s99999");
  EXPECT_EQ(ValidateContract(c, big),
            (std::vector<ContractError>{
                {"stages[99999].after",
                 "\"s99998\" and \"s99997\" form a cycle; stages must form a DAG"}}));
}

TEST(ValidateTest, EveryErrorIsReportedAtOnce) {
  Contract c = Good();
  c.set_currency("");
  c.set_budget_minor(-1);
  c.mutable_stages(1)->mutable_human()->set_piece_rate_minor(-5);
  auto errors = ValidateContract(c, Limits());
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(ErrorsToStatus(errors).message(),
            "currency: expected an ISO 4217 code such as USD, got \"\"\n"
            "budget_minor: must be a positive amount in minor units, got -1\n"
            "stages[1].human.piece_rate_minor: must be a positive amount in minor units, got -5");
}

}  // namespace
}  // namespace mw::contract
