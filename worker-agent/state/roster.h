// Roster: the centre's workers, in their own column family (kRoster). It is the only place that
// holds a worker's personal data (name, contact, languages, skills) and their sign-in code's
// verifier; the dispatcher only ever sees the random pseudonym it gives each worker.
//
//   Roster roster(store);
//   MW_RETURN_IF_ERROR(roster.Load());
//   MW_ASSIGN_OR_RETURN(v1::RosterEntry added, roster.Add(entry, now_ms));
//   MW_RETURN_IF_ERROR(roster.Update(added.pseudonym(), [](v1::RosterEntry* e) { ... }));
//
// Not thread-safe: AgentState holds its lock around every call. The slow part of a sign-in
// (argon2id, sign_in_code.h) is for the caller to do outside that lock.
#ifndef MW_WORKER_AGENT_STATE_ROSTER_H_
#define MW_WORKER_AGENT_STATE_ROSTER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/storage/store.h"
#include "microwork/v1/records.pb.h"

namespace mw::centre {

class Roster {
 public:
  // `store` must outlive the roster.
  explicit Roster(storage::Store* store) : store_(store) {}
  Roster(const Roster&) = delete;
  Roster& operator=(const Roster&) = delete;

  // Reads every entry; DATA_LOSS naming the key of one that does not parse.
  [[nodiscard]] absl::Status Load();

  // Adds `entry` under a fresh random pseudonym, synced; returns it as stored.
  [[nodiscard]] absl::StatusOr<microwork::v1::RosterEntry> Add(microwork::v1::RosterEntry entry,
                                                               int64_t now_ms);
  // Every worker, by pseudonym.
  std::vector<microwork::v1::RosterEntry> All() const;
  // The worker, or nullptr.
  const microwork::v1::RosterEntry* Find(const std::string& pseudonym) const;
  bool Contains(const std::string& pseudonym) const { return entries_.count(pseudonym) > 0; }
  // Applies `change` to the worker's entry, synced. NOT_FOUND for an unknown worker; nothing
  // changes when the write fails.
  [[nodiscard]] absl::Status Update(const std::string& pseudonym,
                                    const std::function<void(microwork::v1::RosterEntry*)>& change);

  // The sign-in number the worker's next code carries: theirs, or the lowest nobody has.
  // NOT_FOUND for an unknown worker; RESOURCE_EXHAUSTED when every number is taken.
  [[nodiscard]] absl::StatusOr<uint32_t> SignInNumberFor(const std::string& pseudonym) const;
  // The (real, not simulated) worker whose sign-in number is `number`.
  std::optional<microwork::v1::RosterEntry> WithSignInNumber(uint32_t number) const;
  // The (real) worker whose pre-number code hashes to `code_sha256` (compared in constant time).
  std::optional<microwork::v1::RosterEntry> WithLegacyCode(const std::string& code_sha256) const;

  // A worker the dispatcher says passed training: their entry at level 1, put into `batch`, for
  // Replace once it is durable; nullopt when unknown or no newcomer.
  std::optional<microwork::v1::RosterEntry> Promote(const std::string& pseudonym,
                                                    storage::Batch* batch) const;
  // Memory follows a durable write of `entry`.
  void Replace(microwork::v1::RosterEntry entry);

 private:
  storage::Store* const store_;
  std::map<std::string, microwork::v1::RosterEntry> entries_;  // by pseudonym
};

}  // namespace mw::centre

#endif  // MW_WORKER_AGENT_STATE_ROSTER_H_
