// The centre's managers as accounts, not a shared code: each has a name and their own sign-in
// code (twenty digits, sign_in_code.h; only an argon2id verifier is kept), issued by another
// manager and shown once. A manager may be given a new code (which ends their sessions) or be
// revoked (never by themself); names are never reused, so a decision signed with one always
// means the same person. Every decision on the manager's page names the one signed in.
//
// The installation's own manager code (--manager-code-file) signs in as the account "manager",
// which is reserved; it adds the others.
//
//   ManagerBook book(store);
//   MW_RETURN_IF_ERROR(book.Load());
//   MW_ASSIGN_OR_RETURN(std::string code, book.Add("halima", /*by=*/"manager", now_ms));
//   std::optional<v1::CentreManager> m = book.WithNumber(ParseManagerCode(code)->number);
//
// Records live in the agent's kMeta under keys::CentreManager(name). Not thread-safe: AgentState
// holds its lock around every call; the argon2id check is for the caller, outside that lock.
#ifndef MW_WORKER_AGENT_STATE_MANAGER_BOOK_H_
#define MW_WORKER_AGENT_STATE_MANAGER_BOOK_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/storage/store.h"
#include "microwork/v1/records.pb.h"

namespace mw::centre {

class ManagerBook {
 public:
  // The account the installation's manager code signs in as.
  static constexpr char kInstallationManager[] = "manager";

  explicit ManagerBook(storage::Store* store) : store_(store) {}
  ManagerBook(const ManagerBook&) = delete;
  ManagerBook& operator=(const ManagerBook&) = delete;

  // Reads every account; DATA_LOSS naming the key of one that does not parse.
  [[nodiscard]] absl::Status Load();

  // Adds `name` (1 to 40 letters, digits, '-' or '_'; compared without case) with a fresh
  // code, synced, and returns the code: the only time it is shown. INVALID_ARGUMENT for a bad or
  // reserved name, ALREADY_EXISTS for one ever used, RESOURCE_EXHAUSTED past 900 managers.
  [[nodiscard]] absl::StatusOr<std::string> Add(const std::string& name, const std::string& by,
                                                int64_t now_ms);
  // A new code for `name` (the old one stops working), synced; returns it. NOT_FOUND for an
  // unknown or revoked name.
  [[nodiscard]] absl::StatusOr<std::string> NewCode(const std::string& name, const std::string& by,
                                                    int64_t now_ms);
  // The same in two steps, so the slow hash of a code (sign_in_code.h) can be made outside the
  // caller's lock: the number the code must carry (as Add or NewCode would check it), then the
  // issued code, checked again.
  [[nodiscard]] absl::StatusOr<uint32_t> NumberToAdd(const std::string& name) const;
  [[nodiscard]] absl::StatusOr<uint32_t> NumberOf(const std::string& name) const;
  // `role`: a manager, or the workers' representative (reads the voice section only).
  [[nodiscard]] absl::Status AddIssued(
      const std::string& name, const std::string& by, int64_t now_ms, uint32_t number,
      const std::string& verifier,
      microwork::v1::CentreRole role = microwork::v1::CENTRE_ROLE_MANAGER);
  [[nodiscard]] absl::Status SetIssued(const std::string& name, const std::string& by,
                                       int64_t now_ms, uint32_t number,
                                       const std::string& verifier);
  // `name` signs in no more, synced. NOT_FOUND as above; FAILED_PRECONDITION when `by` is `name`.
  [[nodiscard]] absl::Status Revoke(const std::string& name, const std::string& by, int64_t now_ms);

  // What a session signed in with the account's current code remembers: it changes with every
  // new code (and is "" for a revoked account), so a session from an older code is over.
  static std::string CodeMark(const microwork::v1::CentreManager& m);

  // Every account, revoked ones too, by name.
  std::vector<microwork::v1::CentreManager> All() const;
  // The account (not revoked) whose code starts with `number`.
  std::optional<microwork::v1::CentreManager> WithNumber(uint32_t number) const;
  // Whether `name` is an account that may sign in.
  bool Active(const std::string& name) const;

 private:
  [[nodiscard]] absl::Status Put(const microwork::v1::CentreManager& m);

  storage::Store* const store_;
  std::map<std::string, microwork::v1::CentreManager> by_name_;
};

}  // namespace mw::centre

#endif  // MW_WORKER_AGENT_STATE_MANAGER_BOOK_H_
