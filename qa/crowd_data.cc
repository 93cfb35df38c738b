#include "qa/crowd_data.h"

#include <algorithm>
#include <numeric>

namespace mw::qa {

int32_t CrowdData::Intern(absl::string_view s, std::vector<std::string>* table, Index* index,
                          int32_t* last) {
  // Exported answers come grouped by task or by worker, and label sets are small: the last id
  // or a short scan is cheaper than hashing.
  if (*last >= 0 && (*table)[*last] == s) return *last;
  if (table->size() <= 8) {
    for (size_t i = 0; i < table->size(); ++i) {
      if ((*table)[i] == s) return *last = static_cast<int32_t>(i);
    }
  } else if (auto it = index->find(s); it != index->end()) {
    return *last = it->second;
  }
  const auto id = static_cast<int32_t>(table->size());
  table->emplace_back(s);
  index->emplace(table->back(), id);
  return *last = id;
}

void CrowdData::Add(absl::string_view task, absl::string_view worker, absl::string_view label) {
  answers_.push_back({Intern(task, &tasks_, &task_index_, &last_task_),
                      Intern(worker, &workers_, &worker_index_, &last_worker_),
                      Intern(label, &labels_, &label_index_, &last_label_)});
}

void CrowdData::Finalize() {
  last_label_ = -1;  // the labels are renumbered
  std::vector<int32_t> order(labels_.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](int32_t a, int32_t b) { return labels_[a] < labels_[b]; });
  std::vector<int32_t> renumber(labels_.size());
  std::vector<std::string> sorted;
  for (size_t i = 0; i < order.size(); ++i) {
    renumber[order[i]] = static_cast<int32_t>(i);
    sorted.push_back(labels_[order[i]]);
  }
  labels_ = std::move(sorted);
  label_index_.clear();
  for (size_t i = 0; i < labels_.size(); ++i) label_index_[labels_[i]] = static_cast<int32_t>(i);
  for (auto& a : answers_) a.label = renumber[a.label];

  // Counting sort of answers by task, so the aggregators read them sequentially.
  task_offsets_.assign(tasks_.size() + 1, 0);
  for (const auto& a : answers_) ++task_offsets_[a.task + 1];
  for (size_t t = 0; t < tasks_.size(); ++t) task_offsets_[t + 1] += task_offsets_[t];
  std::vector<Answer> sorted_answers(answers_.size());
  std::vector<int32_t> fill(task_offsets_.begin(), task_offsets_.end() - 1);
  for (const auto& a : answers_) sorted_answers[fill[a.task]++] = a;
  answers_ = std::move(sorted_answers);
}

int CrowdData::TaskId(const std::string& task) const {
  auto it = task_index_.find(task);
  return it == task_index_.end() ? -1 : it->second;
}

int CrowdData::LabelId(const std::string& label) const {
  auto it = label_index_.find(label);
  return it == label_index_.end() ? -1 : it->second;
}

}  // namespace mw::qa
