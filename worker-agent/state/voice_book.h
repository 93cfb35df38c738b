// VoiceBook: the workers' voice at their centre (issue 24). A worker rates the jobs they worked on
// (once each; again replaces it), flags a task as harmful or wrong, and files complaints that a
// manager answers; an open complaint past the centre's limit escalates to the operator. All of
// it is kept in the agent's store (kMeta: keys::Rating, keys::Flag, keys::Complaint), synced, and
// shared with the dispatcher when the link is up (Unshared, then Shared with the reply), so it
// goes on through outages like every answer does.
//
// What leaves the centre: ratings and flags with the worker's pseudonym (the dispatcher checks
// they did work on the job, and keeps a hash instead); complaints with neither the worker nor,
// until they escalate, the text. Ratings are shown only summed up in groups of at least five
// (engine/record/voice.h); the worker's own complaints only to them and to the managers.
//
//   VoiceBook voice(store);
//   MW_RETURN_IF_ERROR(voice.Load());
//   MW_ASSIGN_OR_RETURN(v1::Complaint c, voice.File("w-3f2a", v1::COMPLAINT_PAY, text, now_ms));
//   MW_RETURN_IF_ERROR(voice.Answer(c.id(), "Paid on Friday.", "halima", now_ms).status());
//
// Thread-safe.
#ifndef MW_WORKER_AGENT_STATE_VOICE_BOOK_H_
#define MW_WORKER_AGENT_STATE_VOICE_BOOK_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/storage/store.h"
#include "microwork/v1/records.pb.h"
#include "microwork/v1/services.pb.h"

namespace mw::centre {

class VoiceBook {
 public:
  // A worker with this many open complaints files no more until one is answered.
  static constexpr size_t kMaxOpenPerWorker = 20;

  explicit VoiceBook(storage::Store* store) : store_(store) {}
  VoiceBook(const VoiceBook&) = delete;
  VoiceBook& operator=(const VoiceBook&) = delete;

  // Reads everything kept; DATA_LOSS naming a key whose record does not parse.
  [[nodiscard]] absl::Status Load();

  // `r.worker()`'s rating of `r.job_id()`, stamped now, synced. A rating is given once: a change
  // would show in the summaries as one person's (voice::Published). INVALID_ARGUMENT as
  // voice::CheckRating says, or for no worker; ALREADY_EXISTS when they rated the job.
  [[nodiscard]] absl::Status Rate(microwork::v1::WorkRating r, int64_t now_ms);
  std::optional<microwork::v1::WorkRating> RatingOf(const std::string& worker,
                                                    const std::string& job_id) const;
  // `f.worker()`'s flag on `f.task_id()` (again replaces it), stamped now, synced.
  // INVALID_ARGUMENT as voice::CheckFlag says, or for no worker.
  [[nodiscard]] absl::Status Flag(microwork::v1::TaskFlag f, int64_t now_ms);

  // A new complaint, numbered, synced. INVALID_ARGUMENT as voice::CheckComplaint says;
  // RESOURCE_EXHAUSTED when the worker has kMaxOpenPerWorker open.
  [[nodiscard]] absl::StatusOr<microwork::v1::Complaint> File(const std::string& worker,
                                                              microwork::v1::ComplaintTopic topic,
                                                              const std::string& text,
                                                              int64_t now_ms);
  // `by` (a manager's name, or "operator:<name>") answers complaint `id`, synced.
  // INVALID_ARGUMENT for an empty or too long answer or no `by`; NOT_FOUND for an unknown id;
  // FAILED_PRECONDITION when it has an answer already.
  [[nodiscard]] absl::StatusOr<microwork::v1::Complaint> Answer(const std::string& id,
                                                                const std::string& answer,
                                                                const std::string& by,
                                                                int64_t now_ms);
  // Open complaints filed at or before `now_ms - after_ms` escalate (to the operator), synced.
  // Returns how many did.
  [[nodiscard]] absl::StatusOr<int> Escalate(int64_t now_ms, int64_t after_ms);

  // The worker's complaints, newest first.
  std::vector<microwork::v1::Complaint> ComplaintsOf(const std::string& worker) const;
  // Every complaint: open ones oldest first, then answered ones newest first.
  std::vector<microwork::v1::Complaint> Complaints() const;
  // Every flag, newest first.
  std::vector<microwork::v1::TaskFlag> Flags() const;
  // Every rating kept here.
  std::vector<microwork::v1::WorkRating> Ratings() const;

  // What the dispatcher does not have yet: up to voice::kMaxPerShare of each kind, complaints
  // without the worker (and without their text and answer until escalated).
  microwork::v1::ShareVoiceRequest Unshared() const;
  // The dispatcher answered `sent` with `reply`: every entry it took or refused is marked shared
  // (unless it changed since it was sent), the operator's answers are taken, and the reply's
  // summaries kept for the pages (in memory: every reply brings them again). Synced.
  [[nodiscard]] absl::Status Shared(const microwork::v1::ShareVoiceRequest& sent,
                                    const microwork::v1::ShareVoiceReply& reply, int64_t now_ms);
  // The summaries of the dispatcher's last reply (every centre's raters), and the one of a client.
  std::vector<microwork::v1::RatingSummary> JobSummaries() const;
  std::vector<microwork::v1::RatingSummary> ClientSummaries() const;
  std::optional<microwork::v1::RatingSummary> JobSummary(const std::string& job_id) const;
  std::optional<microwork::v1::RatingSummary> ClientSummary(const std::string& client) const;

  // Grows with every change the dispatcher has still to hear of (a rating, a flag, a complaint
  // filed, answered, escalated, or an operator's answer taken): unchanged, there is nothing new
  // to share.
  uint64_t changes() const {
    absl::MutexLock l(&mu_);
    return changes_;
  }

 private:
  absl::Status PutComplaint(const microwork::v1::Complaint& c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  storage::Store* const store_;
  mutable absl::Mutex mu_;
  // By (job, worker), (task, worker) and number.
  std::map<std::pair<std::string, std::string>, microwork::v1::WorkRating> ratings_
      ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, microwork::v1::TaskFlag> flags_
      ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, microwork::v1::Complaint> complaints_ ABSL_GUARDED_BY(mu_);
  std::vector<microwork::v1::RatingSummary> jobs_ ABSL_GUARDED_BY(mu_);
  std::vector<microwork::v1::RatingSummary> clients_ ABSL_GUARDED_BY(mu_);
  uint64_t changes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace mw::centre

#endif  // MW_WORKER_AGENT_STATE_VOICE_BOOK_H_
