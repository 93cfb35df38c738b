// How items move through a job: the steps a contract's stages become, and what each verdict
// does to an item. One definition, used when a verdict is made (VerdictRecorder::Decide), when a
// restart rebuilds the open tasks and when the results are exported, so all three agree.
//
// A contract's stages run as a sequence of steps in DAG order after its split:
//   human    one step; its verdict becomes the item field named after the stage.
//   verify   one step of yes/no votes on the field of the stage it verifies; a "no" rejects the
//            item: it skips the stages after, unless the next one's readiness is ALL_DONE.
//   iterate  an improve step and a vote step per round (`<stage>.r<N>`, `<stage>.r<N>.vote`). The
//            improver writes `<stage>.new` from the current `<stage>`; voters choose "new" or
//            "previous"; the winner becomes `<stage>`. A vote that keeps an existing version,
//            or an improvement that changes nothing, ends the iteration early. No version at the
//            end rejects the item, as verify does.
// A merge is not a step: it shapes the export (Engine::ExportResults).
#ifndef MW_ENGINE_DISPATCH_FLOW_H_
#define MW_ENGINE_DISPATCH_FLOW_H_

#include <cstdint>
#include <string>
#include <vector>

#include "microwork/v1/contract.pb.h"

namespace mw::dispatch {

namespace v1 = ::microwork::v1;

// The labels of the votes that verify and iterate steps ask for.
inline constexpr char kYes[] = "yes";
inline constexpr char kNo[] = "no";
inline constexpr char kNewVersion[] = "new";
inline constexpr char kPreviousVersion[] = "previous";

struct Step {
  enum class Role { kHuman, kVerify, kImprove, kVote };
  Role role = Role::kHuman;
  int index = 0;         // of its stage in contract.stages
  std::string stage;     // that stage's name: the item field its verdicts go to
  std::string name;      // in task ids: the stage's name, or "<stage>.r<N>[.vote]" for rounds
  uint32_t key = 0;      // the stage part of its storage keys
  v1::HumanStage human;  // what workers are asked (derived for verify and vote steps)
  int next = -1;         // where an item goes after the verdict (the next round for a vote)
  int exit = -1;         // kVote: where an item goes when the iteration ends with a version
  int on_reject = -1;    // kVerify, kVote: where a rejected item goes; -1 means it is finished
  uint32_t round = 0;    // kImprove, kVote: 0-based
  bool last_round = false;
};

// The steps of `contract`, which ValidateContract accepted.
std::vector<Step> BuildFlow(const v1::Contract& contract);

// The most answers one item can need at `step`: its overlap, or its dynamic overlap's cap.
uint32_t MaxAnswers(const Step& step);

// Prepares `item` to enter `step`: the first round of an iteration starts from an empty version.
void Enter(const Step& step, v1::Item* item);

// Applies the verdict `label` of step `pos` to `item` and returns the step it goes to next, or -1
// when the item is finished.
int Advance(const std::vector<Step>& flow, int pos, const std::string& label, v1::Item* item);

// "succeeded", or "rejected by <stage>" for the first verify or iterate stage that turned the
// finished `item` down.
std::string ItemStatus(const std::vector<Step>& flow, const v1::Item& item);

// The finished `item` as exported: its input fields, then one field per human, verify and
// iterate stage in flow order (empty for a stage a rejected item skipped), so every row has the
// same columns.
v1::Item ExportedItem(const std::vector<Step>& flow, const v1::Item& item);

// The field `name` of `item`, or nullptr.
const std::string* FindField(const v1::Item& item, const std::string& name);
void SetField(v1::Item* item, const std::string& name, const std::string& value);

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_FLOW_H_
