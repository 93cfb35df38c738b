// The one module that builds and parses RocksDB keys, for both databases.
//
// Integers are big-endian so byte order is numeric order; variable parts are prefixed with their
// length (u32, big-endian) so no value can run into the next part. Account and transfer ids are
// stored verbatim, so a prefix scan ("worker:<centre>/") finds an account kind or a centre's
// workers; they never contain NUL.
#ifndef MW_ENGINE_STORAGE_KEYS_H_
#define MW_ENGINE_STORAGE_KEYS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace mw::storage::keys {

// Low-level codecs, public for the tests and for composite keys.
void AppendU32(std::string* out, uint32_t v);
void AppendU64(std::string* out, uint64_t v);
void AppendString(std::string* out, absl::string_view s);

// Reads parts off the front of a key; every method returns false and leaves `in` unspecified
// when the key is too short.
class KeyReader {
 public:
  explicit KeyReader(absl::string_view in) : in_(in) {}
  [[nodiscard]] bool ReadU32(uint32_t* v);
  [[nodiscard]] bool ReadU64(uint64_t* v);
  [[nodiscard]] bool ReadString(std::string* s);
  bool AtEnd() const { return in_.empty(); }

 private:
  absl::string_view in_;
};

// The smallest key greater than every key that starts with `prefix`; nullopt when none is
// (the prefix is all 0xff).
std::optional<std::string> PrefixSuccessor(absl::string_view prefix);

// ---- Dispatcher ----
std::string Meta(absl::string_view name);
std::string Centre(absl::string_view centre_id);
// One of the platform's people, by account name (in kMeta); StaffPrefix selects them all.
std::string Staff(absl::string_view name);
std::string StaffPrefix();
std::string Job(absl::string_view job_id);
std::string JobPrefix(absl::string_view job_id);  // every per-job key of items, tasks, outputs
std::string Item(absl::string_view job_id, uint64_t item);
std::string Task(absl::string_view job_id, uint32_t stage, uint64_t item);
// The `stage` part of Task, StagePrefix and Contribution keys for round `round` (0-based) of the
// iterate stage at contract index `stage_index`: its improve step, or its vote. Other stages use
// their contract index, which is always below these.
uint32_t RoundStage(uint32_t stage_index, uint32_t round, bool vote);
std::string StagePrefix(absl::string_view job_id, uint32_t stage);
std::string Contribution(absl::string_view job_id, uint32_t stage, uint64_t item,
                         absl::string_view worker);
// A result id's key (kResultIds): a tag byte, the result id, the centre's id, then the centre
// id's length. Result ids first, so the keys a flush writes (the ids of the work done in its
// minutes, from every centre) fall in a narrow range of the family, and a compaction of them
// rewrites few of the tables below: keyed by centre first, the ids of every centre interleaved
// and each flush overlapped all of the next level (scale_bench --steady: 76 GB written by the
// family's compactions in 30 minutes).
std::string ResultId(absl::string_view centre_id, absl::string_view result_id);
// What ResultId keys started with before: the centre's id, then the result id, each
// length-prefixed (AppendString). Stores written then are moved over as they open
// (IdempotencyTable::MoveCentreFirstResultIds); a length's first byte is 0 for any id, and so
// never kResultIdTag.
std::string CentreFirstResultId(absl::string_view centre_id, absl::string_view result_id);
inline constexpr char kResultIdTag = 1;
std::string Idempotency(absl::string_view principal, absl::string_view key);
std::string Account(absl::string_view account_id);
std::string Transfer(uint64_t seq);
// A transfer id verbatim: the pending index's key (kPendingTransfers).
std::string TransferId(absl::string_view transfer_id);
// A transfer id's key in the id index (kTransferIds): a tag byte, then the id after its first
// ':' (its kind: "wage", "wage-post", "fund") with each run of digits written as its length (a
// byte below ' ') and the digits, so that numbers sort by value, then a zero byte,
// kTransferKindMark and the kind. An id without ':' is written whole, without a kind.
//
// Numbers by value: wage ids name the item they pay for by its number. Verbatim, item 1000000's
// id sorted before item 999's, the ids a flush wrote spread over the family's whole key space, and
// every id a batch asks for (Ledger::ReadAhead) was probed in the filter of every table of every
// level (a fifth of ledger_bench's producer, where with ids in order a table's key range rules it
// out).
//
// The kind last: the ids of one assignment ("wage:A", "wage:A/fee", "wage-post:A") sort side by
// side and after those of the assignments before. With the kind first, every flush held both the
// latest "wage-post:" ids and the latest "wage:" ids, and between them in key order lay every
// "wage:" id of the jobs before: each compaction of a flush rewrote all of them (scale_bench
// --steady: the family's compactions read 110 MB in the second minute and 706 MB in the
// seventh, and took 33 of its 60 seconds).
//
// Runs longer than kMaxDigitRun are cut in pieces, and a byte below ' ' in the id is written
// after a zero byte: the key reads back to one id only. Stores whose index holds verbatim ids or
// whole-id keys (WholeIdTransferIdIndex) are moved over as the ledger loads (Ledger::Load); those
// never start with kTransferIdTag.
std::string TransferIdIndex(absl::string_view transfer_id);
inline constexpr char kTransferIdTag = 0;
inline constexpr char kTransferKindMark = ':';
// The id a TransferIdIndex key holds; nullopt when it is not one.
std::optional<std::string> ParseTransferIdIndex(absl::string_view key);
// What TransferIdIndex keys were before the kind went last: kWholeIdTransferIdTag, then the whole
// id in number order.
std::string WholeIdTransferIdIndex(absl::string_view transfer_id);
inline constexpr char kWholeIdTransferIdTag = 1;
std::optional<std::string> ParseWholeIdTransferIdIndex(absl::string_view key);
inline constexpr size_t kMaxDigitRun = 31;
// What the id index (kTransferIds) holds for a transfer stored in a block (kTransferBlocks):
// the block's key, Transfer(first_seq), then the transfer's own seq. (For a transfer stored
// alone in kTransfers, it holds Transfer(seq).)
std::string TransferInBlock(uint64_t first_seq, uint64_t seq);
std::string Withholding(absl::string_view centre_id, absl::string_view assignment_id);
// Verbatim account id, NUL, job id: a prefix scan by WorkerAccount(centre, "") finds a centre's.
std::string WorkerJob(absl::string_view worker_account, absl::string_view job_id);
// Splits a WorkerJob key; nullopt when malformed.
std::optional<std::pair<std::string, std::string>> ParseWorkerJob(absl::string_view key);
std::string Payout(absl::string_view batch_id);
// Media (kMedia), by the lower-case hex SHA-256 of the file: what the file is (a Media record),
// and its bytes in chunks of kMediaChunkBytes, numbered from 0.
inline constexpr size_t kMediaChunkBytes = 256 * 1024;
std::string MediaInfo(absl::string_view sha256_hex);
std::string MediaChunk(absl::string_view sha256_hex, uint32_t index);

struct TaskKey {
  std::string job_id;
  uint32_t stage = 0;
  uint64_t item = 0;
};
// Parses a Task (or Output) key; nullopt when malformed.
std::optional<TaskKey> ParseTask(absl::string_view key);
// The item index of an Item key; nullopt when malformed.
std::optional<uint64_t> ParseItem(absl::string_view key);
std::optional<uint64_t> ParseTransfer(absl::string_view key);
// Splits a TransferInBlock value into (first seq, seq); nullopt when malformed.
std::optional<std::pair<uint64_t, uint64_t>> ParseTransferInBlock(absl::string_view value);

// ---- Worker agent ----
std::string Roster(absl::string_view pseudonym);
std::string CachedAssignment(absl::string_view assignment_id);
std::string Outbox(uint64_t seq);
std::string Quarantine(absl::string_view result_id);
std::optional<uint64_t> ParseOutbox(absl::string_view key);
// A worker's earnings in the order they were answered; EarningsPrefix selects one worker's.
std::string Earning(absl::string_view pseudonym, int64_t answered_at_ms,
                    absl::string_view result_id);
std::string EarningsPrefix(absl::string_view pseudonym);
// A web session by its token's SHA-256 (in kSessions; an older agent kept them in kMeta);
// WebSessionPrefix selects them all.
std::string WebSession(absl::string_view token_sha256);
std::string WebSessionPrefix();
// A stage or batch reserved by a centre's manager, by its id ("<job>/<stage>", or for a batch
// "<job>/<stage>#<first>-<last>") (in kReservations; formerly kMeta); ReservationPrefix selects
// them all.
std::string Reservation(absl::string_view id);
std::string ReservationPrefix();
// A team named by a centre's manager, by name (in kTeams; formerly kMeta); TeamPrefix selects
// them all.
std::string Team(absl::string_view name);
// A centre manager's account by name (in the agent's kMeta); CentreManagerPrefix selects them all.
std::string CentreManager(absl::string_view name);
std::string CentreManagerPrefix();
std::string TeamPrefix();

// ---- Both: the workers' voice (in kMeta) ----
// A worker's rating of a job and flag on a task, by the worker (at the agent, the pseudonym; at
// the dispatcher, VoiceBoard::RaterOf); a complaint by its centre ("" at the agent) and number.
std::string Rating(absl::string_view job_id, absl::string_view worker);
std::string RatingPrefix();
std::string Flag(absl::string_view task_id, absl::string_view worker);
std::string FlagPrefix();
std::string Complaint(absl::string_view centre, absl::string_view id);
std::string ComplaintPrefix();

}  // namespace mw::storage::keys

#endif  // MW_ENGINE_STORAGE_KEYS_H_
