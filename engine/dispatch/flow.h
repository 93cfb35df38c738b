// How items move through a job: the steps a contract's stages become, how the stages wait for
// one another, and what each verdict does to an item. One definition, used when a verdict is
// made (VerdictRecorder::Decide), when a restart rebuilds the open tasks and when the results are
// exported (ReplayFlow), so all three agree.
//
// A contract's stages form a DAG after its split. Each stage becomes one or more steps:
//   human    one step; its verdict becomes the item field named after the stage.
//   verify   one step of yes/no votes on the field of the stage it verifies; a "no" leaves the
//            stage rejected.
//   iterate  an improve step and a vote step per round (`<stage>.r<N>`, `<stage>.r<N>.vote`). The
//            improver writes `<stage>.new` from the current `<stage>`; voters choose "new" or
//            "previous"; the winner becomes `<stage>`. A vote that keeps an existing version,
//            or an improvement that changes nothing, ends the iteration early. No version at the
//            end leaves the stage rejected.
// An item enters every stage straight after the split at once (fan-out), and a stage after
// others when, for that item, its readiness says so (fan-in):
//   ALL_SUCCEEDED  every stage it is after succeeded; skipped once one did not.
//   ALL_DONE       every stage it is after ran (succeeded or rejected); skipped once one was
//                  skipped.
//   QUORUM n       n of them succeeded (it starts then, not waiting for the rest); skipped once
//                  that can no longer happen.
// A skipped stage counts as settled, so the stages after it are decided in turn and every join
// is decided exactly once. The item is finished when every stage has settled. A stage entered
// after others sees the item's input fields and the fields of every stage before it on some
// path. A merge is not a step: it shapes the export (Engine::ExportResults).
#ifndef MW_ENGINE_DISPATCH_FLOW_H_
#define MW_ENGINE_DISPATCH_FLOW_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "microwork/v1/contract.pb.h"
#include "microwork/v1/dispatch.pb.h"

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
  // Within the stage: the step an item goes to after the verdict (the vote of an improvement,
  // the next round after a vote), or kLeave when the verdict settles the stage.
  int next = kLeave;
  uint32_t round = 0;  // kImprove, kVote: 0-based
  bool last_round = false;
  // The stage graph, the same on every step of a stage. A stage is known by the position of its
  // first step, its entry.
  int entry = 0;
  std::vector<int> after;      // the stages it waits for; empty: it takes items from the split
  std::vector<int> followers;  // the stages that wait for it
  std::vector<int> ancestors;  // every stage before it on some path, in flow order
  v1::Readiness readiness = v1::ALL_SUCCEEDED;
  uint32_t quorum = 0;  // QUORUM: how many of `after` must succeed

  static constexpr int kLeave = -1;
  bool is_entry(int pos) const { return entry == pos; }
};

// How a stage stands for one item.
enum class StageState : uint8_t {
  kWaiting,    // not entered: it waits for the stages it is after
  kRunning,    // entered, no verdict that settles it yet
  kSucceeded,  // settled: its field holds its verdict
  kRejected,   // settled: a verify said no, or an iteration ended with no version
  kSkipped,    // settled without running: its readiness can no longer be met
};
bool Settled(StageState s);

// Where one item stands in the stage graph.
struct ItemFlight {
  std::vector<StageState> state;   // by step position; only stage entries are used
  std::vector<std::string> value;  // by entry: the stage's field as it settled
  int unsettled = 0;               // stages not yet settled; 0: the item is finished
  bool finished() const { return unsettled == 0; }
};

// The steps of `contract`, which ValidateContract accepted.
std::vector<Step> BuildFlow(const v1::Contract& contract);

// The most answers one item can need at `step`: its overlap, or its dynamic overlap's cap.
uint32_t MaxAnswers(const Step& step);

// Prepares `item` to enter `step`: the first round of an iteration starts from an empty version.
void Enter(const Step& step, v1::Item* item);

// Applies the verdict `label` of step `pos` to `item` and returns the step of the same stage it
// goes to next, or Step::kLeave when the verdict settles the stage (LeftAs says how).
int Advance(const std::vector<Step>& flow, int pos, const std::string& label, v1::Item* item);

// How `item` leaves the stage of step `pos` (after Advance returned kLeave): kRejected when a
// verify said no or an iteration has no version, kSucceeded otherwise.
StageState LeftAs(const std::vector<Step>& flow, int pos, const v1::Item& item);

// A new item's flight: the stages straight after the split running, the others waiting.
ItemFlight StartFlight(const std::vector<Step>& flow);

// Settles the stage at `entry` as `state` (kSucceeded or kRejected) with its field `value`, and
// decides the stages after it whose readiness is now met (they start) or can no longer be met
// (they are skipped, and so on down). Returns the entries of the stages that start, in flow
// order; `settled`, when given, gets every stage settled here (this one and those skipped).
std::vector<int> Settle(const std::vector<Step>& flow, int entry, StageState state,
                        std::string value, ItemFlight* flight, std::vector<int>* settled = nullptr);

// The item as the stage at `entry` sees it when it starts: `from`'s input fields (those not
// named after a stage) and the field of every settled stage before it on some path.
v1::Item EntryItem(const std::vector<Step>& flow, int entry, const ItemFlight& flight,
                   const v1::Item& from);

// An item's path replayed from the verdicts stored for it: its flight, the steps it waits at
// (with the item as each sees it), the item with every settled stage's field, and the verdicts
// in flow order. `verdict_of` reads the stored verdict of a step for this item: NOT_FOUND when
// there is none yet.
struct FlowReplay {
  ItemFlight flight;
  struct Waiting {
    int pos = 0;
    v1::Item item;
  };
  std::vector<Waiting> waiting;  // empty once the item is finished
  v1::Item item;
  std::vector<v1::ResultRecord> verdicts;
};
absl::StatusOr<FlowReplay> ReplayFlow(
    const std::vector<Step>& flow, const v1::Item& input,
    const std::function<absl::Status(const Step&, v1::ResultRecord*)>& verdict_of);

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
