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
// A verify's "no", or an iteration with no version, rejects the item; the stage's OnReject says
// what then: STOP_ITEM settles it rejected (the stages that need it are skipped), KEEP_PREVIOUS
// settles it kept (the rejected field takes the value of the stage's `keep` field, and the
// stages after it run as after a success), SEND_TO_REVIEW holds the item at the verify until a
// person decides (the verdict is stored `held`; their answer moves it on).
// A skipped stage counts as settled, so the stages after it are decided in turn and every join
// is decided exactly once. The item is finished when every stage has settled. A stage entered
// after others sees the item's input fields and the fields of every stage before it on some
// path. A merge is not a step: it shapes the export (Engine::ExportResults).
//
// Pieces cut by people: a human stage with `pieces` lists them in its answer, one per line. Each
// piece becomes a child item (PieceIndex) that starts at the stages after the cutting stage (its
// scope), and the cutting stage settles for the parent only when every piece is done: its field
// then holds the pieces' gathered values in order (the gather stage names which field), and the
// stages after the gather go on with the parent. Pieces of pieces nest the same way.
#ifndef MW_ENGINE_DISPATCH_FLOW_H_
#define MW_ENGINE_DISPATCH_FLOW_H_

#include <cstdint>
#include <functional>
#include <map>
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
  // The entry of the cutting stage whose pieces this stage works on; -1: the job's own items.
  // A stage's `after`, `followers` and readiness only ever name stages of its own scope.
  int scope = -1;
  // A cutting stage (Pieces): how many pieces one answer may list, the gather stage (contract
  // index) that takes them back, and the pieces' field it gathers.
  uint32_t max_pieces = 0;
  int gather_index = -1;
  std::string gather_field;
  std::string gather_name;
  v1::Readiness gather_readiness = v1::ALL_DONE;  // over the pieces, once all are done
  uint32_t gather_quorum = 0;
  // A verify or iterate stage: what a rejection does (never UNSPECIFIED here: BuildFlow gives
  // the scope's default), the field whose value KEEP_PREVIOUS keeps, and the entry of the stage
  // whose field takes it (a verify's target; an iterate stage itself).
  v1::OnReject on_reject = v1::STOP_ITEM;
  std::string keep;
  int replaces = -1;

  static constexpr int kLeave = -1;
  bool is_entry(int pos) const { return entry == pos; }
};

// How a stage stands for one item.
enum class StageState : uint8_t {
  kWaiting,     // not entered: it waits for the stages it is after
  kRunning,     // entered, no verdict that settles it yet
  kSucceeded,   // settled: its field holds its verdict
  kRejected,    // settled: a verify said no, or an iteration ended with no version
  kKept,        // settled: rejected, and the item goes on with the previous version
  kSkipped,     // settled without running: its readiness can no longer be met
  kOutOfScope,  // not for this item: it works on pieces, or this item is a piece
};
bool Settled(StageState s);

// Where one item stands in the stage graph.
struct ItemFlight {
  std::vector<StageState> state;   // by step position; only stage entries are used
  std::vector<std::string> value;  // by entry: the stage's field as it settled
  int unsettled = 0;               // stages not yet settled; 0: the item is finished
  int scope = -1;                  // the cutting stage this item is a piece of; -1: none
  // By the entry of a cutting stage that cut this item: its pieces not done yet, and each
  // piece's gathered value; `kept` counts pieces turned down and gathered with their previous
  // version, `left_out` marks those stopped (not gathered).
  struct Cut {
    uint32_t open = 0;
    std::vector<std::string> values;
    std::vector<bool> left_out;
    uint32_t kept = 0;
    // The gathered value: the pieces not left out, one per line, in order.
    std::string Joined() const;
    uint32_t LeftOut() const;
  };
  std::map<int, Cut> cuts;
  bool finished() const { return unsettled == 0; }
};

// Item indexes from here up to kGoldItemBase are pieces: kPieceBase + level << 56 + parent's
// number << 16 + cutting stage's index << 10 + position. ValidateContract keeps stage indexes
// below 64, positions below 1024 and nesting to two levels, and submission caps the items so
// that the numbers fit.
inline constexpr uint64_t kPieceBase = uint64_t{1} << 61;
// Item indexes at and above this belong to gold (check) tasks, never to the client's items.
inline constexpr uint64_t kGoldItemBase = uint64_t{1} << 62;
inline constexpr uint32_t kMaxPiecesPerItem = 1000;
inline constexpr uint64_t kMaxItemsWithPieces = uint64_t{1} << 24;
bool IsPiece(uint64_t index);
uint64_t PieceIndex(uint64_t parent, uint32_t stage_index, uint32_t position);

// The pieces a cutting stage's verdict lists: its non-empty lines, trimmed, at most `max`.
std::vector<std::string> SplitPieces(const std::string& verdict, uint32_t max);

// A piece of `parent` (as the cutting stage at `entry` left it): the parent's fields, the
// piece in the cutting stage's field, and its place.
v1::Item MakePiece(const std::vector<Step>& flow, int entry, const v1::Item& parent,
                   uint32_t position, const std::string& piece);

// What a finished piece gives back to its parent's gather (in `*value`): the gathered field
// (kDone); its previous version when a stage kept it, or the piece as cut when a stage on it was
// skipped (kKept); nothing when a stage stopped it (kLeftOut).
enum class Gathered { kDone, kKept, kLeftOut };
Gathered GatheredValue(const std::vector<Step>& flow, int cut_entry, const ItemFlight& piece,
                       const v1::Item& item, std::string* value);

// The steps of `contract`, which ValidateContract accepted.
std::vector<Step> BuildFlow(const v1::Contract& contract);

// The most answers one item can need at `step`: its overlap, or its dynamic overlap's cap.
uint32_t MaxAnswers(const Step& step);

// Whether the verdict on a task of `step` that has the `needed` answers it asks for may, rather
// than decide, ask for one more: dynamic overlap, below its cap. When it may not, the answer
// that completes the task is decided, and its wage posted, with it.
bool MayAskForMore(const Step& step, uint32_t needed);

// Prepares `item` to enter `step`: the first round of an iteration starts from an empty version.
void Enter(const Step& step, v1::Item* item);

// Applies the verdict `label` of step `pos` to `item` and returns the step of the same stage it
// goes to next, or Step::kLeave when the verdict settles the stage (LeftAs says how).
int Advance(const std::vector<Step>& flow, int pos, const std::string& label, v1::Item* item);

// How `item` leaves the stage of step `pos` (after Advance returned kLeave): kSucceeded; or, when
// a verify said no or an iteration has no version, as the stage's OnReject says: kRejected, or
// kKept with the stage whose field takes the previous version and that version. (A verdict of
// SEND_TO_REVIEW gets here once a person said no: it stops a whole item, keeps a piece as cut.)
struct Leaving {
  StageState state = StageState::kSucceeded;
  int replaced = -1;  // kKept: the entry whose field takes `previous`
  std::string previous;
};
Leaving LeftAs(const std::vector<Step>& flow, int pos, const v1::Item& item);

// How a cutting stage settles once every piece is done, by its gather's readiness: kSucceeded,
// or kRejected (the parent stops) when fewer pieces succeeded than it needs.
StageState CutSettlesAs(const Step& cutting, const ItemFlight::Cut& cut);

// Whether the verdict `label` of step `pos` waits for a person (SEND_TO_REVIEW and a "no").
bool HeldForReview(const Step& step, const std::string& label);

// A new item's flight: the stages straight after the split running, the others waiting. For a
// piece cut at `scope` (an entry), the stages of that scope: those after the cutting stage run.
ItemFlight StartFlight(const std::vector<Step>& flow, int scope = -1);
// The entry of the stage named `stage` (a piece's cut_by); -1 when none.
int EntryOf(const std::vector<Step>& flow, const std::string& stage);

// Settles the stage at `entry` as `state` (kSucceeded or kRejected) with its field `value`, and
// decides the stages after it whose readiness is now met (they start) or can no longer be met
// (they are skipped, and so on down). Returns the entries of the stages that start, in flow
// order; `settled`, when given, gets every stage settled here (this one and those skipped).
std::vector<int> Settle(const std::vector<Step>& flow, int entry, StageState state,
                        std::string value, ItemFlight* flight, std::vector<int>* settled = nullptr);
// Settle as LeftAs said: for kKept, the replaced field (this stage's or its target's) takes the
// previous version first.
std::vector<int> Settle(const std::vector<Step>& flow, int entry, const Leaving& left,
                        std::string value, ItemFlight* flight, std::vector<int>* settled = nullptr);

// The item as the stage at `entry` sees it when it starts: `from`'s input fields (those not
// named after a stage of the item's scope) and the field of every settled stage before it on
// some path.
v1::Item EntryItem(const std::vector<Step>& flow, int entry, const ItemFlight& flight,
                   const v1::Item& from);
// The same, taking `from`'s fields instead of copying them (an export's last use of its item):
// `from` is left with its header and no fields.
v1::Item EntryItem(const std::vector<Step>& flow, int entry, const ItemFlight& flight,
                   v1::Item&& from);

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
  std::vector<int> held;         // the steps where it waits for a person's review
  v1::Item item;
  std::vector<v1::ResultRecord> verdicts;
  std::vector<FlowReplay> pieces;  // every piece this item was cut into, in order
};
struct ReplaySource {
  // The stored verdict of `step` for item `index`: NOT_FOUND when there is none yet.
  std::function<absl::Status(const Step& step, uint64_t index, v1::ResultRecord* out)> verdict;
  // The stored item `index` (a piece is stored when it is cut).
  std::function<absl::Status(uint64_t index, v1::Item* out)> item;
  // When not null, the item a replay walks through the stages, kept by the caller from one
  // replay to the next: its fields' objects (and their strings' room) are filled again rather
  // than made and freed for every item, as an export replaying a million would. What it holds
  // between replays means nothing. The replays of an item's pieces walk their own.
  v1::Item* walk = nullptr;
};
absl::StatusOr<FlowReplay> ReplayFlow(const std::vector<Step>& flow, const v1::Item& input,
                                      const ReplaySource& source);
// The same, with the replay's item made of `input`'s own fields (moved, not copied) once the
// replay is done with it: for an export, which reads each item once. `input` is left with its
// header and no fields.
absl::StatusOr<FlowReplay> ReplayFlow(const std::vector<Step>& flow, v1::Item&& input,
                                      const ReplaySource& source);

// "succeeded", or what each verify or iterate stage that turned the finished item down did, in
// flow order: "rejected by <stage>" (it stopped the item), "kept <keep> as <field>: rejected by
// <stage>" (it went on with the previous version), joined by "; ".
std::string ItemStatus(const std::vector<Step>& flow, const ItemFlight& flight);

// The finished `item` as exported: its input fields, then one field per human, verify and
// iterate stage in flow order (empty for a stage a rejected item skipped), so every row has the
// same columns.
v1::Item ExportedItem(const std::vector<Step>& flow, v1::Item item);

// The field `name` of `item`, or nullptr.
const std::string* FindField(const v1::Item& item, const std::string& name);
void SetField(v1::Item* item, const std::string& name, const std::string& value);

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_FLOW_H_
