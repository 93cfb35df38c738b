#include "engine/dispatch/voice_board.h"

#include <algorithm>
#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/common/ids.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"
#include "engine/record/voice.h"
#include "engine/storage/check_records.h"
#include "engine/storage/keys.h"

namespace mw::dispatch {

namespace v1 = ::microwork::v1;
namespace keys = storage::keys;
using storage::Cf;

namespace {

// A centre's clock may be ahead of ours by this much; a time further ahead is refused.
constexpr int64_t kMaxAheadMs = 24 * 3'600'000;
constexpr size_t kMaxReported = 1000;
constexpr char kSecretKey[] = "voice_secret";

bool IsNumber(const std::string& s) {
  return !s.empty() && s.size() <= 20 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string VoiceBoard::RaterOf(const std::string& account) const {
  return absl::StrCat("r", ToHex(Sha256(absl::StrCat(secret_, "\n", account))).substr(0, 32));
}

absl::Status VoiceBoard::Load(storage::Store* store) {
  MW_ASSIGN_OR_RETURN(std::optional<std::string> secret,
                      store->Get(Cf::kMeta, keys::Meta(kSecretKey)));
  if (!secret.has_value()) {
    secret = ToHex(RandomBytes(32));
    storage::Batch batch;
    batch.Put(Cf::kMeta, keys::Meta(kSecretKey), *secret);
    MW_RETURN_IF_ERROR(store->Write(std::move(batch), storage::Durability::kSynced));
  }
  secret_ = *secret;
  MW_RETURN_IF_ERROR(storage::ForEachRecord<v1::WorkRating>(
      *store, Cf::kMeta,
      [&](absl::string_view, v1::WorkRating r) {
        ratings_[{r.job_id(), r.worker()}] = std::move(r);
        return absl::OkStatus();
      },
      keys::RatingPrefix()));
  MW_RETURN_IF_ERROR(storage::ForEachRecord<v1::TaskFlag>(
      *store, Cf::kMeta,
      [&](absl::string_view, v1::TaskFlag f) {
        ++flags_per_rater_[f.worker()];
        flags_[{f.task_id(), f.worker()}] = std::move(f);
        return absl::OkStatus();
      },
      keys::FlagPrefix()));
  return storage::ForEachRecord<v1::Complaint>(
      *store, Cf::kMeta,
      [&](absl::string_view, v1::Complaint k) {
        if (!k.answered()) ++open_per_centre_[k.centre()];
        complaints_[{k.centre(), k.id()}] = std::move(k);
        return absl::OkStatus();
      },
      keys::ComplaintPrefix());
}

std::string VoiceBoard::TakeRating(const std::string& centre, const v1::WorkRating& r,
                                   int64_t now_ms, const Facts& facts, storage::Batch* batch) {
  if (absl::Status s = voice::CheckRating(r); !s.ok()) return std::string(s.message());
  if (!IsSimpleName(r.worker())) return "worker: expected the pseudonym of who rated the job";
  std::optional<std::string> client = facts.client_of(r.job_id());
  if (!client.has_value()) return absl::StrCat("job_id: no job ", r.job_id());
  const std::string account = WorkerAccount(centre, r.worker());
  if (!facts.worked_on(account, r.job_id())) {
    return absl::StrCat("worker ", r.worker(), " did no work on job ", r.job_id());
  }
  // Given once (voice::Published): the same again is a resend, anything else is refused.
  const std::string rater = RaterOf(account);
  if (auto it = ratings_.find({r.job_id(), rater}); it != ratings_.end()) {
    const v1::WorkRating& had = it->second;
    const bool same = had.clarity() == r.clarity() && had.time_estimate() == r.time_estimate() &&
                      had.pay_fairness() == r.pay_fairness() && had.comment() == r.comment();
    return same ? "" : absl::StrCat("worker ", r.worker(), " rated job ", r.job_id(), " already");
  }
  v1::WorkRating kept;
  kept.set_job_id(r.job_id());
  kept.set_clarity(r.clarity());
  kept.set_time_estimate(r.time_estimate());
  kept.set_pay_fairness(r.pay_fairness());
  kept.set_comment(r.comment());
  kept.set_worker(rater);
  kept.set_rated_at_ms(now_ms);
  kept.set_centre(centre);
  kept.set_client(*client);
  batch->PutRecord(Cf::kMeta, keys::Rating(kept.job_id(), kept.worker()), kept);
  ratings_[{kept.job_id(), kept.worker()}] = std::move(kept);
  return "";
}

std::string VoiceBoard::TakeFlag(const std::string& centre, const v1::TaskFlag& f, int64_t now_ms,
                                 const Facts& facts, storage::Batch* batch) {
  if (absl::Status s = voice::CheckFlag(f); !s.ok()) return std::string(s.message());
  if (!IsSimpleName(f.worker())) return "worker: expected the pseudonym of who flagged the task";
  const std::string job_id = ParseTaskId(f.task_id())->job_id;
  if (!facts.client_of(job_id).has_value()) return absl::StrCat("task_id: no job ", job_id);
  const std::string account = WorkerAccount(centre, f.worker());
  if (!facts.worked_on(account, job_id)) {
    return absl::StrCat("worker ", f.worker(), " did no work on job ", job_id);
  }
  const std::string rater = RaterOf(account);
  const bool fresh = flags_.count({f.task_id(), rater}) == 0;
  if (fresh && flags_per_rater_[rater] >= kMaxFlagsPerWorker) {
    return absl::StrCat("worker ", f.worker(), " has ", kMaxFlagsPerWorker, " flags kept already");
  }
  v1::TaskFlag kept;
  kept.set_task_id(f.task_id());
  kept.set_kind(f.kind());
  kept.set_note(f.note());
  kept.set_worker(rater);
  kept.set_flagged_at_ms(now_ms);
  kept.set_centre(centre);
  batch->PutRecord(Cf::kMeta, keys::Flag(kept.task_id(), kept.worker()), kept);
  if (fresh) ++flags_per_rater_[rater];
  flags_[{kept.task_id(), kept.worker()}] = std::move(kept);
  return "";
}

std::string VoiceBoard::TakeComplaint(const std::string& centre, const v1::Complaint& c,
                                      int64_t now_ms, storage::Batch* batch) {
  if (!IsNumber(c.id())) return "id: expected the centre's number of the complaint";
  if (!c.worker().empty()) return "worker: a complaint leaves the centre without the worker";
  if (c.topic() < v1::COMPLAINT_PAY || c.topic() > v1::COMPLAINT_DATA) {
    return "topic: expected pay, treatment, safety or data";
  }
  if (c.filed_at_ms() <= 0 || c.filed_at_ms() > now_ms + kMaxAheadMs) {
    return "filed_at_ms: not a time this complaint could have been filed";
  }
  if (c.escalated()) {
    if (absl::Status s = voice::CheckComplaint(c.topic(), c.text()); !s.ok()) {
      return std::string(s.message());
    }
  } else if (!c.text().empty() || !c.answer().empty()) {
    return "text: a complaint's words leave the centre only once it escalates";
  }
  if (c.answered()) {
    if (c.answered_by().empty() || c.answered_by().size() > 100) {
      return "answered_by: expected who answered";
    }
    if (c.escalated()) {
      if (absl::Status s = voice::CheckText("answer", c.answer(), voice::kMaxAnswerChars, false);
          !s.ok()) {
        return std::string(s.message());
      }
    }
  }
  auto it = complaints_.find({centre, c.id()});
  const bool was_open = it != complaints_.end() && !it->second.answered();
  if (it == complaints_.end() && !c.answered() && open_per_centre_[centre] >= kMaxOpenPerCentre) {
    return absl::StrCat("this centre has ", kMaxOpenPerCentre, " open complaints kept already");
  }
  if (it != complaints_.end() && it->second.answered() && !it->second.shared()) {
    // The operator answered; the centre had not heard of it. Its copy does not carry the
    // operator's answer yet (unanswered, or a manager's answer from before): the operator's stays
    // until the centre sends it back (below a manager's, if there is one).
    const v1::Complaint& had = it->second;
    if (!c.answered() ||
        (c.answer() != had.answer() &&
         !absl::StrContains(c.answer(), absl::StrCat(had.answered_by(), ": ", had.answer())))) {
      return "";
    }
  }
  v1::Complaint kept = c;
  kept.set_centre(centre);
  kept.set_shared(c.answered());  // the centre has the answer
  batch->PutRecord(Cf::kMeta, keys::Complaint(centre, kept.id()), kept);
  open_per_centre_[centre] += static_cast<size_t>(!kept.answered()) - static_cast<size_t>(was_open);
  complaints_[{centre, kept.id()}] = std::move(kept);
  return "";
}

absl::StatusOr<v1::ShareVoiceReply> VoiceBoard::Take(const std::string& centre,
                                                     const v1::ShareVoiceRequest& request,
                                                     int64_t now_ms, const Facts& facts,
                                                     storage::Batch* batch) {
  for (auto [what, n] :
       {std::pair{"ratings", request.ratings_size()}, std::pair{"flags", request.flags_size()},
        std::pair{"complaints", request.complaints_size()}}) {
    if (static_cast<size_t>(n) > voice::kMaxPerShare) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": at most ", voice::kMaxPerShare, " in one call, got ", n));
    }
  }
  v1::ShareVoiceReply reply;
  for (const auto& r : request.ratings()) {
    reply.add_rating_refusals(TakeRating(centre, r, now_ms, facts, batch));
  }
  for (const auto& f : request.flags()) {
    reply.add_flag_refusals(TakeFlag(centre, f, now_ms, facts, batch));
  }
  for (const auto& c : request.complaints()) {
    reply.add_complaint_refusals(TakeComplaint(centre, c, now_ms, batch));
  }
  // Summaries: of the jobs this centre's workers rated, and of every client.
  std::vector<v1::WorkRating> all;
  std::set<std::string> rated_here;
  for (const auto& [k, r] : ratings_) {
    all.push_back(r);
    if (r.centre() == centre) rated_here.insert(r.job_id());
  }
  for (auto& s : voice::Summarise(all, voice::By::kJob)) {
    if (rated_here.count(s.job_id()) > 0 &&
        static_cast<size_t>(reply.jobs_size()) < kMaxSummaries) {
      *reply.add_jobs() = std::move(s);
    }
  }
  for (auto& s : voice::Summarise(all, voice::By::kClient)) {
    if (static_cast<size_t>(reply.clients_size()) < kMaxSummaries) {
      *reply.add_clients() = std::move(s);
    }
  }
  for (auto it = complaints_.lower_bound({centre, ""});
       it != complaints_.end() && it->first.first == centre; ++it) {
    if (it->second.answered() && !it->second.shared()) {
      v1::Complaint& a = *reply.add_answered();
      a.set_id(it->second.id());
      a.set_answer(it->second.answer());
      a.set_answered_by(it->second.answered_by());
      a.set_answered_at_ms(it->second.answered_at_ms());
    }
  }
  return reply;
}

v1::VoiceReport VoiceBoard::Report(const std::string& client, int64_t now_ms) const {
  v1::VoiceReport report;
  report.set_now_ms(now_ms);
  std::vector<v1::WorkRating> all;
  std::vector<v1::WorkRating> of_client;
  for (const auto& [k, r] : ratings_) {
    all.push_back(r);
    if (client.empty() || r.client() == client) of_client.push_back(r);
  }
  for (auto& s : voice::Summarise(of_client, voice::By::kJob)) {
    if (static_cast<size_t>(report.jobs_size()) < kMaxReported) *report.add_jobs() = std::move(s);
  }
  for (auto& s : voice::Summarise(all, voice::By::kClient)) {
    if (!client.empty() && s.client() != client) continue;
    if (static_cast<size_t>(report.clients_size()) < kMaxReported) {
      *report.add_clients() = std::move(s);
    }
  }
  std::vector<const v1::TaskFlag*> flags;
  for (const auto& [k, f] : flags_) flags.push_back(&f);
  std::stable_sort(flags.begin(), flags.end(), [](const v1::TaskFlag* a, const v1::TaskFlag* b) {
    return a->flagged_at_ms() > b->flagged_at_ms();
  });
  for (const v1::TaskFlag* f : flags) {
    if (static_cast<size_t>(report.flags_size()) >= kMaxReported) break;
    v1::TaskFlag& out = *report.add_flags();
    out = *f;
    out.clear_worker();
  }
  std::vector<const v1::Complaint*> open, answered;
  for (const auto& [k, c] : complaints_) (c.answered() ? answered : open).push_back(&c);
  std::stable_sort(open.begin(), open.end(), [](const v1::Complaint* a, const v1::Complaint* b) {
    return a->filed_at_ms() < b->filed_at_ms();
  });
  std::stable_sort(answered.begin(), answered.end(),
                   [](const v1::Complaint* a, const v1::Complaint* b) {
                     return a->filed_at_ms() > b->filed_at_ms();
                   });
  for (const auto* list : {&open, &answered}) {
    for (const v1::Complaint* c : *list) {
      if (static_cast<size_t>(report.complaints_size()) >= kMaxReported) break;
      *report.add_complaints() = *c;
    }
  }
  return report;
}

absl::StatusOr<v1::Complaint> VoiceBoard::Answer(const v1::AnswerComplaintRequest& request,
                                                 const std::string& by, int64_t now_ms,
                                                 storage::Batch* batch) {
  MW_RETURN_IF_ERROR(
      voice::CheckText("answer", request.answer(), voice::kMaxComplaintChars, false));
  auto it = complaints_.find({request.centre(), request.complaint_id()});
  if (it == complaints_.end()) {
    return absl::NotFoundError(
        absl::StrCat("no complaint ", request.complaint_id(), " from centre ", request.centre()));
  }
  if (!it->second.escalated()) {
    return absl::FailedPreconditionError(
        absl::StrCat("complaint ", request.complaint_id(),
                     " has not escalated: the centre's managers answer it first"));
  }
  if (it->second.answered()) {
    return absl::FailedPreconditionError(absl::StrCat("complaint ", request.complaint_id(),
                                                      " was answered already by ",
                                                      it->second.answered_by()));
  }
  v1::Complaint c = it->second;
  c.set_answered(true);
  c.set_answer(request.answer());
  c.set_answered_by(absl::StrCat("operator:", by));
  c.set_answered_at_ms(now_ms);
  c.set_shared(false);  // the centre has not got it yet
  batch->PutRecord(Cf::kMeta, keys::Complaint(c.centre(), c.id()), c);
  --open_per_centre_[c.centre()];
  it->second = c;
  return c;
}

}  // namespace mw::dispatch
