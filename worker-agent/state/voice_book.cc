#include "worker-agent/state/voice_book.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/record/voice.h"
#include "engine/storage/check_records.h"
#include "engine/storage/keys.h"

namespace mw::centre {

namespace v1 = ::microwork::v1;
namespace keys = storage::keys;
using storage::Batch;
using storage::Cf;
using storage::Durability;

absl::Status VoiceBook::Load() {
  absl::MutexLock l(&mu_);
  MW_RETURN_IF_ERROR(storage::ForEachRecord<v1::WorkRating>(
      *store_, Cf::kMeta,
      [&](absl::string_view, v1::WorkRating r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        ratings_[{r.job_id(), r.worker()}] = std::move(r);
        return absl::OkStatus();
      },
      keys::RatingPrefix()));
  MW_RETURN_IF_ERROR(storage::ForEachRecord<v1::TaskFlag>(
      *store_, Cf::kMeta,
      [&](absl::string_view, v1::TaskFlag f) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        flags_[{f.task_id(), f.worker()}] = std::move(f);
        return absl::OkStatus();
      },
      keys::FlagPrefix()));
  return storage::ForEachRecord<v1::Complaint>(
      *store_, Cf::kMeta,
      [&](absl::string_view key, v1::Complaint k) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        uint64_t number = 0;
        if (!absl::SimpleAtoi(k.id(), &number)) {
          return absl::DataLossError(absl::StrCat("complaint without a number: ", key));
        }
        complaints_[number] = std::move(k);
        return absl::OkStatus();
      },
      keys::ComplaintPrefix());
}

absl::Status VoiceBook::Rate(v1::WorkRating r, int64_t now_ms) {
  if (r.worker().empty()) return absl::InvalidArgumentError("worker: who rates the job");
  MW_RETURN_IF_ERROR(voice::CheckRating(r));
  r.set_rated_at_ms(now_ms);
  r.set_shared(false);
  r.clear_centre();
  r.clear_client();
  absl::MutexLock l(&mu_);
  if (ratings_.count({r.job_id(), r.worker()}) > 0) {
    return absl::AlreadyExistsError(absl::StrCat("you rated ", r.job_id(), " already"));
  }
  Batch batch;
  batch.PutRecord(Cf::kMeta, keys::Rating(r.job_id(), r.worker()), r);
  MW_RETURN_IF_ERROR(store_->Write(std::move(batch), Durability::kSynced));
  ratings_[{r.job_id(), r.worker()}] = std::move(r);
  ++changes_;
  return absl::OkStatus();
}

std::optional<v1::WorkRating> VoiceBook::RatingOf(const std::string& worker,
                                                  const std::string& job_id) const {
  absl::MutexLock l(&mu_);
  auto it = ratings_.find({job_id, worker});
  if (it == ratings_.end()) return std::nullopt;
  return it->second;
}

absl::Status VoiceBook::Flag(v1::TaskFlag f, int64_t now_ms) {
  if (f.worker().empty()) return absl::InvalidArgumentError("worker: who flags the task");
  MW_RETURN_IF_ERROR(voice::CheckFlag(f));
  f.set_flagged_at_ms(now_ms);
  f.set_shared(false);
  f.clear_centre();
  absl::MutexLock l(&mu_);
  Batch batch;
  batch.PutRecord(Cf::kMeta, keys::Flag(f.task_id(), f.worker()), f);
  MW_RETURN_IF_ERROR(store_->Write(std::move(batch), Durability::kSynced));
  flags_[{f.task_id(), f.worker()}] = std::move(f);
  ++changes_;
  return absl::OkStatus();
}

absl::Status VoiceBook::PutComplaint(const v1::Complaint& c) {
  Batch batch;
  batch.PutRecord(Cf::kMeta, keys::Complaint("", c.id()), c);
  return store_->Write(std::move(batch), Durability::kSynced);
}

absl::StatusOr<v1::Complaint> VoiceBook::File(const std::string& worker, v1::ComplaintTopic topic,
                                              const std::string& text, int64_t now_ms) {
  if (worker.empty()) return absl::InvalidArgumentError("worker: who complains");
  MW_RETURN_IF_ERROR(voice::CheckComplaint(topic, text));
  absl::MutexLock l(&mu_);
  size_t open = 0;
  for (const auto& [n, c] : complaints_) open += c.worker() == worker && !c.answered();
  if (open >= kMaxOpenPerWorker) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "you have ", open, " complaints waiting for an answer; wait for one before filing more"));
  }
  const uint64_t number = complaints_.empty() ? 1 : complaints_.rbegin()->first + 1;
  v1::Complaint c;
  c.set_id(absl::StrCat(number));
  c.set_topic(topic);
  c.set_text(text);
  c.set_worker(worker);
  c.set_filed_at_ms(now_ms);
  MW_RETURN_IF_ERROR(PutComplaint(c));
  complaints_[number] = c;
  ++changes_;
  return c;
}

absl::StatusOr<v1::Complaint> VoiceBook::Answer(const std::string& id, const std::string& answer,
                                                const std::string& by, int64_t now_ms) {
  if (by.empty()) return absl::InvalidArgumentError("answered_by: who answers");
  MW_RETURN_IF_ERROR(
      voice::CheckText("answer", answer, voice::kMaxComplaintChars, /*may_be_empty=*/false));
  uint64_t number = 0;
  absl::MutexLock l(&mu_);
  auto it = absl::SimpleAtoi(id, &number) ? complaints_.find(number) : complaints_.end();
  if (it == complaints_.end()) return absl::NotFoundError(absl::StrCat("no complaint ", id));
  if (it->second.answered()) {
    return absl::FailedPreconditionError(
        absl::StrCat("complaint ", id, " was answered already by ", it->second.answered_by()));
  }
  v1::Complaint c = it->second;
  c.set_answered(true);
  c.set_answer(answer);
  c.set_answered_by(by);
  c.set_answered_at_ms(now_ms);
  c.set_shared(false);
  MW_RETURN_IF_ERROR(PutComplaint(c));
  it->second = c;
  ++changes_;
  return c;
}

absl::StatusOr<int> VoiceBook::Escalate(int64_t now_ms, int64_t after_ms) {
  absl::MutexLock l(&mu_);
  Batch batch;
  std::vector<uint64_t> due;
  for (auto& [n, c] : complaints_) {
    if (c.answered() || c.escalated() || c.filed_at_ms() > now_ms - after_ms) continue;
    v1::Complaint e = c;
    e.set_escalated(true);
    e.set_escalated_at_ms(now_ms);
    e.set_shared(false);
    batch.PutRecord(Cf::kMeta, keys::Complaint("", e.id()), e);
    due.push_back(n);
  }
  if (due.empty()) return 0;
  MW_RETURN_IF_ERROR(store_->Write(std::move(batch), Durability::kSynced));
  for (uint64_t n : due) {
    complaints_[n].set_escalated(true);
    complaints_[n].set_escalated_at_ms(now_ms);
    complaints_[n].set_shared(false);
  }
  ++changes_;
  return static_cast<int>(due.size());
}

std::vector<v1::Complaint> VoiceBook::ComplaintsOf(const std::string& worker) const {
  absl::MutexLock l(&mu_);
  std::vector<v1::Complaint> out;
  for (auto it = complaints_.rbegin(); it != complaints_.rend(); ++it) {
    if (it->second.worker() == worker) out.push_back(it->second);
  }
  return out;
}

std::vector<v1::Complaint> VoiceBook::Complaints() const {
  absl::MutexLock l(&mu_);
  std::vector<v1::Complaint> out;
  for (const auto& [n, c] : complaints_) {
    if (!c.answered()) out.push_back(c);
  }
  for (auto it = complaints_.rbegin(); it != complaints_.rend(); ++it) {
    if (it->second.answered()) out.push_back(it->second);
  }
  return out;
}

std::vector<v1::TaskFlag> VoiceBook::Flags() const {
  absl::MutexLock l(&mu_);
  std::vector<v1::TaskFlag> out;
  for (const auto& [k, f] : flags_) out.push_back(f);
  std::stable_sort(out.begin(), out.end(), [](const v1::TaskFlag& a, const v1::TaskFlag& b) {
    return a.flagged_at_ms() > b.flagged_at_ms();
  });
  return out;
}

std::vector<v1::WorkRating> VoiceBook::Ratings() const {
  absl::MutexLock l(&mu_);
  std::vector<v1::WorkRating> out;
  for (const auto& [k, r] : ratings_) out.push_back(r);
  return out;
}

v1::ShareVoiceRequest VoiceBook::Unshared() const {
  absl::MutexLock l(&mu_);
  v1::ShareVoiceRequest req;
  for (const auto& [k, r] : ratings_) {
    if (!r.shared() && static_cast<size_t>(req.ratings_size()) < voice::kMaxPerShare) {
      *req.add_ratings() = r;
    }
  }
  for (const auto& [k, f] : flags_) {
    if (!f.shared() && static_cast<size_t>(req.flags_size()) < voice::kMaxPerShare) {
      *req.add_flags() = f;
    }
  }
  for (const auto& [n, c] : complaints_) {
    if (c.shared() || static_cast<size_t>(req.complaints_size()) >= voice::kMaxPerShare) continue;
    v1::Complaint* out = req.add_complaints();
    *out = c;
    out->clear_worker();
    out->clear_shared();
    // Times to the hour: the operator needs a complaint's age, not the minute it was written.
    constexpr int64_t kHour = 3'600'000;
    out->set_filed_at_ms(std::max<int64_t>(kHour, c.filed_at_ms() / kHour * kHour));
    out->set_escalated_at_ms(c.escalated_at_ms() / kHour * kHour);
    out->set_answered_at_ms(c.answered_at_ms() / kHour * kHour);
    if (!c.escalated()) {
      out->clear_text();
      out->clear_answer();
    }
  }
  return req;
}

absl::Status VoiceBook::Shared(const v1::ShareVoiceRequest& sent, const v1::ShareVoiceReply& reply,
                               int64_t now_ms) {
  absl::MutexLock l(&mu_);
  // The records as they will be, written first and only then kept in memory: a failed write
  // leaves both as they were, and the next share sends the same again.
  std::map<std::pair<std::string, std::string>, v1::WorkRating> ratings;
  std::map<std::pair<std::string, std::string>, v1::TaskFlag> flags;
  std::map<uint64_t, v1::Complaint> complaints;
  for (const v1::WorkRating& r : sent.ratings()) {
    auto it = ratings_.find({r.job_id(), r.worker()});
    if (it == ratings_.end() || it->second.rated_at_ms() != r.rated_at_ms()) continue;
    ratings[it->first] = it->second;
    ratings[it->first].set_shared(true);
  }
  for (const v1::TaskFlag& f : sent.flags()) {
    auto it = flags_.find({f.task_id(), f.worker()});
    if (it == flags_.end() || it->second.flagged_at_ms() != f.flagged_at_ms()) continue;
    flags[it->first] = it->second;
    flags[it->first].set_shared(true);
  }
  for (const v1::Complaint& c : sent.complaints()) {
    uint64_t n = 0;
    if (!absl::SimpleAtoi(c.id(), &n)) continue;
    auto it = complaints_.find(n);
    if (it == complaints_.end() || it->second.answered() != c.answered() ||
        it->second.escalated() != c.escalated() || it->second.answer() != c.answer()) {
      continue;  // changed since it was sent: send it again
    }
    complaints[n] = it->second;
    complaints[n].set_shared(true);
  }
  // The operator's answers. One to a complaint a manager answered meanwhile is added below
  // theirs: the worker reads both, and the dispatcher gets both back.
  for (const v1::Complaint& a : reply.answered()) {
    uint64_t n = 0;
    if (!absl::SimpleAtoi(a.id(), &n) || !absl::StartsWith(a.answered_by(), "operator:")) continue;
    auto it = complaints_.find(n);
    if (it == complaints_.end() ||
        !voice::CheckText("answer", a.answer(), voice::kMaxComplaintChars, false).ok()) {
      continue;
    }
    v1::Complaint c = complaints.count(n) > 0 ? complaints[n] : it->second;
    const std::string from_operator = absl::StrCat(a.answered_by(), ": ", a.answer());
    if (!c.answered()) {
      c.set_answered(true);
      c.set_answer(a.answer());
      c.set_answered_by(a.answered_by());
      c.set_answered_at_ms(a.answered_at_ms() > 0 ? a.answered_at_ms() : now_ms);
    } else if (c.answer() != a.answer() && !absl::StrContains(c.answer(), from_operator)) {
      c.set_answer(absl::StrCat(c.answer(), "\n\n", from_operator));
    } else {
      continue;
    }
    c.set_shared(false);  // tell the dispatcher the centre has it
    complaints[n] = std::move(c);
  }
  Batch batch;
  for (const auto& [k, r] : ratings) batch.PutRecord(Cf::kMeta, keys::Rating(k.first, k.second), r);
  for (const auto& [k, f] : flags) batch.PutRecord(Cf::kMeta, keys::Flag(k.first, k.second), f);
  for (const auto& [n, c] : complaints) batch.PutRecord(Cf::kMeta, keys::Complaint("", c.id()), c);
  if (!batch.Empty()) MW_RETURN_IF_ERROR(store_->Write(std::move(batch), Durability::kSynced));
  for (auto& [k, r] : ratings) ratings_[k] = std::move(r);
  for (auto& [k, f] : flags) flags_[k] = std::move(f);
  for (auto& [n, c] : complaints) {
    if (!c.shared()) ++changes_;  // an operator's answer: the dispatcher hears it was taken
    complaints_[n] = std::move(c);
  }
  jobs_.assign(reply.jobs().begin(), reply.jobs().end());
  clients_.assign(reply.clients().begin(), reply.clients().end());
  return absl::OkStatus();
}

std::vector<v1::RatingSummary> VoiceBook::JobSummaries() const {
  absl::MutexLock l(&mu_);
  return jobs_;
}

std::vector<v1::RatingSummary> VoiceBook::ClientSummaries() const {
  absl::MutexLock l(&mu_);
  return clients_;
}

std::optional<v1::RatingSummary> VoiceBook::JobSummary(const std::string& job_id) const {
  absl::MutexLock l(&mu_);
  for (const auto& s : jobs_) {
    if (s.job_id() == job_id) return s;
  }
  return std::nullopt;
}

std::optional<v1::RatingSummary> VoiceBook::ClientSummary(const std::string& client) const {
  absl::MutexLock l(&mu_);
  for (const auto& s : clients_) {
    if (s.client() == client) return s;
  }
  return std::nullopt;
}

}  // namespace mw::centre
