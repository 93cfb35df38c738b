// WebServer: the pages the agent serves on the centre's network (--web-listen). Workers sign in
// with a code from their manager, see each task's pay and time before starting it, answer
// through a form built from the stage's answer schema, skip with a reason, see their earnings and
// dispute pay held back. The manager adds workers, issues codes, deletes personal data on
// request, sees who holds which task and moves one to another worker, reserves a stage for
// chosen workers, decides disputes and watches the outbox. Everything is server-rendered HTML with
// a little JavaScript (read aloud, idle time), in the worker's language.
//
// Time on task: from "Start" to the answer, less the time the page was hidden and less gaps
// without any touch or key longer than the stage's estimate (at least two minutes), as the page
// reports them; never more than the wall-clock time the task was open.
//
// Thread-safe; handlers run on the HTTP server's threads.
#ifndef MW_WORKER_AGENT_WEB_WEB_SERVER_H_
#define MW_WORKER_AGENT_WEB_WEB_SERVER_H_

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/common/clock.h"
#include "engine/media/phone_image.h"
#include "microwork/v1/services.pb.h"
#include "worker-agent/media/media_cache.h"
#include "worker-agent/payouts/mobile_money.h"
#include "worker-agent/state/agent_state.h"
#include "worker-agent/web/connection_guard.h"
#include "worker-agent/web/guard.h"
#include "worker-agent/web/html.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace mw::agent::web {

namespace v1 = ::microwork::v1;

// What the pages need from the rest of the agent; main() wires them to the Agent and its link.
struct Hooks {
  std::function<void(const std::string& pseudonym, bool on_duty)> set_on_duty;
  std::function<void()> answer_saved;
  std::function<void()> roster_changed;
  std::function<bool()> online;
  // This centre's withholdings (needs the dispatcher), and a worker's dispute of one.
  std::function<absl::StatusOr<std::vector<v1::Withholding>>()> withholdings;
  std::function<absl::Status(const v1::DisputeWithholdingRequest&)> dispute;
  // A person at the centre decides a dispute (never the one who withheld the wage).
  std::function<absl::Status(const v1::ResolveDisputeRequest&)> resolve;
  // The manager signed in withholds an answer's pay for a published reason (needs the
  // dispatcher); the worker may dispute it.
  std::function<absl::StatusOr<v1::Withholding>(const v1::WithholdWageRequest&)> withhold;
  // The manager moves a held assignment to another worker (needs the dispatcher).
  std::function<absl::StatusOr<v1::ReassignReply>(const v1::ReassignRequest&)> reassign;
  // The open reviews (low-confidence results) this centre may decide, each stage's spec once;
  // and one decided by a person of the centre, with a reason (both need the dispatcher).
  std::function<absl::StatusOr<v1::ListReviewsReply>()> reviews;
  std::function<absl::StatusOr<v1::Review>(const v1::DecideReviewRequest&)> decide_review;
  // Fetches a file a review names (its sha256 and fetch_token) into the media cache, for the
  // manager's page to show it (needs the dispatcher).
  std::function<absl::Status(const v1::Media&)> fetch_media;
  // The worker's work record, signed by the dispatcher and by this centre, with their name when
  // given (needs the dispatcher; NOT_FOUND for a worker with no work recorded).
  std::function<absl::StatusOr<std::string>(const std::string& pseudonym,
                                            std::optional<std::string> name)>
      work_record;
  // One of this centre's payout batches, and the payment rail's result for its lines (both need
  // the dispatcher).
  std::function<absl::StatusOr<v1::PayoutBatch>(const std::string& batch_id)> payout;
  std::function<absl::StatusOr<v1::PayoutBatch>(const v1::SettlePayoutRequest&)> settle_payout;
};

class WebServer {
 public:
  struct Options {
    std::string listen = "127.0.0.1:0";  // host:port; port 0 asks the OS
    // Signs in as the account "manager", who adds the centre's other managers (each with their
    // own code, ManagerBook); empty: only those.
    std::string manager_code;
    // This centre's public key (32 bytes): /verify says when a record is signed by it.
    std::string centre_public_key;
    // Welfare limits of this centre (0: none). Past a daily or weekly limit of time on task no
    // task is offered and the worker goes off duty; past the daily number of answers on stages
    // tagged distressing, such tasks are passed back; after a stretch without a ten-minute
    // pause, the page reminds the worker to take a break.
    uint32_t max_minutes_per_day = 0;
    uint32_t max_minutes_per_week = 0;
    uint32_t distressing_per_day = 0;
    uint32_t break_after_minutes = 0;
    // Sessions are kept in the agent's store and survive a restart for this long; after it they
    // end, in memory too. A new sign-in code for a worker ends their sessions.
    int64_t session_hours = 12;
    SignInThrottle::Limits sign_in_limits;
    ConnectionLimits connection_limits;  // per address and in all, and each request's deadline
    // The media the agent fetched ahead (nullptr: none). A worker's task page shows its images
    // re-encoded for phones (phone) and its audio as it is, from /media/<sha256>.
    const MediaCache* media = nullptr;
    media::PhoneImageOptions phone;
  };
  // The manager code's minimum length: it opens every worker's personal data.
  static constexpr size_t kMinManagerCode = 12;
  // Request bodies larger than this are refused (413) from their Content-Length, before they
  // are read. Room for the longest text answer (10,000 characters of four bytes) many times.
  static constexpr size_t kMaxBodyBytes = 256 * 1024;

  // The form field that carries a session's form token, and the token of the session whose
  // cookie carries `session_token`: derived from that secret, so a page on another site can
  // neither read nor guess it. A signed-in POST without it is refused (403) and changes nothing.
  static constexpr char kFormTokenField[] = "form_token";
  static std::string FormTokenOf(const std::string& session_token);

  // Binds and starts serving. UNAVAILABLE when the address cannot be bound.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<WebServer>> Start(centre::AgentState* state,
                                                                        const Clock* clock,
                                                                        Hooks hooks,
                                                                        Options options);
  ~WebServer();
  int port() const { return port_; }
  const ConnectionCounter& connections() const { return server_->connections(); }

 private:
  struct Session {
    std::string worker;  // pseudonym; empty for a manager
    bool manager = false;
    std::string manager_name;  // which manager (ManagerBook); decisions are signed with it
    std::string code_mark;     // the manager's code it was opened with (ManagerBook::CodeMark)
    bool rep = false;          // the workers' representative: reads the voice section only
    int64_t created_at_ms = 0;
    int64_t stretch_start_ms = 0;  // first answer since the last pause of ten minutes or more
    int64_t last_answer_ms = 0;
  };
  struct Call;  // one request's context: session, language, response

  WebServer(centre::AgentState* state, const Clock* clock, Hooks hooks, Options options);
  void Routes();
  std::string NewSession(Session s);
  // Sessions are found by the SHA-256 of the cookie's token, in memory and in the store.
  static std::string TokenKey(const std::string& token);
  // Sessions kept from before a restart (younger than session_hours); their workers go back on
  // duty.
  void RestoreSessions();
  // Ends every session of `pseudonym`, in memory and in the store.
  void EndSessions(const std::string& pseudonym);
  // Ends every session of the manager `name`.
  void EndManagerSessions(const std::string& name);
  // The mark of the installation's manager code ("" without one): sessions opened with an
  // earlier code end when it changes.
  std::string InstallationMark() const;
  // The managers section: who manages the centre, with forms to add one, give one a new code
  // and revoke one; and what those forms post.
  Html ManagersSection(Call& c);
  void ManagerAccountAction(Call& c, const std::string& action);
  Html Nav(const Call& c) const;
  void Render(Call& c, const std::string& title, const Html& body, int refresh = 0);

  void SignInPage(Call& c, const std::string& error);
  void SignIn(Call& c);
  void SignOut(Call& c);
  void Language(Call& c);
  void TaskPage(Call& c);
  // The welfare notice that stops work now (HTML), or "" when the worker may go on. Passes back
  // distressing tasks past the daily cap and adds the break reminder to `c`.
  Html Welfare(Call& c);
  // A 500 page saying the worker's record here cannot be read (`why` goes to the log).
  void RecordUnreadable(Call& c, const absl::Status& why);
  void StartTask(Call& c);
  void Answer(Call& c, bool skip);
  void EarningsPage(Call& c);
  void Dispute(Call& c);
  void DataPage(Call& c, bool json);
  void WorkRecord(Call& c);
  // GET /media/<sha256> (media_pages.cc): a file the signed-in worker's held tasks name, an
  // image as a phone-sized JPEG (made once, kept for the next requests), audio as it is with
  // range requests. 404 for any other file.
  void MediaFile(Call& c);
  // A file of one of the reviews open for this centre, for the manager deciding it: fetched from
  // the dispatcher when the cache no longer has it.
  void ReviewMediaFile(Call& c);
  // Sends `media` from the cache: an image re-encoded for a phone, audio in the ranges asked.
  void ServeMedia(Call& c, const v1::Media& media);
  // The workers' voice (voice_pages.cc): the worker's page to rate jobs and file complaints and
  // what those post; a flag on the task being done; the section of the manager's page (the
  // whole page of the workers' representative), and a manager's answer to a complaint.
  void VoicePage(Call& c);
  // The voice page again, with the message `why` (a key of the message files) and `status`.
  void Refused(Call& c, const std::string& why, int status = 400);
  void Rate(Call& c);
  void Complain(Call& c);
  void FlagTask(Call& c);
  Html VoiceSection(Call& c);
  void AnswerComplaint(Call& c);
  // How the workers of every centre rated the client of `spec` (five or more), or "".
  Html ClientRating(const Call& c, const std::string& client) const;
  void VerifyPage(Call& c);
  // The manager's payment files for mobile-money rails, and the import of the rail's results.
  Html PayoutsSection(Call& c);
  // The rail and the batch a payouts form names (the batch from the dispatcher), or why not.
  absl::StatusOr<std::pair<payouts::Rail, v1::PayoutBatch>> ChosenPayout(Call& c);
  void PayoutError(Call& c, absl::string_view text);
  void PaymentFileDownload(Call& c);
  void ImportPayoutResults(Call& c);
  void ManagerPage(Call& c, const Html& notice);
  void ManagerAction(Call& c, const std::string& action);
  // The manager's teams and reservations section, and the forms posted from it.
  Html Reservations(Call& c, const std::function<std::string(const std::string&)>& name_of);
  // The form below the roster: what the manager does for every ticked worker.
  Html ActOnTicked(Call& c);
  absl::Status ReservationAction(Call& c, const std::string& action, const std::string& by);
  // The manager's review queue section, and a decision posted from it.
  Html ReviewQueue(Call& c, const std::function<std::string(const std::string&)>& name_of);
  absl::Status DecideReview(Call& c);

  centre::AgentState* const state_;
  const Clock* const clock_;
  const Hooks hooks_;
  const Options options_;
  // Phone-sized images lately served, by hash, oldest first (media_pages.cc).
  absl::Mutex phone_mu_;
  std::deque<std::pair<std::string, std::string>> phone_images_ ABSL_GUARDED_BY(phone_mu_);
  std::unique_ptr<GuardedServer> server_;
  std::thread thread_;
  int port_ = 0;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Session> sessions_ ABSL_GUARDED_BY(mu_);
  SignInThrottle throttle_;
};

}  // namespace mw::agent::web

#endif  // MW_WORKER_AGENT_WEB_WEB_SERVER_H_
