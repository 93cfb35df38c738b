#include "engine/dispatch/lease_table.h"

#include <algorithm>
#include <climits>
#include <memory>

#include "absl/strings/str_cat.h"

namespace mw::dispatch {

namespace v1 = ::microwork::v1;

LeaseTable::LeaseTable(const Options& options)
    : options_(options), jitter_(options.seed != 0 ? options.seed : std::random_device()()) {}

int64_t LeaseTable::Bound(const v1::SlotRecord& slot) const {
  if (slot.started_at_ms() > 0) {
    return options_.start_to_close_ms > 0 ? slot.started_at_ms() + options_.start_to_close_ms
                                          : INT64_MAX;
  }
  return options_.schedule_to_start_ms > 0 ? slot.leased_at_ms() + options_.schedule_to_start_ms
                                           : INT64_MAX;
}

int64_t LeaseTable::ExpiryFrom(int64_t now, const v1::SlotRecord& slot) const {
  return std::min(now + options_.lease_ms, Bound(slot));
}

std::string LeaseTable::SlotKey(const std::string& task_key, const std::string& worker) {
  return absl::StrCat(task_key, absl::string_view("\0", 1), worker);
}

void LeaseTable::Arm(const std::string& task_key, const v1::SlotRecord& slot) {
  auto [it, fresh] = armed_.try_emplace(SlotKey(task_key, slot.worker()), timers_.end());
  if (!fresh) timers_.erase(it->second);
  it->second =
      timers_.insert(Timer{slot.lease_expires_at_ms(), task_key, slot.worker(), slot.epoch()})
          .first;
}

void LeaseTable::Disarm(const std::string& task_key, const std::string& worker) {
  auto it = armed_.find(SlotKey(task_key, worker));
  if (it == armed_.end()) return;
  timers_.erase(it->second);
  armed_.erase(it);
}

std::vector<LeaseTable::Timer> LeaseTable::TakeDue(int64_t now) {
  std::vector<Timer> due;
  while (!timers_.empty() && timers_.begin()->at_ms <= now) {
    auto node = timers_.extract(timers_.begin());
    armed_.erase(SlotKey(node.value().task_key, node.value().worker));
    due.push_back(std::move(node.value()));
  }
  return due;
}

std::optional<int64_t> LeaseTable::NextExpiry() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->at_ms;
}

std::function<bool(const std::string&, const v1::SlotRecord&)> LeaseTable::CoverageCheck() const {
  auto earliest = std::make_shared<absl::flat_hash_map<std::string, int64_t>>();
  for (const Timer& t : timers_) {
    earliest->try_emplace(absl::StrCat(t.task_key, "|", t.worker, "|", t.epoch), t.at_ms);
  }
  return [earliest](const std::string& task_key, const v1::SlotRecord& slot) {
    auto it = earliest->find(absl::StrCat(task_key, "|", slot.worker(), "|", slot.epoch()));
    return it != earliest->end() && it->second <= slot.lease_expires_at_ms();
  };
}

std::string LeaseTable::WorkerKey(const std::string& centre, const std::string& worker) {
  return absl::StrCat(centre, "/", worker);
}

void LeaseTable::Hold(const std::string& centre, const std::string& worker) {
  ++by_centre_[centre];
  ++by_worker_[WorkerKey(centre, worker)];
}

void LeaseTable::Release(const std::string& centre, const std::string& worker) {
  --by_centre_[centre];
  --by_worker_[WorkerKey(centre, worker)];
}

void LeaseTable::Move(const std::string& centre, const std::string& from, const std::string& to) {
  --by_worker_[WorkerKey(centre, from)];
  ++by_worker_[WorkerKey(centre, to)];
}

uint32_t LeaseTable::HeldByCentre(const std::string& centre) const {
  auto it = by_centre_.find(centre);
  return it == by_centre_.end() ? 0 : it->second;
}

uint32_t LeaseTable::HeldBy(const std::string& centre, const std::string& worker) const {
  auto it = by_worker_.find(WorkerKey(centre, worker));
  return it == by_worker_.end() ? 0 : it->second;
}

int64_t LeaseTable::RetryDelay(uint32_t failures) {
  int64_t delay = options_.retry_base_ms;
  for (uint32_t f = 1; f < failures && delay < options_.retry_max_ms; ++f) delay *= 2;
  delay = std::min(delay, options_.retry_max_ms);
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  return static_cast<int64_t>(delay * jitter(jitter_));
}

}  // namespace mw::dispatch
