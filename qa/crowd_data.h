// CrowdData: answers of many workers to many tasks, interned to dense integer ids so the
// aggregators run over flat arrays. Memory is linear in the number of answers.
//
//   CrowdData data;
//   data.Add("task-1", "worker-a", "positive");
//   ...
//   Aggregate r = DawidSkene(data, EmOptions());
//   std::string label = data.label(r.tasks[t].label);
#ifndef MW_QA_CROWD_DATA_H_
#define MW_QA_CROWD_DATA_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace mw::qa {

class CrowdData {
 public:
  struct Answer {
    int32_t task;
    int32_t worker;
    int32_t label;
  };

  // Adds one answer. A worker answering a task twice counts twice (as the datasets record).
  void Add(absl::string_view task, absl::string_view worker, absl::string_view label);
  // Room for `answers` answers (and as many tasks as a third of them, the least redundancy that
  // needs truth inference), when their number is known before they are added: no regrowth.
  void Reserve(size_t answers) {
    answers_.reserve(answers);
    tasks_.reserve(answers / 3);
    task_index_.reserve(answers / 3);
  }
  // Sorts the label table in byte order and renumbers, so label ids (and so every tie-break
  // "to the lowest label") do not depend on the order the answers came in.
  // REQUIRES: called once, after the last Add, before aggregating.
  void Finalize();

  int num_tasks() const { return static_cast<int>(tasks_.size()); }
  int num_workers() const { return static_cast<int>(workers_.size()); }
  int num_labels() const { return static_cast<int>(labels_.size()); }
  const std::vector<Answer>& answers() const { return answers_; }
  const std::string& task(int i) const { return tasks_[i]; }
  const std::string& worker(int i) const { return workers_[i]; }
  const std::string& label(int i) const { return labels_[i]; }
  // The id of a task or label, or -1.
  int TaskId(const std::string& task) const;
  int LabelId(const std::string& label) const;
  // After Finalize, answers() are grouped by task (stable within a task): task t's answers are
  // answers()[task_offsets()[t] .. task_offsets()[t + 1]).
  const std::vector<int32_t>& task_offsets() const { return task_offsets_; }

 private:
  using Index = absl::flat_hash_map<std::string, int32_t>;
  // The id of `s` in `table`, added when new; `last` is the id Intern last returned for it.
  static int32_t Intern(absl::string_view s, std::vector<std::string>* table, Index* index,
                        int32_t* last);
  std::vector<std::string> tasks_, workers_, labels_;
  Index task_index_, worker_index_, label_index_;
  int32_t last_task_ = -1, last_worker_ = -1, last_label_ = -1;
  std::vector<Answer> answers_;
  std::vector<int32_t> task_offsets_;
};

// One task's outcome.
struct TaskEstimate {
  int32_t label = -1;     // -1 when the task has no answers
  double confidence = 0;  // the posterior of `label`, or its vote share for vote methods
};

struct Aggregate {
  std::vector<TaskEstimate> tasks;              // by task id
  std::vector<std::vector<double>> posteriors;  // by task id, by label (empty for votes)
  // EM models: P(answer l | truth k) for worker w at [(w * K + l) * K + k], and the class priors.
  std::vector<double> confusion;
  std::vector<double> priors;
  int iterations = 0;  // EM iterations run (0 for votes)
  bool converged = true;
};

}  // namespace mw::qa

#endif  // MW_QA_CROWD_DATA_H_
