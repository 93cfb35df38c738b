// Simulated workers, for the demo and the tests: they answer assignments with a set accuracy and
// speed. Each answer is a pure function of (seed, worker, task), so a run replays exactly.
#ifndef MW_WORKER_AGENT_SIMULATED_WORKER_H_
#define MW_WORKER_AGENT_SIMULATED_WORKER_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "microwork/v1/records.pb.h"

namespace mw::agent {

namespace v1 = ::microwork::v1;

struct CrowdModel {
  double accuracy = 0.9;  // chance of giving the true label when it is known
  double speed = 1.0;     // 1.0: takes the stage's estimated time on average
  uint64_t seed = 1;
  // Known true labels by the value of `truth_field` in the item, for every stage.
  std::string truth_field;
  std::map<std::string, std::string> truth;
  // Or per stage: stage name -> (value of `truth_field` -> label).
  std::map<std::string, std::map<std::string, std::string>> stage_truth;
};

// Reads a truth CSV: header "<item field>,<label column>", then one row per item; or with more
// columns, "<item field>,<stage>,<stage>...": each stage's true answer. A piece (Item.cut_by)
// is looked up as "<value>#<position from 1>" first, then as its parent's "<value>".
[[nodiscard]] absl::StatusOr<CrowdModel> LoadTruth(const std::string& path, CrowdModel model);

struct SimulatedAnswer {
  v1::Answer answer;
  uint32_t active_seconds = 0;
  bool truth_known = false;  // the truth file had this item: otherwise the answer is a guess
};

// What worker `worker` answers to `a` under `model`, for every answer kind. On a verify task
// (yes/no on another stage's answer) or an iteration's vote (new/previous version), a right
// judgement compares the judged field with that stage's truth; a wrong text answer is the truth
// with its end missing; a wrong number misses the truth by a tenth (at least one unit) within the
// stage's range; a wrong set of choices is one option that is not the truth; wrong spans leave
// one out, give one another label or run one on to the next word; a wrong comparison picks the
// other version; a wrong ranking swaps two neighbours; shapes are always drawn a little off
// (a box's corners by up to a tenth of its size), and wrong ones leave one out or relabel it. A
// truth of spans is their text form ("0-4:PER;13-20:LOC"), of shapes theirs
// ("car:10,20,110,90"), of a ranking its fields joined by '>'. Without a truth for the item the
// answer is a guess (truth_known false).
SimulatedAnswer Simulate(const CrowdModel& model, const std::string& worker,
                         const v1::CachedAssignment& a);

}  // namespace mw::agent

#endif  // MW_WORKER_AGENT_SIMULATED_WORKER_H_
