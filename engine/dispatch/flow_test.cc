// DAG semantics: how verify and iterate stages move items (flow.h), and the same through a real
// engine: Find-Fix-Verify with a rejection, an iteration with an early stop, keyed merges, and
// a restart in the middle.
#include "engine/dispatch/flow.h"

#include <map>

#include "engine/contract/contract_file.h"
#include "engine/contract/validate.h"
#include "engine/dispatch/engine_test_fixture.h"
#include "gmock/gmock.h"

namespace mw::dispatch {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

constexpr char kFindFixVerify[] = R"(
name: Receipts
client: acme
currency: USD
budget_minor: 10000
inputs:
  - name: receipts
    format: FORMAT_CSV
    inline_text: "id,ocr\n1,T0TAL 12.5O\n2,TOTAL 3.00\n3,T0TAL 9.99\n"
stages:
  - name: rows
    split: {input: receipts, by: SPLIT_ROWS}
  - name: fix
    after: [rows]
    human:
      instructions: {en: "Type the total as printed."}
      answer: {text: {max_length: 20}}
      piece_rate_minor: 4
      estimated_seconds: 20
      overlap: 1
  - name: check
    after: [fix]
    verify: {overlap: 2, piece_rate_minor: 2, estimated_seconds: 10}
  - name: tidy
    after: [check]
    READINESS
    human:
      instructions: {en: "Is the receipt legible?"}
      answer: {single_choice: {options: [legible, faded]}}
      piece_rate_minor: 3
      estimated_seconds: 10
      overlap: 1
  - name: out
    after: [tidy]
    merge: {}
)";

std::string WithReadiness(const std::string& readiness) {
  std::string text = kFindFixVerify;
  text.replace(text.find("READINESS"), 9, readiness);
  return text;
}

v1::Item MakeItem(uint64_t index) {
  v1::Item item;
  item.set_index(index);
  SetField(&item, "id", absl::StrCat(index + 1));
  return item;
}

std::vector<std::string> Names(const v1::Item& item) {
  std::vector<std::string> out;
  for (const auto& f : item.fields()) out.push_back(absl::StrCat(f.name(), "=", f.value()));
  return out;
}

// Applies the verdict `label` of step `pos` to `item`, as VerdictRecorder::Decide does: returns
// the step of the same stage it goes to next, or, when it leaves the stage, the stages that start
// (and `item` becomes what the first of them sees).
std::vector<int> Move(const std::vector<Step>& flow, int pos, const std::string& label,
                      v1::Item* item, ItemFlight* flight) {
  const int next = Advance(flow, pos, label, item);
  if (next != Step::kLeave) {
    Enter(flow[next], item);
    return {next};
  }
  const std::string* value = FindField(*item, flow[pos].stage);
  std::vector<int> started = Settle(flow, flow[pos].entry, LeftAs(flow, pos, *item),
                                    value != nullptr ? *value : "", flight);
  if (!started.empty()) {
    v1::Item entered = EntryItem(flow, started[0], *flight, *item);
    Enter(flow[started[0]], &entered);
    *item = std::move(entered);
  }
  return started;
}

// The status of an item of a one-stage flow that leaves the stage at step `pos` as `item` says.
std::string StatusOf(const std::vector<Step>& flow, int pos, const v1::Item& item) {
  ItemFlight flight = StartFlight(flow);
  Settle(flow, flow[pos].entry, LeftAs(flow, pos, item), "", &flight);
  return ItemStatus(flow, flight);
}

TEST(FlowTest, AnExportedItemKeepsEveryFieldOfTheItemBesidesItsFieldsInPlace) {
  // The header is copied field by field (flow.cc Header): a field added to Item must be added
  // there, and here.
  ASSERT_EQ(v1::Item::descriptor()->field_count(), 6)
      << "Item has a new field: copy it in flow.cc's Header, then count it here";
  auto strict = BuildFlow(*contract::ParseContract(WithReadiness(""), "c.yaml"));
  v1::Item item = MakeItem(0);
  item.set_index(7);
  item.set_source_line(9);
  item.set_parent(3);
  item.set_position(2);
  item.set_cut_by("split");
  const v1::Item out = ExportedItem(strict, item);
  EXPECT_EQ(out.index(), 7u);
  EXPECT_EQ(out.source_line(), 9u);
  EXPECT_EQ(out.parent(), 3u);
  EXPECT_EQ(out.position(), 2u);
  EXPECT_EQ(out.cut_by(), "split");
  EXPECT_THAT(Names(out), ElementsAre("id=1", "fix=", "check=", "tidy="));
}

// An export takes the item's own fields instead of copying them (EntryItem from an rvalue,
// ExportedItem): the same fields in the same order as the copies have, and the very objects.
TEST(FlowTest, TheExportMovesTheItemsFieldsAndMakesWhatTheCopyWouldHaveMade) {
  auto flow = BuildFlow(*contract::ParseContract(WithReadiness(""), "c.yaml"));
  v1::Item item = MakeItem(4);
  SetField(&item, "fix", "T0TAL 1");  // a stage's field in the input: replaced, not kept
  SetField(&item, "fix.new", "TOTAL 1");
  SetField(&item, "ocr", "T0TAL 12.5O");
  v1::Field* photo = item.add_fields();  // a media field keeps its media
  photo->set_name("photo");
  photo->set_value("r1.jpg");
  photo->mutable_media()->set_sha256("ab");
  v1::Field* tidy = item.add_fields();  // a stage's field with media: its name and value alone
  tidy->set_name("tidy");
  tidy->set_value("faded");
  tidy->mutable_media()->set_sha256("cd");
  SetField(&item, "check", "yes");
  item.add_fields()->set_name("check");  // a second one: the first is the stage's

  ItemFlight flight = StartFlight(flow);
  Settle(flow, EntryOf(flow, "fix"), StageState::kSucceeded, "TOTAL 12.50", &flight);
  const int check = EntryOf(flow, "check");
  const v1::Item copied = EntryItem(flow, check, flight, item);
  v1::Item source = item;
  const v1::Field* ocr = &source.fields(3);
  ASSERT_EQ(ocr->name(), "ocr");
  const v1::Item moved = EntryItem(flow, check, flight, std::move(source));
  EXPECT_EQ(moved.SerializeAsString(), copied.SerializeAsString());
  EXPECT_THAT(Names(moved),
              ElementsAre("id=5", "ocr=T0TAL 12.5O", "photo=r1.jpg", "fix=TOTAL 12.50"));
  EXPECT_EQ(&moved.fields(1), ocr);  // the same object, not a copy
  EXPECT_EQ(source.fields_size(), 0);

  const v1::Item exported = ExportedItem(flow, item);
  EXPECT_THAT(Names(exported),
              ElementsAre("id=5", "fix.new=TOTAL 1", "ocr=T0TAL 12.5O", "photo=r1.jpg",
                          "fix=T0TAL 1", "check=yes", "tidy=faded"));
  EXPECT_EQ(exported.fields(3).media().sha256(), "ab");
  EXPECT_FALSE(exported.fields(6).has_media());
  EXPECT_EQ(exported.fields_size(), 7);
}

TEST(FlowTest, AVerifyRejectionSkipsTheRestUnlessTheNextStageTakesAllDone) {
  auto strict = BuildFlow(*contract::ParseContract(WithReadiness(""), "c.yaml"));
  ASSERT_EQ(strict.size(), 3u);
  EXPECT_EQ(strict[1].role, Step::Role::kVerify);
  EXPECT_EQ(strict[1].human.judged_field(), "fix");
  EXPECT_THAT(strict[1].human.answer().single_choice().options(), ElementsAre("yes", "no"));
  EXPECT_EQ(strict[1].human.piece_rate_minor(), 2);
  EXPECT_EQ(strict[1].human.overlap(), 2u);

  v1::Item item = MakeItem(0);
  ItemFlight flight = StartFlight(strict);
  EXPECT_THAT(Move(strict, 0, "12.50", &item, &flight), ElementsAre(1));
  EXPECT_EQ(Advance(strict, 1, "no", &item), Step::kLeave);
  EXPECT_EQ(LeftAs(strict, 1, item).state, StageState::kRejected);
  std::vector<int> settled;
  EXPECT_THAT(Settle(strict, 1, StageState::kRejected, "no", &flight, &settled), IsEmpty());
  EXPECT_THAT(settled, ElementsAre(1, 2));  // check, and tidy skipped
  EXPECT_TRUE(flight.finished());
  EXPECT_EQ(flight.state[2], StageState::kSkipped);
  EXPECT_EQ(ItemStatus(strict, flight), "rejected by check");
  EXPECT_THAT(Names(ExportedItem(strict, item)),
              ElementsAre("id=1", "fix=12.50", "check=no", "tidy="));
  v1::Item good = MakeItem(1);
  ItemFlight good_flight = StartFlight(strict);
  Move(strict, 0, "3.00", &good, &good_flight);
  EXPECT_THAT(Move(strict, 1, "yes", &good, &good_flight), ElementsAre(2));
  EXPECT_THAT(Names(good), ElementsAre("id=2", "fix=3.00", "check=yes"));
  EXPECT_THAT(Move(strict, 2, "legible", &good, &good_flight), IsEmpty());
  EXPECT_TRUE(good_flight.finished());
  EXPECT_EQ(ItemStatus(strict, good_flight), "succeeded");

  auto lenient = BuildFlow(*contract::ParseContract(WithReadiness("readiness: ALL_DONE"), "c"));
  v1::Item rejected = MakeItem(2);
  ItemFlight lenient_flight = StartFlight(lenient);
  Move(lenient, 0, "9.99", &rejected, &lenient_flight);
  EXPECT_THAT(Move(lenient, 1, "no", &rejected, &lenient_flight), ElementsAre(2));  // tidy runs
  EXPECT_THAT(Move(lenient, 2, "faded", &rejected, &lenient_flight), IsEmpty());
  EXPECT_TRUE(lenient_flight.finished());
  EXPECT_EQ(ItemStatus(lenient, lenient_flight), "rejected by check");
}

constexpr char kTranslate[] = R"(
name: Phrases
client: acme
currency: USD
budget_minor: 10000
inputs:
  - name: phrases
    format: FORMAT_CSV
    inline_text: "doc,en\na,Good morning\na,Thank you\nb,Where is the clinic?\n"
stages:
  - name: rows
    split: {input: phrases, by: SPLIT_ROWS}
  - name: sw
    after: [rows]
    iterate:
      improve:
        instructions: {en: "Translate into Kiswahili, or improve the translation."}
        answer: {text: {max_length: 200}}
        piece_rate_minor: 6
        estimated_seconds: 30
        overlap: 1
      vote: {overlap: 1, piece_rate_minor: 2, estimated_seconds: 10}
      max_rounds: 3
  - name: out
    after: [sw]
    merge: {mode: MERGE_MODE, key_field: doc, separator: " / "}
)";

std::string Translate(const std::string& mode) {
  std::string text = kTranslate;
  text.replace(text.find("MERGE_MODE"), 10, mode);
  return text;
}

TEST(FlowTest, AnIterationStopsWhenAVoteKeepsTheVersionOrAtItsRoundCap) {
  auto flow = BuildFlow(*contract::ParseContract(Translate("GROUP_BY_KEY"), "c.yaml"));
  ASSERT_EQ(flow.size(), 6u);  // three rounds of improve and vote
  EXPECT_EQ(flow[0].name, "sw.r1");
  EXPECT_EQ(flow[1].name, "sw.r1.vote");
  EXPECT_EQ(flow[5].name, "sw.r3.vote");
  EXPECT_EQ(flow[1].human.judged_field(), "sw.new");
  EXPECT_EQ(flow[1].human.previous_field(), "sw");

  // Round 1 adopted, round 2 rejected: the first version stands, two rounds were enough.
  v1::Item item = MakeItem(0);
  Enter(flow[0], &item);
  EXPECT_THAT(Names(item), ElementsAre("id=1", "sw="));
  EXPECT_EQ(Advance(flow, 0, "Habari za asubuhi", &item), 1);
  EXPECT_THAT(Names(item), ElementsAre("id=1", "sw=", "sw.new=Habari za asubuhi"));
  EXPECT_EQ(Advance(flow, 1, "new", &item), 2);
  EXPECT_EQ(Advance(flow, 2, "Habari ya asubuhi", &item), 3);
  EXPECT_EQ(Advance(flow, 3, "previous", &item), Step::kLeave);
  EXPECT_EQ(LeftAs(flow, 3, item).state, StageState::kSucceeded);
  EXPECT_THAT(Names(item), ElementsAre("id=1", "sw=Habari za asubuhi"));
  EXPECT_EQ(StatusOf(flow, 3, item), "succeeded");

  // An improvement that changes nothing settles it without a vote.
  v1::Item same = MakeItem(3);
  Enter(flow[0], &same);
  Advance(flow, 0, "Asante", &same);
  EXPECT_EQ(Advance(flow, 1, "new", &same), 2);
  EXPECT_EQ(Advance(flow, 2, "Asante", &same), Step::kLeave);
  EXPECT_EQ(LeftAs(flow, 2, same).state, StageState::kSucceeded);
  EXPECT_THAT(Names(same), ElementsAre("id=4", "sw=Asante"));

  // Every round improves: it stops at the cap with the last version.
  v1::Item capped = MakeItem(1);
  for (int pos = 0; pos < 6; pos += 2) {
    Advance(flow, pos, absl::StrCat("v", pos), &capped);
    EXPECT_EQ(Advance(flow, pos + 1, "new", &capped), pos == 4 ? Step::kLeave : pos + 2);
  }
  EXPECT_THAT(Names(capped), ElementsAre("id=2", "sw=v4"));

  // No round is accepted: no version, the item is rejected.
  v1::Item none = MakeItem(2);
  Enter(flow[0], &none);
  for (int pos = 0; pos < 6; pos += 2) {
    Advance(flow, pos, "???", &none);
    EXPECT_EQ(Advance(flow, pos + 1, "previous", &none), pos == 4 ? Step::kLeave : pos + 2);
  }
  EXPECT_EQ(LeftAs(flow, 5, none).state, StageState::kRejected);
  EXPECT_EQ(StatusOf(flow, 5, none), "rejected by sw");
}

TEST(FlowTest, AStageAfterAnIterationFollowsEveryWayOut) {
  std::string text = Translate("CONCATENATE");
  const std::string merge = "  - name: out\n    after: [sw]";
  text.replace(
      text.find(merge), merge.size(),
      "  - name: tone\n    after: [sw]\n    human:\n      instructions: {en: Is it polite}\n"
      "      answer: {single_choice: {options: [polite, rude]}}\n"
      "      piece_rate_minor: 2\n      estimated_seconds: 5\n      overlap: 1\n"
      "  - name: out\n    after: [tone]");
  auto flow = BuildFlow(*contract::ParseContract(text, "c.yaml"));
  ASSERT_EQ(flow.size(), 7u);
  EXPECT_EQ(flow[4].next, 5);  // the last round's improvement still goes to its vote
  EXPECT_THAT(flow[0].followers, ElementsAre(6));
  EXPECT_THAT(flow[6].after, ElementsAre(0));
  v1::Item item = MakeItem(0);
  ItemFlight flight = StartFlight(flow);
  Enter(flow[0], &item);
  Move(flow, 0, "a", &item, &flight);
  Move(flow, 1, "new", &item, &flight);
  Move(flow, 2, "b", &item, &flight);
  Move(flow, 3, "new", &item, &flight);
  EXPECT_THAT(Move(flow, 4, "c", &item, &flight), ElementsAre(5));
  EXPECT_THAT(Move(flow, 5, "new", &item, &flight), ElementsAre(6));  // the cap: on to "tone"
  EXPECT_THAT(Names(item), ElementsAre("id=1", "sw=c"));
  v1::Item early = MakeItem(1);
  ItemFlight early_flight = StartFlight(flow);
  Enter(flow[0], &early);
  Move(flow, 0, "a", &early, &early_flight);
  Move(flow, 1, "new", &early, &early_flight);
  EXPECT_THAT(Move(flow, 2, "a", &early, &early_flight), ElementsAre(6));  // unchanged: "tone"
  v1::Item none = MakeItem(2);
  ItemFlight none_flight = StartFlight(flow);
  Enter(flow[0], &none);
  for (int pos = 0; pos < 4; pos += 2) {
    Move(flow, pos, "?", &none, &none_flight);
    Move(flow, pos + 1, "previous", &none, &none_flight);
  }
  Move(flow, 4, "?", &none, &none_flight);
  EXPECT_THAT(Move(flow, 5, "previous", &none, &none_flight), IsEmpty());  // "tone" needs success
  EXPECT_TRUE(none_flight.finished());
}

// Two questions on the same rows run side by side; a third waits for both (and for the first's
// check), by its readiness.
constexpr char kBranches[] = R"(
name: Posts
client: acme
currency: USD
budget_minor: 10000
inputs:
  - name: posts
    format: FORMAT_CSV
    inline_text: "id,text\n1,Goal in the last minute\n2,Rates go up again\n"
stages:
  - name: rows
    split: {input: posts, by: SPLIT_ROWS}
  - name: topic
    after: [rows]
    human:
      instructions: {en: "What is the post about?"}
      answer: {single_choice: {options: [news, sport]}}
      piece_rate_minor: 3
      estimated_seconds: 10
      overlap: 1
  - name: check
    after: [topic]
    verify: {overlap: 1, piece_rate_minor: 1, estimated_seconds: 5}
  - name: toxic
    after: [rows]
    human:
      instructions: {en: "Is the post abusive?"}
      answer: {single_choice: {options: [abusive, fine]}}
      piece_rate_minor: 2
      estimated_seconds: 10
      overlap: 1
  - name: summary
    after: [check, toxic]
    READINESS
    human:
      instructions: {en: "Sum the post up in a few words."}
      answer: {text: {max_length: 80}}
      piece_rate_minor: 5
      estimated_seconds: 30
      overlap: 1
  - name: out
    after: [summary, toxic]
    merge: {}
)";

std::string Branches(const std::string& readiness) {
  std::string text = kBranches;
  text.replace(text.find("READINESS"), 9, readiness);
  return text;
}

// The position of the first step of stage `name`.
int At(const std::vector<Step>& flow, const std::string& name) {
  for (size_t p = 0; p < flow.size(); ++p) {
    if (flow[p].stage == name) return static_cast<int>(p);
  }
  ADD_FAILURE() << "no stage " << name;
  return 0;
}

TEST(FlowTest, StagesAfterTheSplitRunSideBySideAndAJoinWaitsByItsReadiness) {
  auto flow = BuildFlow(*contract::ParseContract(Branches(""), "c.yaml"));
  ASSERT_EQ(flow.size(), 4u);
  const int topic = At(flow, "topic"), check = At(flow, "check"), toxic = At(flow, "toxic"),
            summary = At(flow, "summary");
  EXPECT_THAT(flow[summary].after, ElementsAre(check, toxic));
  EXPECT_THAT(flow[summary].ancestors, ElementsAre(topic, check, toxic));
  EXPECT_THAT(flow[topic].followers, ElementsAre(check));

  // Both questions start at once; the summary waits for the check and for toxic.
  ItemFlight f = StartFlight(flow);
  EXPECT_EQ(f.state[topic], StageState::kRunning);
  EXPECT_EQ(f.state[toxic], StageState::kRunning);
  EXPECT_EQ(f.state[summary], StageState::kWaiting);
  EXPECT_EQ(f.unsettled, 4);
  EXPECT_THAT(Settle(flow, topic, StageState::kSucceeded, "sport", &f), ElementsAre(check));
  EXPECT_THAT(Settle(flow, toxic, StageState::kSucceeded, "fine", &f), IsEmpty());
  EXPECT_THAT(Settle(flow, check, StageState::kSucceeded, "yes", &f), ElementsAre(summary));
  // The summary sees the input and every stage before it, whichever branch it came from.
  v1::Item item = MakeItem(0);
  SetField(&item, "toxic", "fine");
  EXPECT_THAT(Names(EntryItem(flow, summary, f, item)),
              ElementsAre("id=1", "topic=sport", "check=yes", "toxic=fine"));
  EXPECT_FALSE(f.finished());
  std::vector<int> settled;
  EXPECT_THAT(Settle(flow, summary, StageState::kSucceeded, "late goal", &f, &settled), IsEmpty());
  EXPECT_THAT(settled, ElementsAre(summary));
  EXPECT_TRUE(f.finished());

  // ALL_SUCCEEDED: a rejected check skips the summary at once; the item still waits for toxic.
  ItemFlight g = StartFlight(flow);
  Settle(flow, topic, StageState::kSucceeded, "news", &g);
  settled.clear();
  EXPECT_THAT(Settle(flow, check, StageState::kRejected, "no", &g, &settled), IsEmpty());
  EXPECT_THAT(settled, ElementsAre(check, summary));
  EXPECT_FALSE(g.finished());
  EXPECT_THAT(Settle(flow, toxic, StageState::kSucceeded, "fine", &g), IsEmpty());
  EXPECT_TRUE(g.finished());
}

TEST(FlowTest, AllDoneWaitsForEveryBranchAndAQuorumStartsWithoutTheRest) {
  auto all_done = BuildFlow(*contract::ParseContract(Branches("readiness: ALL_DONE"), "c.yaml"));
  const int topic = At(all_done, "topic"), check = At(all_done, "check"),
            toxic = At(all_done, "toxic"), summary = At(all_done, "summary");
  ItemFlight f = StartFlight(all_done);
  Settle(all_done, topic, StageState::kSucceeded, "news", &f);
  EXPECT_THAT(Settle(all_done, check, StageState::kRejected, "no", &f), IsEmpty());
  EXPECT_THAT(Settle(all_done, toxic, StageState::kRejected, "", &f), ElementsAre(summary));

  auto quorum =
      BuildFlow(*contract::ParseContract(Branches("readiness: QUORUM\n    quorum: 1"), "c.yaml"));
  ItemFlight q = StartFlight(quorum);
  Settle(quorum, topic, StageState::kSucceeded, "news", &q);
  EXPECT_THAT(Settle(quorum, check, StageState::kSucceeded, "yes", &q), ElementsAre(summary));
  // Toxic settling later starts nothing again; the item finishes when both are done.
  EXPECT_THAT(Settle(quorum, summary, StageState::kSucceeded, "rates", &q), IsEmpty());
  EXPECT_FALSE(q.finished());
  EXPECT_THAT(Settle(quorum, toxic, StageState::kSucceeded, "fine", &q), IsEmpty());
  EXPECT_TRUE(q.finished());
  // A quorum that can no longer be met skips the stage.
  ItemFlight none = StartFlight(quorum);
  Settle(quorum, topic, StageState::kSucceeded, "news", &none);
  Settle(quorum, check, StageState::kRejected, "no", &none);
  std::vector<int> settled;
  EXPECT_THAT(Settle(quorum, toxic, StageState::kRejected, "", &none, &settled), IsEmpty());
  EXPECT_THAT(settled, ElementsAre(toxic, summary));
  EXPECT_TRUE(none.finished());
}

// Pieces cut by people, two levels deep: each receipt is cut into its line items, each line into
// its fields; every field is typed and checked, then the fields go back into their line and the
// lines into their receipt, whose total is read last.
constexpr char kReceiptLines[] = R"(
name: Receipt lines
client: acme
currency: USD
budget_minor: 100000
inputs:
  - name: receipts
    format: FORMAT_CSV
    inline_text: "id,photo\n1,r1.jpg\n2,r2.jpg\n"
stages:
  - name: rows
    split: {input: receipts, by: SPLIT_ROWS}
  - name: lines
    after: [rows]
    pieces: {max: 5, expected: 3}
    human:
      instructions: {en: "Copy each line item of the receipt, one per line."}
      answer: {text: {max_length: 400}}
      piece_rate_minor: 6
      estimated_seconds: 30
      overlap: 1
  - name: fields
    after: [lines]
    pieces: {max: 3}
    human:
      instructions: {en: "Split the line into its name and its price, one per line."}
      answer: {text: {max_length: 100}}
      piece_rate_minor: 3
      estimated_seconds: 15
      overlap: 1
  - name: typed
    after: [fields]
    human:
      instructions: {en: "Type the field as printed."}
      answer: {text: {max_length: 60}}
      piece_rate_minor: 2
      estimated_seconds: 10
      overlap: 1
  - name: check
    after: [typed]
    verify: {overlap: 1, piece_rate_minor: 1, estimated_seconds: 5}
  - name: fields_back
    after: [check]
    gather: {from: fields, field: typed}
  - name: lines_back
    after: [fields_back]
    gather: {from: lines}
  - name: total
    after: [lines_back]
    human:
      instructions: {en: "What is the total?"}
      answer: {text: {max_length: 20}}
      piece_rate_minor: 4
      estimated_seconds: 20
      overlap: 1
  - name: out
    after: [total]
    merge: {}
)";

TEST(FlowTest, PiecesAreCutByPeopleNestTwoDeepAndHaveIdsFromTheirParent) {
  auto contract = contract::ParseContract(kReceiptLines, "c.yaml");
  ASSERT_TRUE(contract.ok()) << contract.status();
  EXPECT_EQ(contract::ValidateContract(*contract, contract::Limits()),
            std::vector<contract::ContractError>{});
  auto flow = BuildFlow(*contract);
  ASSERT_EQ(flow.size(), 5u);
  const int lines = At(flow, "lines"), fields = At(flow, "fields"), typed = At(flow, "typed"),
            check = At(flow, "check"), total = At(flow, "total");
  EXPECT_EQ(flow[lines].scope, -1);
  EXPECT_EQ(flow[fields].scope, lines);
  EXPECT_EQ(flow[typed].scope, fields);
  EXPECT_EQ(flow[check].scope, fields);
  EXPECT_EQ(flow[total].scope, -1);
  EXPECT_THAT(flow[total].after, ElementsAre(lines));  // after the gather of lines
  EXPECT_THAT(flow[typed].after, IsEmpty());           // first on each piece
  EXPECT_EQ(flow[lines].max_pieces, 5u);
  EXPECT_EQ(flow[fields].gather_field, "typed");
  EXPECT_EQ(flow[lines].gather_field, "fields");  // gathering a gather: what it settled with

  // A receipt's flight has its own stages only; a line's, the stages on lines.
  ItemFlight receipt = StartFlight(flow);
  EXPECT_EQ(receipt.unsettled, 2);  // lines, total
  EXPECT_EQ(receipt.state[lines], StageState::kRunning);
  EXPECT_EQ(receipt.state[fields], StageState::kOutOfScope);
  ItemFlight line = StartFlight(flow, lines);
  EXPECT_EQ(line.unsettled, 1);
  EXPECT_EQ(line.state[fields], StageState::kRunning);
  ItemFlight field = StartFlight(flow, fields);
  EXPECT_EQ(field.unsettled, 2);
  EXPECT_EQ(field.state[typed], StageState::kRunning);
  EXPECT_EQ(field.state[check], StageState::kWaiting);

  EXPECT_THAT(SplitPieces(" Bread 1.20 \n\nMilk 0.90\r\nEggs\n", 2),
              ElementsAre("Bread 1.20", "Milk 0.90"));
  // Ids derive from the parent and the place: the same every time, distinct across levels.
  v1::Item item = MakeItem(7);
  v1::Item second = MakePiece(flow, lines, item, 1, "Milk 0.90");
  EXPECT_EQ(second.index(), PieceIndex(7, 1, 1));
  EXPECT_TRUE(IsPiece(second.index()));
  EXPECT_FALSE(IsPiece(7));
  EXPECT_EQ(second.parent(), 7u);
  EXPECT_EQ(second.position(), 1u);
  EXPECT_EQ(second.cut_by(), "lines");
  EXPECT_THAT(Names(second), ElementsAre("id=8", "lines=Milk 0.90"));
  v1::Item price = MakePiece(flow, fields, second, 1, "0.90");
  std::set<uint64_t> ids = {7,
                            second.index(),
                            price.index(),
                            PieceIndex(7, 1, 0),
                            PieceIndex(second.index(), 2, 0),
                            PieceIndex(8, 1, 1),
                            PieceIndex(PieceIndex(8, 1, 1), 2, 1)};
  EXPECT_EQ(ids.size(), 7u);
  EXPECT_LT(PieceIndex(PieceIndex((uint64_t{1} << 24) - 1, 63, 999), 63, 999), kGoldItemBase);
}

void ExpectSameReplay(const FlowReplay& a, const FlowReplay& b) {
  EXPECT_EQ(a.flight.state, b.flight.state);
  EXPECT_EQ(a.flight.value, b.flight.value);
  EXPECT_EQ(a.flight.unsettled, b.flight.unsettled);
  ASSERT_EQ(a.flight.cuts.size(), b.flight.cuts.size());
  for (const auto& [entry, cut] : a.flight.cuts) {
    EXPECT_EQ(cut.values, b.flight.cuts.at(entry).values);
    EXPECT_EQ(cut.open, b.flight.cuts.at(entry).open);
  }
  ASSERT_EQ(a.waiting.size(), b.waiting.size());
  for (size_t i = 0; i < a.waiting.size(); ++i) {
    EXPECT_EQ(a.waiting[i].pos, b.waiting[i].pos);
    EXPECT_EQ(a.waiting[i].item.SerializeAsString(), b.waiting[i].item.SerializeAsString());
  }
  EXPECT_EQ(a.held, b.held);
  EXPECT_EQ(a.item.SerializeAsString(), b.item.SerializeAsString());
  ASSERT_EQ(a.verdicts.size(), b.verdicts.size());
  for (size_t i = 0; i < a.verdicts.size(); ++i) {
    EXPECT_EQ(a.verdicts[i].SerializeAsString(), b.verdicts[i].SerializeAsString());
  }
  ASSERT_EQ(a.pieces.size(), b.pieces.size());
  for (size_t i = 0; i < a.pieces.size(); ++i) ExpectSameReplay(a.pieces[i], b.pieces[i]);
}

// The export replays an item it gives up (its fields moved), a restart one it keeps (copied):
// the same path either way, with pieces two deep, a piece still waiting and a stage waiting for
// the gather.
TEST(FlowTest, AReplayOfAnItemGivenUpIsTheReplayOfACopy) {
  auto flow = BuildFlow(*contract::ParseContract(kReceiptLines, "c.yaml"));
  const int lines = At(flow, "lines"), fields = At(flow, "fields"), typed = At(flow, "typed"),
            check = At(flow, "check"), total = At(flow, "total");
  v1::Item item = MakeItem(7);
  SetField(&item, "photo", "r7.jpg");
  std::map<std::pair<int, uint64_t>, v1::ResultRecord> verdicts;  // by step and item
  std::map<uint64_t, v1::Item> items;                             // the pieces, as cut
  auto answer = [&](int pos, uint64_t index, const std::string& text) {
    v1::ResultRecord& r = verdicts[{pos, index}];
    r.set_stage(flow[pos].stage);
    r.set_item_index(index);
    r.mutable_answer()->set_text(text);
    r.add_workers("w1");
  };
  auto cut = [&](int entry, const v1::Item& parent, uint32_t i, const std::string& text) {
    v1::Item piece = MakePiece(flow, entry, parent, i, text);
    items[piece.index()] = piece;
    return piece;
  };
  answer(lines, 7, "Bread 1.20\nMilk 0.90");
  const v1::Item bread = cut(lines, item, 0, "Bread 1.20");
  cut(lines, item, 1, "Milk 0.90");  // not split into fields yet
  answer(fields, bread.index(), "Bread\n1.20");
  const v1::Item name = cut(fields, bread, 0, "Bread");
  const v1::Item price = cut(fields, bread, 1, "1.20");
  answer(typed, name.index(), "Bread");
  answer(check, name.index(), "yes");
  answer(typed, price.index(), "1.20");  // its check not yet
  const ReplaySource source{
      .verdict = [&](const Step& step, uint64_t index, v1::ResultRecord* out) -> absl::Status {
        auto it = verdicts.find({static_cast<int>(&step - flow.data()), index});
        if (it == verdicts.end()) return absl::NotFoundError("no verdict yet");
        *out = it->second;
        return absl::OkStatus();
      },
      .item = [&](uint64_t index, v1::Item* out) -> absl::Status {
        auto it = items.find(index);
        if (it == items.end()) return absl::NotFoundError("not cut");
        *out = it->second;
        return absl::OkStatus();
      }};

  absl::StatusOr<FlowReplay> copied = ReplayFlow(flow, item, source);
  v1::Item given_up = item;
  absl::StatusOr<FlowReplay> moved = ReplayFlow(flow, std::move(given_up), source);
  ASSERT_TRUE(copied.ok()) << copied.status();
  ASSERT_TRUE(moved.ok()) << moved.status();
  ExpectSameReplay(*copied, *moved);
  EXPECT_EQ(given_up.index(), 7u);  // its header stays; its fields went to the replay's item
  EXPECT_EQ(given_up.fields_size(), 0);

  // And walked through the stages in an item kept from one replay to the next, as an export
  // does: holding what the replay before left in it, or moved out by one that waits at its first
  // stage (item 9 has no verdict yet), the path is the same.
  v1::Item waits = MakeItem(9);
  SetField(&waits, "photo", "r9.jpg");
  absl::StatusOr<FlowReplay> waits_alone = ReplayFlow(flow, waits, source);
  ASSERT_TRUE(waits_alone.ok()) << waits_alone.status();
  ASSERT_EQ(waits_alone->waiting.size(), 1u);
  ReplaySource walked = source;
  v1::Item walk;
  SetField(&walk, "left over", "by the replay before");
  walked.walk = &walk;
  for (const v1::Item* next : {&item, &waits, &item, &item}) {
    absl::StatusOr<FlowReplay> again = ReplayFlow(flow, *next, walked);
    ASSERT_TRUE(again.ok()) << again.status();
    ExpectSameReplay(next == &item ? *copied : *waits_alone, *again);
  }

  // The path is the one stored: both lines cut, the first into two fields, one of them checked.
  EXPECT_FALSE(moved->flight.finished());
  EXPECT_THAT(Names(moved->item), ElementsAre("id=8", "photo=r7.jpg"));
  ASSERT_EQ(moved->pieces.size(), 2u);
  EXPECT_EQ(moved->pieces[0].pieces.size(), 2u);
  EXPECT_TRUE(moved->pieces[0].pieces[0].flight.finished());
  ASSERT_EQ(moved->pieces[0].pieces[1].waiting.size(), 1u);
  EXPECT_EQ(moved->pieces[0].pieces[1].waiting[0].pos, check);
  ASSERT_EQ(moved->pieces[1].waiting.size(), 1u);
  EXPECT_EQ(moved->pieces[1].waiting[0].pos, fields);
  EXPECT_EQ(moved->flight.state[total], StageState::kWaiting);
}

// A piece turned down goes back with its previous version (the piece as cut) by default; a
// check that stops it leaves it out of the gather, and the parent's value joins the rest.
TEST(FlowTest, APieceTurnedDownIsKeptAsCutOrLeftOutAsItsStageSays) {
  for (const bool stop : {false, true}) {
    std::string text = kReceiptLines;
    const std::string verify = "    verify: {overlap: 1, piece_rate_minor: 1";
    if (stop) text.replace(text.find(verify), 0, "    on_reject: STOP_ITEM\n");
    auto contract = contract::ParseContract(text, "c.yaml");
    ASSERT_TRUE(contract.ok()) << contract.status();
    auto flow = BuildFlow(*contract);
    const int fields = At(flow, "fields"), typed = At(flow, "typed"), check = At(flow, "check");
    v1::Item piece = MakeItem(0);
    SetField(&piece, "fields", "0.9O");
    ItemFlight flight = StartFlight(flow, fields);
    Settle(flow, typed, StageState::kSucceeded, "0.90", &flight);
    SetField(&piece, "typed", "0.90");
    SetField(&piece, "check", "no");
    const Leaving left = LeftAs(flow, check, piece);
    EXPECT_EQ(left.state, stop ? StageState::kRejected : StageState::kKept);
    Settle(flow, check, left, "no", &flight);
    ASSERT_TRUE(flight.finished());
    std::string value;
    EXPECT_EQ(GatheredValue(flow, fields, flight, piece, &value),
              stop ? Gathered::kLeftOut : Gathered::kKept);
    EXPECT_EQ(value, stop ? "" : "0.9O");
    EXPECT_EQ(ItemStatus(flow, flight),
              stop ? "rejected by check" : "kept fields as typed: rejected by check");
  }
  ItemFlight::Cut cut{.values = {"Bread", "", "Milk"}, .left_out = {false, true, false}};
  EXPECT_EQ(cut.Joined(), "Bread\nMilk");
  EXPECT_EQ(cut.LeftOut(), 1u);
}

// A gather's readiness decides, once every piece is done, whether the parent goes on.
TEST(FlowTest, AGatherByReadinessStopsTheParentWhenTooFewPiecesSucceeded) {
  auto flow_with = [](const std::string& readiness) {
    std::string text = kReceiptLines;
    const std::string gather = "    gather: {from: fields, field: typed}\n";
    text.replace(text.find(gather), 0, readiness);
    auto contract = contract::ParseContract(text, "c.yaml");
    EXPECT_TRUE(contract.ok()) << contract.status();
    EXPECT_EQ(contract::ValidateContract(*contract, contract::Limits()),
              std::vector<contract::ContractError>{});
    return BuildFlow(*contract);
  };
  // Three pieces: one done, one kept as cut, one left out.
  ItemFlight::Cut cut{.values = {"Bread", "Milk", ""}, .left_out = {false, false, true}, .kept = 1};
  const auto all_done = flow_with("");
  const Step& cutting = all_done[At(all_done, "fields")];
  EXPECT_EQ(cutting.gather_name, "fields_back");
  EXPECT_EQ(cutting.gather_readiness, v1::ALL_DONE);
  EXPECT_EQ(CutSettlesAs(cutting, cut), StageState::kSucceeded);
  const auto strict = flow_with("    readiness: ALL_SUCCEEDED\n");
  const int fields = At(strict, "fields");
  EXPECT_EQ(CutSettlesAs(strict[fields], cut), StageState::kRejected);
  EXPECT_EQ(CutSettlesAs(strict[fields], {.values = {"Bread"}, .left_out = {false}}),
            StageState::kSucceeded);
  const auto one = flow_with("    readiness: QUORUM\n    quorum: 1\n");
  EXPECT_EQ(CutSettlesAs(one[fields], cut), StageState::kSucceeded);
  EXPECT_EQ(CutSettlesAs(one[fields], {}), StageState::kRejected);  // no pieces at all
  const auto two = flow_with("    readiness: QUORUM\n    quorum: 2\n");
  EXPECT_EQ(CutSettlesAs(two[fields], cut), StageState::kRejected);

  // The line stops: its gather and the stages after it are skipped, and the status says why.
  ItemFlight line = StartFlight(strict, At(strict, "lines"));
  const std::vector<int> started =
      Settle(strict, fields, CutSettlesAs(strict[fields], cut), cut.Joined(), &line);
  EXPECT_TRUE(started.empty());
  EXPECT_TRUE(line.finished());
  EXPECT_EQ(ItemStatus(strict, line), "stopped by fields_back: too few pieces of fields succeeded");
}

class FlowEngineTest : public EngineTest {
 protected:
  v1::Result Text(const v1::Assignment& a, const std::string& text) {
    v1::Result r = Answer(a, "");
    r.mutable_answer()->set_text(text);
    return r;
  }

  // Leases up to `n` assignments for `worker` at centre "c" and returns them by task id.
  std::map<std::string, v1::Assignment> LeaseFor(const std::string& worker, uint32_t n) {
    auto lease = Lease("c", worker, n, absl::StrCat("lease-", worker, "-", ++leases_));
    EXPECT_TRUE(lease.ok()) << lease.status();
    std::map<std::string, v1::Assignment> out;
    if (lease.ok()) {
      for (const auto& a : lease->assignments()) out[a.task_id()] = a;
    }
    return out;
  }

  static std::vector<std::string> Keys(const std::map<std::string, v1::Assignment>& m) {
    std::vector<std::string> out;
    for (const auto& [k, v] : m) out.push_back(k);
    return out;
  }

  void Accept(const std::vector<v1::Result>& results) {
    for (const auto& r : SubmitResults("c", results)) {
      EXPECT_EQ(r.status(), v1::RECEIPT_ACCEPTED) << r.detail();
    }
  }

  std::vector<v1::ResultRecord> Export(const std::string& job) {
    std::vector<v1::ResultRecord> out;
    EXPECT_TRUE(engine_
                    ->ExportResults(job,
                                    [&](const v1::ResultRecord& r) {
                                      out.push_back(r);
                                      return true;
                                    })
                    .ok());
    return out;
  }

  int leases_ = 0;
};

TEST_F(FlowEngineTest, FindFixVerifyRejectsAnItemAndNobodyVerifiesTheirOwnFix) {
  AddCentre("c", {"w1", "w2", "w3", "w4"});
  ASSERT_TRUE(Submit(WithReadiness("")).ok());

  // w1 fixes all three receipts.
  auto fixes = LeaseFor("w1", 3);
  ASSERT_THAT(Keys(fixes), ElementsAre("job-1/fix/0", "job-1/fix/1", "job-1/fix/2"));
  Accept({Text(fixes["job-1/fix/0"], "12.50"), Text(fixes["job-1/fix/1"], "3.00"),
          Text(fixes["job-1/fix/2"], "9.90")});

  // The checks wait for others: w1 produced what they judge. A restart keeps it so.
  EXPECT_TRUE(LeaseFor("w1", 3).empty());
  Open();
  EXPECT_TRUE(LeaseFor("w1", 3).empty());
  auto w2 = LeaseFor("w2", 3);
  auto w3 = LeaseFor("w3", 3);
  ASSERT_THAT(Keys(w2), ElementsAre("job-1/check/0", "job-1/check/1", "job-1/check/2"));
  ASSERT_THAT(Keys(w3), ElementsAre("job-1/check/0", "job-1/check/1", "job-1/check/2"));
  // The verifier sees the fix, and is asked yes or no.
  const v1::Assignment& seen = w2["job-1/check/0"];
  EXPECT_THAT(Names(seen.item()), ElementsAre("id=1", "ocr=T0TAL 12.5O", "fix=12.50"));
  std::vector<v1::Result> votes;
  for (auto* who : {&w2, &w3}) {
    votes.push_back(Answer((*who)["job-1/check/0"], "yes"));
    votes.push_back(Answer((*who)["job-1/check/1"], "yes"));
    votes.push_back(Answer((*who)["job-1/check/2"], "no"));
  }
  Accept(votes);

  // Only the two accepted receipts go on to "tidy".
  auto tidy = LeaseFor("w4", 3);
  ASSERT_THAT(Keys(tidy), ElementsAre("job-1/tidy/0", "job-1/tidy/1"));
  Accept({Answer(tidy["job-1/tidy/0"], "legible"), Answer(tidy["job-1/tidy/1"], "faded")});

  auto job = engine_->GetJob("job-1");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state(), v1::JOB_COMPLETED);
  EXPECT_EQ(job->stages(3).done(), 3u);  // two done, one skipped
  // Every contribution is paid: 3 fixes at 4, 6 votes at 2, 2 tidies at 3.
  EXPECT_EQ(job->wages_posted_minor(), 3 * 4 + 6 * 2 + 2 * 3);

  auto rows = Export("job-1");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_THAT(Names(rows[0].item()),
              ElementsAre("id=1", "ocr=T0TAL 12.5O", "fix=12.50", "check=yes", "tidy=legible"));
  EXPECT_EQ(rows[0].status(), "succeeded");
  ASSERT_EQ(rows[0].provenance_size(), 3);
  EXPECT_EQ(rows[0].provenance(0).stage(), "fix");
  EXPECT_THAT(rows[0].provenance(0).workers(), ElementsAre("w1"));
  EXPECT_EQ(rows[0].provenance(1).stage(), "check");
  EXPECT_THAT(rows[0].provenance(1).workers(), ElementsAre("w2", "w3"));
  EXPECT_EQ(rows[0].provenance(2).stage(), "tidy");
  EXPECT_THAT(Names(rows[2].item()),
              ElementsAre("id=3", "ocr=T0TAL 9.99", "fix=9.90", "check=no", "tidy="));
  EXPECT_EQ(rows[2].status(), "rejected by check");
  EXPECT_EQ(rows[2].provenance_size(), 2);
}

// The Find-Fix-Verify contract with the check's OnReject set (`policy` is its lines).
std::string WithOnReject(const std::string& policy) {
  std::string text = WithReadiness("");
  const std::string check = "  - name: check\n    after: [fix]\n";
  text.replace(text.find(check), check.size(), check + policy);
  return text;
}

// SEND_TO_REVIEW: a "no" holds the receipt at the check, across a restart, until a person who
// neither fixed nor checked it decides; yes goes on, no stops it. Every review is paid once.
TEST_F(FlowEngineTest, ARejectionSentToReviewWaitsForAPersonAndMovesOnWithTheirDecision) {
  AddCentre("c", {"w1", "w2", "w3", "w4"});
  ASSERT_TRUE(Submit(WithOnReject("    on_reject: SEND_TO_REVIEW\n")).ok());
  auto fixes = LeaseFor("w1", 3);
  Accept({Text(fixes["job-1/fix/0"], "12.50"), Text(fixes["job-1/fix/1"], "3.00"),
          Text(fixes["job-1/fix/2"], "9.90")});
  auto w2 = LeaseFor("w2", 3);
  auto w3 = LeaseFor("w3", 3);
  std::vector<v1::Result> votes;
  for (auto* who : {&w2, &w3}) {
    votes.push_back(Answer((*who)["job-1/check/0"], "no"));
    votes.push_back(Answer((*who)["job-1/check/1"], "no"));
    votes.push_back(Answer((*who)["job-1/check/2"], "yes"));
  }
  Accept(votes);

  // Receipts 0 and 1 wait for a person: only receipt 2 goes on, and nothing else is leased.
  auto tidy = LeaseFor("w4", 3);
  ASSERT_THAT(Keys(tidy), ElementsAre("job-1/tidy/2"));
  Accept({Answer(tidy["job-1/tidy/2"], "legible")});
  Open();
  EXPECT_TRUE(LeaseFor("w4", 3).empty());
  auto queue = engine_->ListReviews("job-1", false);
  ASSERT_TRUE(queue.ok());
  ASSERT_EQ(queue->size(), 2u);
  EXPECT_EQ((*queue)[0].task_id(), "job-1/check/0");
  EXPECT_THAT((*queue)[0].labels(), ElementsAre("no", "no"));
  EXPECT_THAT((*queue)[0].excluded(), ElementsAre("w1"));
  EXPECT_EQ(engine_->GetJob("job-1")->state(), v1::JOB_RUNNING);

  v1::DecideReviewRequest decide;
  decide.set_task_id("job-1/check/0");
  decide.set_label("yes");
  decide.set_reason("the photo shows 12.50");
  decide.set_idempotency_key("d0");
  decide.set_reviewer("c/w1");  // the fixer
  EXPECT_EQ(engine_->DecideReview(decide).status().code(), absl::StatusCode::kPermissionDenied);
  decide.set_reviewer("c/w2");  // a checker
  EXPECT_EQ(engine_->DecideReview(decide).status().code(), absl::StatusCode::kPermissionDenied);
  decide.set_reviewer("c/w4");
  ASSERT_TRUE(engine_->DecideReview(decide).ok());
  decide.set_task_id("job-1/check/1");
  decide.set_label("no");
  decide.set_idempotency_key("d1");
  ASSERT_TRUE(engine_->DecideReview(decide).ok());

  // Yes: receipt 0 goes on to tidy; no: receipt 1 stops.
  tidy = LeaseFor("w3", 3);
  ASSERT_THAT(Keys(tidy), ElementsAre("job-1/tidy/0"));
  Accept({Answer(tidy["job-1/tidy/0"], "faded")});
  auto job = engine_->GetJob("job-1");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state(), v1::JOB_COMPLETED);
  // 3 fixes at 4, 6 votes at 2, 2 reviews at the check's 2, 2 tidies at 3.
  EXPECT_EQ(job->wages_posted_minor(), 3 * 4 + 6 * 2 + 2 * 2 + 2 * 3);
  auto rows = Export("job-1");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_THAT(Names(rows[0].item()),
              ElementsAre("id=1", "ocr=T0TAL 12.5O", "fix=12.50", "check=yes", "tidy=faded"));
  EXPECT_EQ(rows[0].status(), "succeeded");
  EXPECT_EQ(rows[0].reviewed_by(), "");  // the last verdict is tidy's; the check's says who
  EXPECT_EQ(rows[1].status(), "rejected by check");
  EXPECT_THAT(Names(rows[1].item()),
              ElementsAre("id=2", "ocr=TOTAL 3.00", "fix=3.00", "check=no", "tidy="));
  EXPECT_EQ(rows[2].status(), "succeeded");
}

// A review decided after the job was cancelled is recorded and paid, and the job stays
// cancelled: the held item does not move on.
TEST_F(FlowEngineTest, AReviewDecidedAfterTheJobEndedLeavesTheJobAsItEnded) {
  AddCentre("c", {"w1", "w2", "w3", "w4"});
  ASSERT_TRUE(Submit(WithOnReject("    on_reject: SEND_TO_REVIEW\n")).ok());
  auto fixes = LeaseFor("w1", 3);
  Accept({Text(fixes["job-1/fix/0"], "12.50"), Text(fixes["job-1/fix/1"], "3.00"),
          Text(fixes["job-1/fix/2"], "9.90")});
  std::vector<v1::Result> votes;
  for (const char* w : {"w2", "w3"}) {
    auto checks = LeaseFor(w, 3);
    for (const char* item : {"0", "1", "2"}) {
      votes.push_back(Answer(checks[absl::StrCat("job-1/check/", item)], "no"));
    }
  }
  Accept(votes);
  v1::ControlJobRequest cancel;
  cancel.set_idempotency_key("cancel");
  cancel.set_job_id("job-1");
  cancel.set_action(v1::JOB_CANCEL);
  ASSERT_TRUE(engine_->ControlJob(cancel).ok());
  v1::DecideReviewRequest decide;
  decide.set_task_id("job-1/check/0");
  decide.set_label("yes");
  decide.set_reason("the photo shows 12.50");
  decide.set_idempotency_key("d0");
  decide.set_reviewer("c/w4");
  ASSERT_TRUE(engine_->DecideReview(decide).ok());
  EXPECT_EQ(engine_->GetJob("job-1")->state(), v1::JOB_CANCELLED);
  EXPECT_TRUE(LeaseFor("w4", 3).empty());
  auto rows = Export("job-1");
  ASSERT_EQ(rows.size(), 3u);
  // The decided one would have gone on to tidy; the others still wait for a person.
  EXPECT_EQ(rows[0].status(), "cancelled before tidy");
  EXPECT_EQ(rows[1].status(), "cancelled before check (in review)");
}

// A job under way exports its finished items only: one not yet fixed and one part way through
// are left out (the export reads the items with a first verdict, not every item); once the job
// is cancelled every item is listed with where it stopped.
TEST_F(FlowEngineTest, AJobUnderWayExportsItsFinishedItemsOnlyAndEveryItemOnceCancelled) {
  AddCentre("c", {"w1", "w2", "w3"});
  ASSERT_TRUE(Submit(WithReadiness("")).ok());
  auto fixes = LeaseFor("w1", 3);
  Accept({Text(fixes["job-1/fix/1"], "3.00"), Text(fixes["job-1/fix/2"], "9.90")});
  auto w2 = LeaseFor("w2", 3);
  auto w3 = LeaseFor("w3", 3);
  ASSERT_THAT(Keys(w2), ElementsAre("job-1/check/1", "job-1/check/2"));
  Accept({Answer(w2["job-1/check/1"], "yes"), Answer(w3["job-1/check/1"], "yes"),
          Answer(w2["job-1/check/2"], "no"), Answer(w3["job-1/check/2"], "no")});

  auto rows = Export("job-1");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].item_index(), 2u);
  EXPECT_EQ(rows[0].status(), "rejected by check");
  // The same across a restart (the verdicts are read from the store).
  Open();
  ASSERT_EQ(Export("job-1").size(), 1u);

  v1::ControlJobRequest cancel;
  cancel.set_idempotency_key("cancel");
  cancel.set_job_id("job-1");
  cancel.set_action(v1::JOB_CANCEL);
  ASSERT_TRUE(engine_->ControlJob(cancel).ok());
  rows = Export("job-1");
  std::vector<std::string> statuses;
  for (const auto& r : rows) statuses.push_back(absl::StrCat(r.item_index(), ": ", r.status()));
  EXPECT_THAT(statuses, ElementsAre("0: cancelled before fix", "1: cancelled before tidy",
                                    "2: rejected by check"));
}

// KEEP_PREVIOUS: a fix voted down gives way to the scanner's reading, the receipt goes on to
// tidy as after a success, and the export says what was kept.
TEST_F(FlowEngineTest, ARejectionThatKeepsThePreviousVersionGoesOnWithIt) {
  AddCentre("c", {"w1", "w2", "w3", "w4"});
  ASSERT_TRUE(Submit(WithOnReject("    on_reject: KEEP_PREVIOUS\n    keep: ocr\n")).ok());
  auto fixes = LeaseFor("w1", 3);
  Accept({Text(fixes["job-1/fix/0"], "12.50"), Text(fixes["job-1/fix/1"], "3.00"),
          Text(fixes["job-1/fix/2"], "9.90")});
  std::vector<v1::Result> votes;
  for (const char* w : {"w2", "w3"}) {
    auto checks = LeaseFor(w, 3);
    votes.push_back(Answer(checks["job-1/check/0"], "yes"));
    votes.push_back(Answer(checks["job-1/check/1"], "yes"));
    votes.push_back(Answer(checks["job-1/check/2"], "no"));
  }
  Accept(votes);
  Open();  // the kept version is replayed from the stored verdicts
  auto tidy = LeaseFor("w4", 3);
  ASSERT_THAT(Keys(tidy), ElementsAre("job-1/tidy/0", "job-1/tidy/1", "job-1/tidy/2"));
  EXPECT_THAT(Names(tidy["job-1/tidy/2"].item()),
              ElementsAre("id=3", "ocr=T0TAL 9.99", "fix=T0TAL 9.99", "check=no"));
  Accept({Answer(tidy["job-1/tidy/0"], "legible"), Answer(tidy["job-1/tidy/1"], "legible"),
          Answer(tidy["job-1/tidy/2"], "faded")});
  EXPECT_EQ(engine_->GetJob("job-1")->state(), v1::JOB_COMPLETED);
  auto rows = Export("job-1");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2].status(), "kept ocr as fix: rejected by check");
  EXPECT_THAT(Names(rows[2].item()),
              ElementsAre("id=3", "ocr=T0TAL 9.99", "fix=T0TAL 9.99", "check=no", "tidy=faded"));
  EXPECT_EQ(rows[0].status(), "succeeded");
}

TEST_F(FlowEngineTest, AnIterationRunsRoundsAndItsResultsAreGroupedByKey) {
  AddCentre("c", {"w1", "w2"});
  ASSERT_TRUE(Submit(Translate("GROUP_BY_KEY")).ok());
  // Round 1: w1 translates all three; w1 may not vote on them, w2 votes.
  auto r1 = LeaseFor("w1", 3);
  ASSERT_THAT(Keys(r1), ElementsAre("job-1/sw.r1/0", "job-1/sw.r1/1", "job-1/sw.r1/2"));
  EXPECT_THAT(Names(r1["job-1/sw.r1/0"].item()), ElementsAre("doc=a", "en=Good morning", "sw="));
  Accept({Text(r1["job-1/sw.r1/0"], "Habari za asubuhi"), Text(r1["job-1/sw.r1/1"], "Asante"),
          Text(r1["job-1/sw.r1/2"], "Kliniki iko wapi")});
  EXPECT_TRUE(LeaseFor("w1", 3).empty());
  auto v1 = LeaseFor("w2", 3);
  ASSERT_THAT(Keys(v1),
              ElementsAre("job-1/sw.r1.vote/0", "job-1/sw.r1.vote/1", "job-1/sw.r1.vote/2"));
  EXPECT_THAT(Names(v1["job-1/sw.r1.vote/1"].item()),
              ElementsAre("doc=a", "en=Thank you", "sw=", "sw.new=Asante"));
  Accept({Answer(v1["job-1/sw.r1.vote/0"], "new"), Answer(v1["job-1/sw.r1.vote/1"], "new"),
          Answer(v1["job-1/sw.r1.vote/2"], "new")});

  // Round 2: w2 improves; after a restart w1 votes: item 1 improved, the others kept.
  auto r2 = LeaseFor("w2", 3);
  ASSERT_THAT(Keys(r2), ElementsAre("job-1/sw.r2/0", "job-1/sw.r2/1", "job-1/sw.r2/2"));
  Accept({Text(r2["job-1/sw.r2/0"], "Habari asubuhi"), Text(r2["job-1/sw.r2/1"], "Asante sana"),
          Text(r2["job-1/sw.r2/2"], "Kliniki ipo wapi")});
  Open();
  auto v2 = LeaseFor("w1", 3);
  ASSERT_THAT(Keys(v2),
              ElementsAre("job-1/sw.r2.vote/0", "job-1/sw.r2.vote/1", "job-1/sw.r2.vote/2"));
  EXPECT_THAT(Names(v2["job-1/sw.r2.vote/1"].item()),
              ElementsAre("doc=a", "en=Thank you", "sw=Asante", "sw.new=Asante sana"));
  Accept({Answer(v2["job-1/sw.r2.vote/0"], "previous"), Answer(v2["job-1/sw.r2.vote/1"], "new"),
          Answer(v2["job-1/sw.r2.vote/2"], "previous")});

  // Round 3 only for item 1, and it is the last: kept.
  auto r3 = LeaseFor("w1", 3);
  ASSERT_THAT(Keys(r3), ElementsAre("job-1/sw.r3/1"));
  Accept({Text(r3["job-1/sw.r3/1"], "Asante!")});
  auto v3 = LeaseFor("w2", 3);
  ASSERT_THAT(Keys(v3), ElementsAre("job-1/sw.r3.vote/1"));
  Accept({Answer(v3["job-1/sw.r3.vote/1"], "previous")});

  auto job = engine_->GetJob("job-1");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state(), v1::JOB_COMPLETED);
  EXPECT_EQ(job->stages(1).done(), 3u);
  // 7 improvements at 6, 7 votes at 2.
  EXPECT_EQ(job->wages_posted_minor(), 7 * 6 + 7 * 2);

  auto rows = Export("job-1");
  ASSERT_EQ(rows.size(), 2u);  // documents a and b
  EXPECT_THAT(Names(rows[0].item()), ElementsAre("doc=a", "en=Good morning / Thank you",
                                                 "sw=Habari za asubuhi / Asante sana"));
  EXPECT_THAT(rows[0].merged_items(), ElementsAre(0u, 1u));
  EXPECT_EQ(rows[0].status(), "succeeded");
  EXPECT_EQ(rows[0].provenance_size(), 4 + 6);  // item 0: two rounds; item 1: three
  EXPECT_THAT(Names(rows[1].item()),
              ElementsAre("doc=b", "en=Where is the clinic?", "sw=Kliniki iko wapi"));
  EXPECT_THAT(rows[1].merged_items(), ElementsAre(2u));
}

// A round's task is stored under its step's own key: a manager can move it, and withhold its
// wage, like any other (both looked it up by the stage's index and found nothing).
TEST_F(FlowEngineTest, AManagerMovesARoundsTaskAndWithholdsItsWage) {
  AddCentre("c", {"w1", "w2", "w3"});
  ASSERT_TRUE(Submit(Translate("GROUP_BY_KEY")).ok());
  auto r1 = LeaseFor("w1", 1);
  ASSERT_THAT(Keys(r1), ElementsAre("job-1/sw.r1/0"));
  v1::ReassignRequest move;
  move.set_idempotency_key("m1");
  move.set_assignment_id("job-1/sw.r1/0@w1");
  move.set_to_worker("w3");
  move.set_decided_by("manager:grace");
  auto moved = engine_->Reassign("c", move);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->assignment().assignment_id(), "job-1/sw.r1/0@w3");
  Accept({Text(moved->assignment(), "Habari za asubuhi")});

  v1::WithholdWageRequest withhold;
  withhold.set_idempotency_key("h1");
  withhold.set_assignment_id("job-1/sw.r1/0@w3");
  withhold.set_reason(v1::WITHHOLD_AUTOMATED);
  withhold.set_note("copied from a machine translation");
  withhold.set_decided_by("manager:grace");
  auto held = engine_->WithholdWage("c", withhold);
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->amount_minor(), 6);
}

TEST_F(FlowEngineTest, PickWinnerKeepsTheSurestItemOfEachKey) {
  AddCentre("c", {"w1", "w2", "w3"});
  std::string text = kContract;
  const std::string input = "id,text\\n1,great\\n2,awful\\n3,fine\\n";
  text.replace(text.find(input), input.size(), "id,text\\ng1,great\\ng1,awful\\ng2,fine\\n");
  const std::string merge = "merge: {}";
  text.replace(text.find(merge), merge.size(), "merge: {mode: PICK_WINNER, key_field: id}");
  ASSERT_TRUE(Submit(text).ok());
  for (const char* w : {"w1", "w2", "w3"}) {
    auto lease = Lease("c", w, 3, absl::StrCat("l-", w));
    ASSERT_TRUE(lease.ok());
    AnswerAll("c", *lease, /*dissenter=*/"w3");  // item 0 splits 2-1; item 1 is 3-0
  }
  auto rows = Export("job-1");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_THAT(rows[0].merged_items(), ElementsAre(1u));
  EXPECT_THAT(Names(rows[0].item()), ElementsAre("id=g1", "text=awful", "label=negative"));
  EXPECT_DOUBLE_EQ(rows[0].confidence(), 1.0);
  EXPECT_THAT(rows[1].merged_items(), ElementsAre(2u));
}

// Fan-out and fan-in through a real engine: both questions are leased at once, the join starts
// when its last branch is decided, even across a restart that lost the dispatcher's memory of the
// first branch, and the export carries every branch's field.
TEST_F(FlowEngineTest, BranchesRunSideBySideAndTheJoinGathersThemAcrossARestart) {
  AddCentre("c", {"w1", "w2", "w3"});
  ASSERT_TRUE(Submit(Branches("")).ok());

  // Opening an item opens both of its questions.
  auto first = LeaseFor("w1", 4);
  ASSERT_THAT(Keys(first),
              ElementsAre("job-1/topic/0", "job-1/topic/1", "job-1/toxic/0", "job-1/toxic/1"));
  Accept({Answer(first["job-1/topic/0"], "sport"), Answer(first["job-1/topic/1"], "news"),
          Answer(first["job-1/toxic/1"], "fine")});
  // w2 checks the topics; item 1's check is rejected.
  auto checks = LeaseFor("w2", 4);
  ASSERT_THAT(Keys(checks), ElementsAre("job-1/check/0", "job-1/check/1"));
  EXPECT_THAT(Names(checks["job-1/check/0"].item()),
              ElementsAre("id=1", "text=Goal in the last minute", "topic=sport"));
  Accept({Answer(checks["job-1/check/0"], "yes"), Answer(checks["job-1/check/1"], "no")});
  // Item 0's summary still waits for toxic, and item 1 has nothing left but nothing joins it.
  EXPECT_TRUE(LeaseFor("w3", 4).empty());

  // The dispatcher restarts; item 0's last branch is decided after it.
  Open();
  Accept({Answer(first["job-1/toxic/0"], "fine")});
  auto summaries = LeaseFor("w3", 4);
  ASSERT_THAT(Keys(summaries), ElementsAre("job-1/summary/0"));
  EXPECT_THAT(Names(summaries["job-1/summary/0"].item()),
              ElementsAre("id=1", "text=Goal in the last minute", "topic=sport", "check=yes",
                          "toxic=fine"));
  Accept({Text(summaries["job-1/summary/0"], "late winner")});

  auto job = engine_->GetJob("job-1");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state(), v1::JOB_COMPLETED);
  EXPECT_EQ(job->stages(4).done(), 2u);  // the summary: one decided, one skipped
  EXPECT_EQ(job->stages(5).done(), 2u);  // the merge: both items finished
  // 2 topics at 3, 2 checks at 1, 2 toxics at 2, 1 summary at 5.
  EXPECT_EQ(job->wages_posted_minor(), 2 * 3 + 2 * 1 + 2 * 2 + 5);

  auto rows = Export("job-1");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_THAT(Names(rows[0].item()),
              ElementsAre("id=1", "text=Goal in the last minute", "topic=sport", "check=yes",
                          "toxic=fine", "summary=late winner"));
  EXPECT_EQ(rows[0].status(), "succeeded");
  std::vector<std::string> stages;
  for (const auto& p : rows[0].provenance()) stages.push_back(p.stage());
  EXPECT_THAT(stages, ElementsAre("topic", "check", "toxic", "summary"));
  EXPECT_THAT(Names(rows[1].item()), ElementsAre("id=2", "text=Rates go up again", "topic=news",
                                                 "check=no", "toxic=fine", "summary="));
  EXPECT_EQ(rows[1].status(), "rejected by check");
}

// Pieces through a real engine: receipts cut into lines and lines into fields by people; every
// field typed and checked; a restart while pieces are under way; the lines come back into their
// receipt in order, the receipt's total is read last, everything is paid once, and the export
// nests each receipt's lines and each line's fields.
TEST_F(FlowEngineTest, PeopleCutReceiptsIntoLinesAndLinesIntoFieldsAndTheyComeBackInOrder) {
  AddCentre("c", {"w1", "w2", "w3", "w4"});
  ASSERT_TRUE(Submit(kReceiptLines).ok());
  auto task = [](const std::string& stage, uint64_t item) {
    return absl::StrCat("job-1/", stage, "/", item);
  };
  const uint64_t bread = PieceIndex(0, 1, 0), milk = PieceIndex(0, 1, 1),
                 soap = PieceIndex(1, 1, 0);

  auto cut = LeaseFor("w1", 4);
  ASSERT_THAT(Keys(cut), ElementsAre("job-1/lines/0", "job-1/lines/1"));
  // More pieces than the stage allows is refused, and changes nothing.
  v1::Result six = Text(cut["job-1/lines/0"], "a\nb\nc\nd\ne\nf");
  six.set_result_id("six-lines");
  auto too_many = SubmitResults("c", {six});
  ASSERT_EQ(too_many.size(), 1u);
  EXPECT_EQ(too_many[0].status(), v1::RECEIPT_QUARANTINED);
  EXPECT_EQ(too_many[0].detail(), "answer: at most 5 pieces, one per line; got more");
  Accept({Text(cut["job-1/lines/0"], "Bread 1.20\nMilk 0.90\n"),
          Text(cut["job-1/lines/1"], "Soap 2.50")});
  // Each line is a piece of its own, showing the receipt's fields and the line.
  auto lines = LeaseFor("w2", 4);
  ASSERT_THAT(Keys(lines),
              ElementsAre(task("fields", bread), task("fields", milk), task("fields", soap)));
  EXPECT_THAT(Names(lines[task("fields", milk)].item()),
              ElementsAre("id=1", "photo=r1.jpg", "lines=Milk 0.90"));
  Accept({Text(lines[task("fields", bread)], "Bread\n1.20"),
          Text(lines[task("fields", milk)], "Milk\n0.90"),
          Text(lines[task("fields", soap)], "Soap\n2.50")});

  // Six fields to type. Three are typed before the dispatcher restarts, three after.
  auto typing = LeaseFor("w3", 6);
  ASSERT_EQ(typing.size(), 6u);
  const uint64_t price = PieceIndex(milk, 2, 1);
  EXPECT_THAT(Names(typing[task("typed", price)].item()),
              ElementsAre("id=1", "photo=r1.jpg", "lines=Milk 0.90", "fields=0.90"));
  std::vector<v1::Result> typed;
  for (const auto& [id, a] : typing) {
    typed.push_back(
        Text(a, FindField(a.item(), "fields") != nullptr ? *FindField(a.item(), "fields") : "?"));
  }
  Accept({typed.begin(), typed.begin() + 3});
  Open();
  Accept({typed.begin() + 3, typed.end()});
  EXPECT_TRUE(LeaseFor("w3", 6).empty());  // nobody checks their own typing
  auto checks = LeaseFor("w4", 6);
  ASSERT_EQ(checks.size(), 6u);
  std::vector<v1::Result> votes;
  for (const auto& [id, a] : checks) {
    // Soap's price is turned down: it goes back as it was cut.
    votes.push_back(Answer(a, id == task("check", PieceIndex(soap, 2, 1)) ? "no" : "yes"));
  }
  Accept({votes.begin(), votes.begin() + 2});
  Open();  // a restart with lines half gathered
  Accept({votes.begin() + 2, votes.end()});

  // Both receipts have their lines back, in order; the total is asked last.
  auto totals = LeaseFor("w1", 4);
  ASSERT_THAT(Keys(totals), ElementsAre("job-1/total/0", "job-1/total/1"));
  EXPECT_THAT(Names(totals["job-1/total/0"].item()),
              ElementsAre("id=1", "photo=r1.jpg", "lines=Bread\n1.20\nMilk\n0.90"));
  EXPECT_THAT(Names(totals["job-1/total/1"].item()),
              ElementsAre("id=2", "photo=r2.jpg", "lines=Soap\n2.50"));
  Accept({Text(totals["job-1/total/0"], "2.10"), Text(totals["job-1/total/1"], "2.50")});

  auto job = engine_->GetJob("job-1");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state(), v1::JOB_COMPLETED);
  EXPECT_EQ(job->stages(1).done(), 2u);   // lines: two receipts
  EXPECT_EQ(job->stages(2).total(), 3u);  // fields: three lines
  EXPECT_EQ(job->stages(2).done(), 3u);
  EXPECT_EQ(job->stages(3).total(), 6u);  // typed: six fields
  EXPECT_EQ(job->stages(3).done(), 6u);
  EXPECT_EQ(job->stages(4).done(), 6u);  // check
  EXPECT_EQ(job->stages(5).done(), 3u);  // fields_back: per line
  EXPECT_EQ(job->stages(6).done(), 2u);  // lines_back: per receipt
  // 2 cuts at 6, 3 cuts at 3, 6 typed at 2, 6 checks at 1, 2 totals at 4: each paid once.
  EXPECT_EQ(job->wages_posted_minor(), 2 * 6 + 3 * 3 + 6 * 2 + 6 * 1 + 2 * 4);

  auto rows = Export("job-1");
  ASSERT_EQ(rows.size(), 2u);  // receipts only; their pieces nest inside
  EXPECT_EQ(rows[0].status(), "succeeded");
  EXPECT_THAT(Names(rows[0].item()), ::testing::Contains("total=2.10"));
  ASSERT_EQ(rows[0].children_size(), 2);
  EXPECT_EQ(rows[0].children(1).item_index(), milk);
  EXPECT_EQ(rows[0].children(1).item().parent(), 0u);
  EXPECT_EQ(rows[0].children(1).item().position(), 1u);
  ASSERT_EQ(rows[0].children(1).children_size(), 2);
  EXPECT_EQ(rows[0].children(1).children(1).item_index(), price);
  EXPECT_THAT(Names(rows[0].children(1).children(1).item()),
              ::testing::IsSupersetOf({"fields=0.90", "typed=0.90", "check=yes"}));
  EXPECT_EQ(rows[1].status(), "succeeded");
  ASSERT_EQ(rows[1].children_size(), 1);
  EXPECT_EQ(rows[1].children(0).status(),
            "succeeded; 1 of 2 pieces of fields kept their previous version");
  EXPECT_EQ(rows[1].children(0).children(1).status(), "kept fields as typed: rejected by check");
  // The field turned down holds the piece as cut, and that is what went back to the line.
  EXPECT_THAT(Names(rows[1].children(0).children(1).item()), ::testing::IsSupersetOf({"check=no"}));
  // Every individual answer, the pieces' included (the refused one is not an answer).
  std::map<std::string, int> answers;
  ASSERT_TRUE(engine_
                  ->ExportAnswers("job-1",
                                  [&](const v1::AnswerRow& a) {
                                    ++answers[a.stage()];
                                    return true;
                                  })
                  .ok());
  EXPECT_THAT(answers, ElementsAre(Pair("check", 6), Pair("fields", 3), Pair("lines", 2),
                                   Pair("total", 2), Pair("typed", 6)));
}

// Money under pieces: the budget covers the expected pieces (one line per receipt), a worker
// cuts the receipt into three; the job pays what its escrow holds and then waits on its budget
// instead of overspending.
TEST_F(FlowEngineTest, MorePiecesThanTheBudgetExpectedMakeTheJobWaitOnItsBudget) {
  AddCentre("c", {"w1", "w2"});
  ASSERT_TRUE(Submit(R"(
name: Receipt lines
client: acme
currency: USD
budget_minor: 8
inputs:
  - name: receipts
    format: FORMAT_CSV
    inline_text: "id\n1\n"
stages:
  - name: rows
    split: {input: receipts, by: SPLIT_ROWS}
  - name: lines
    after: [rows]
    pieces: {max: 5, expected: 1}
    human:
      instructions: {en: "Copy each line item, one per line."}
      answer: {text: {max_length: 400}}
      piece_rate_minor: 6
      estimated_seconds: 30
      overlap: 1
  - name: typed
    after: [lines]
    human:
      instructions: {en: "Type the line's price."}
      answer: {text: {max_length: 20}}
      piece_rate_minor: 2
      estimated_seconds: 10
      overlap: 1
  - name: back
    after: [typed]
    gather: {from: lines}
  - name: out
    after: [back]
    merge: {}
)")
                  .ok());
  auto cut = LeaseFor("w1", 1);
  ASSERT_THAT(Keys(cut), ElementsAre("job-1/lines/0"));
  Accept({Text(cut["job-1/lines/0"], "Bread 1.20\nMilk 0.90\nEggs 3.10")});
  // The escrow holds 2 more: one line can be paid for, then the job waits.
  auto typing = LeaseFor("w2", 3);
  ASSERT_EQ(typing.size(), 1u);
  for (const auto& [id, a] : typing) Accept({Text(a, "1.20")});
  EXPECT_TRUE(LeaseFor("w2", 3).empty());
  auto job = engine_->GetJob("job-1");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state(), v1::JOB_BUDGET_EXHAUSTED);
  EXPECT_EQ(job->wages_posted_minor(), 6 + 2);  // all of the budget, not a minor unit more
  EXPECT_EQ(job->stages(2).total(), 3u);
  EXPECT_EQ(job->stages(2).done(), 1u);
}

}  // namespace
}  // namespace mw::dispatch
