#include "worker-agent/state/earnings.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/common/ids.h"
#include "engine/common/status_macros.h"
#include "engine/storage/check_records.h"
#include "engine/storage/keys.h"

namespace mw::centre {

namespace v1 = ::microwork::v1;
namespace keys = storage::keys;
using storage::Batch;
using storage::Cf;

v1::EarningRecord EarningFor(const v1::OutboxEntry& entry, const v1::Receipt& r) {
  const v1::Result& result = entry.result();
  v1::EarningRecord earning;
  earning.set_result_id(result.result_id());
  if (auto aid = ParseAssignmentId(result.assignment_id()); aid.ok()) {
    earning.set_task_id(aid->first);
    if (auto task = ParseTaskId(aid->first); task.ok()) earning.set_stage(task->stage);
  }
  earning.set_wage_minor(r.wage_minor());
  earning.set_currency(r.currency());
  earning.set_active_seconds(result.active_seconds());
  earning.set_answered_at_ms(result.answered_at_ms());
  earning.set_late(r.late());
  earning.set_feedback(r.feedback());
  earning.set_skipped(result.answer().skipped());
  earning.set_distressing(entry.distressing());
  earning.set_check(r.check());
  earning.set_check_correct(r.check_correct());
  return earning;
}

absl::Status Earnings::Load() const {
  return storage::CheckRecords<v1::EarningRecord>(*store_, Cf::kEarnings);
}

void Earnings::Put(const std::string& worker, const v1::EarningRecord& earning,
                   Batch* batch) const {
  batch->PutRecord(Cf::kEarnings,
                   keys::Earning(worker, earning.answered_at_ms(), earning.result_id()), earning);
}

absl::StatusOr<std::vector<v1::EarningRecord>> Earnings::Since(const std::string& worker,
                                                               int64_t since_ms) const {
  std::vector<v1::EarningRecord> out;
  auto c = store_->ScanFrom(Cf::kEarnings, keys::EarningsPrefix(worker),
                            keys::Earning(worker, since_ms, ""));
  for (; c->Valid(); c->Next()) {
    v1::EarningRecord e;
    if (absl::Status s = c->Read(&e); !s.ok()) {
      return absl::DataLossError(
          absl::StrCat("earnings record \"", absl::CHexEscape(c->key()), "\": ", s.message()));
    }
    out.push_back(std::move(e));
  }
  MW_RETURN_IF_ERROR(c->status());
  return out;
}

}  // namespace mw::centre
