// ReservationBook: a centre manager's assignment tools. A stage (or a batch of its items) can be
// reserved for chosen workers or a team: the other workers' lease credits then exclude it. Teams
// are named groups of workers. Reservations and teams live in their own column families
// (kReservations, kTeams); every change is synced before it returns.
//
//   MW_RETURN_IF_ERROR(book.SaveTeam(team));
//   MW_RETURN_IF_ERROR(book.Reserve(reservation));
//   ReservationBook::Reserved r = book.ReservedForOthers("w3f9a");
//
// Who is on the roster is the caller's: Reserve and SaveTeam ask `on_roster` about each worker
// they name. Thread-safe: every call is one read or one synced write of the store.
#ifndef MW_WORKER_AGENT_STATE_RESERVATION_BOOK_H_
#define MW_WORKER_AGENT_STATE_RESERVATION_BOOK_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/common/clock.h"
#include "engine/storage/store.h"
#include "microwork/v1/records.pb.h"
#include "microwork/v1/services.pb.h"

namespace mw::centre {

class ReservationBook {
 public:
  // Both must outlive the book.
  ReservationBook(storage::Store* store, const Clock* clock) : store_(store), clock_(clock) {}

  // Moves reservations and teams an older agent kept in kMeta into their families (one synced
  // write), then checks every record parses: DATA_LOSS naming the key otherwise.
  [[nodiscard]] absl::Status Load();

  // A reservation's id: its stage, or "<stage>#<first>-<last>" for a batch.
  static std::string Id(const microwork::v1::StageReservation& r);
  using OnRoster = std::function<bool(const std::string& pseudonym)>;
  // Saves `r` (replacing one with the same id), stamped now. INVALID_ARGUMENT for a malformed
  // stage, nobody to reserve it for, no manager named, a batch whose first item is after its
  // last, a worker not on the roster, an unknown team, or one that overlaps another reservation
  // of the stage.
  [[nodiscard]] absl::Status Reserve(microwork::v1::StageReservation r, const OnRoster& on_roster);
  [[nodiscard]] absl::Status Clear(const std::string& id);
  std::vector<microwork::v1::StageReservation> Reservations() const;

  // What is reserved for workers other than `worker`: whole stages and batches.
  struct Reserved {
    std::vector<std::string> stages;
    std::vector<microwork::v1::ItemBatch> batches;
  };
  Reserved ReservedForOthers(const std::string& worker) const;

  // Saves team `t` (replacing one of the same name), stamped now. INVALID_ARGUMENT for a name
  // that is not a simple name, no members, no manager named, or a member not on the roster.
  [[nodiscard]] absl::Status SaveTeam(microwork::v1::Team t, const OnRoster& on_roster);
  // FAILED_PRECONDITION while a reservation names the team (clear that first).
  [[nodiscard]] absl::Status DisbandTeam(const std::string& name);
  std::vector<microwork::v1::Team> Teams() const;
  std::optional<microwork::v1::Team> FindTeam(const std::string& name) const;

 private:
  storage::Store* const store_;
  const Clock* const clock_;
};

}  // namespace mw::centre

#endif  // MW_WORKER_AGENT_STATE_RESERVATION_BOOK_H_
