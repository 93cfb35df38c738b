// SessionStore: the worker page's sign-in sessions, by the SHA-256 of their token (the token
// itself is never stored), in their own column family (kSessions), so a page session survives
// an agent restart and can be ended from the manager's side. Every change is synced.
//
//   MW_RETURN_IF_ERROR(sessions.Save(ToHex(Sha256(token)), session));
//   MW_RETURN_IF_ERROR(sessions.Delete([&](auto&, const v1::WebSession& s) { return ...; }));
//
// Thread-safe: every call is one read or one synced write of the store.
#ifndef MW_WORKER_AGENT_STATE_SESSION_STORE_H_
#define MW_WORKER_AGENT_STATE_SESSION_STORE_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "engine/storage/store.h"
#include "microwork/v1/records.pb.h"

namespace mw::centre {

class SessionStore {
 public:
  // `store` must outlive the sessions.
  explicit SessionStore(storage::Store* store) : store_(store) {}

  // Moves sessions an older agent kept in kMeta into kSessions (one synced write), then checks
  // every record parses: DATA_LOSS naming the key otherwise.
  [[nodiscard]] absl::Status Load();
  [[nodiscard]] absl::Status Save(const std::string& token_sha256,
                                  const microwork::v1::WebSession& session);
  // Deletes the sessions `which` picks, in one synced write.
  [[nodiscard]] absl::Status Delete(
      const std::function<bool(const std::string& token_sha256, const microwork::v1::WebSession&)>&
          which);
  // Every session, by token hash, in key order.
  std::vector<std::pair<std::string, microwork::v1::WebSession>> All() const;

 private:
  storage::Store* const store_;
};

}  // namespace mw::centre

#endif  // MW_WORKER_AGENT_STATE_SESSION_STORE_H_
