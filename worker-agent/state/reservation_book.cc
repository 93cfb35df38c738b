#include "worker-agent/state/reservation_book.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/common/ids.h"
#include "engine/common/status_macros.h"
#include "engine/storage/check_records.h"
#include "engine/storage/keys.h"
#include "engine/storage/record.h"

namespace mw::centre {

namespace v1 = ::microwork::v1;
namespace keys = storage::keys;
using storage::Batch;
using storage::Cf;
using storage::Durability;

namespace {

// Every record of type T in `cf`, in key order. Load checked that each parses; one that stopped
// parsing since (the disk failed under a running agent) is left out here.
template <typename T>
std::vector<T> ReadAll(const storage::Store& store, Cf cf) {
  std::vector<T> out;
  for (auto c = store.Scan(cf, ""); c->Valid(); c->Next()) {
    T record;
    if (c->Read(&record).ok()) out.push_back(std::move(record));
  }
  return out;
}

}  // namespace

absl::Status ReservationBook::Load() {
  Batch moves;
  for (auto [prefix, cf] : {std::pair{keys::ReservationPrefix(), Cf::kReservations},
                            std::pair{keys::TeamPrefix(), Cf::kTeams}}) {
    for (auto c = store_->Scan(Cf::kMeta, prefix); c->Valid(); c->Next()) {
      moves.Put(cf, c->key(), c->value());
      moves.Delete(Cf::kMeta, c->key());
    }
  }
  if (!moves.Empty()) MW_RETURN_IF_ERROR(store_->Write(std::move(moves), Durability::kSynced));
  MW_RETURN_IF_ERROR(storage::CheckRecords<v1::StageReservation>(*store_, Cf::kReservations));
  return storage::CheckRecords<v1::Team>(*store_, Cf::kTeams);
}

std::string ReservationBook::Id(const v1::StageReservation& r) {
  if (!r.batch()) return r.stage();
  return absl::StrCat(r.stage(), "#", r.first_item(), "-", r.last_item());
}

absl::Status ReservationBook::Reserve(v1::StageReservation r, const OnRoster& on_roster) {
  const std::vector<std::string> parts = absl::StrSplit(r.stage(), '/');
  if (parts.size() != 2 || parts[0].empty() || !IsSimpleName(parts[1])) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stage: expected <job>/<stage>, such as job-1/label, got \"", r.stage(), "\""));
  }
  if (r.workers().empty() && r.team().empty()) {
    return absl::InvalidArgumentError("workers: choose at least one, or a team");
  }
  if (r.reserved_by().empty()) return absl::InvalidArgumentError("reserved_by: who reserves it");
  if (r.batch() && r.first_item() > r.last_item()) {
    return absl::InvalidArgumentError(absl::StrCat("items: the first (", r.first_item(),
                                                   ") is after the last (", r.last_item(), ")"));
  }
  for (const auto& w : r.workers()) {
    if (!on_roster(w)) return absl::InvalidArgumentError(absl::StrCat("no worker ", w));
  }
  if (!r.team().empty() && !FindTeam(r.team()).has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("team: no team ", r.team()));
  }
  const std::string id = Id(r);
  for (const auto& other : Reservations()) {
    if (other.stage() != r.stage() || Id(other) == id) continue;
    const bool overlap =
        !other.batch() || !r.batch() ||
        (r.first_item() <= other.last_item() && other.first_item() <= r.last_item());
    if (overlap) {
      return absl::InvalidArgumentError(
          absl::StrCat("items: ", other.batch() ? "" : "all of ", Id(other),
                       " is reserved already; open it to everyone first"));
    }
  }
  r.set_reserved_at_ms(clock_->NowMs());
  Batch batch;
  batch.PutRecord(Cf::kReservations, keys::Reservation(id), r);
  return store_->Write(std::move(batch), Durability::kSynced);
}

absl::Status ReservationBook::Clear(const std::string& id) {
  Batch batch;
  batch.Delete(Cf::kReservations, keys::Reservation(id));
  return store_->Write(std::move(batch), Durability::kSynced);
}

std::vector<v1::StageReservation> ReservationBook::Reservations() const {
  return ReadAll<v1::StageReservation>(*store_, Cf::kReservations);
}

ReservationBook::Reserved ReservationBook::ReservedForOthers(const std::string& worker) const {
  Reserved out;
  for (const auto& r : Reservations()) {
    auto has = [&](const auto& people) {
      return std::find(people.begin(), people.end(), worker) != people.end();
    };
    if (has(r.workers())) continue;
    if (!r.team().empty()) {
      if (auto team = FindTeam(r.team()); team.has_value() && has(team->members())) continue;
    }
    if (!r.batch()) {
      out.stages.push_back(r.stage());
      continue;
    }
    v1::ItemBatch& b = out.batches.emplace_back();
    b.set_stage(r.stage());
    b.set_first_item(r.first_item());
    b.set_last_item(r.last_item());
  }
  return out;
}

absl::Status ReservationBook::SaveTeam(v1::Team t, const OnRoster& on_roster) {
  if (!IsSimpleName(t.name())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "team: a name of letters, digits, - and _ (such as night-shift), got \"", t.name(), "\""));
  }
  if (t.members().empty()) return absl::InvalidArgumentError("workers: choose at least one");
  if (t.made_by().empty()) return absl::InvalidArgumentError("made_by: who makes the team");
  for (const auto& w : t.members()) {
    if (!on_roster(w)) return absl::InvalidArgumentError(absl::StrCat("no worker ", w));
  }
  t.set_made_at_ms(clock_->NowMs());
  Batch batch;
  batch.PutRecord(Cf::kTeams, keys::Team(t.name()), t);
  return store_->Write(std::move(batch), Durability::kSynced);
}

absl::Status ReservationBook::DisbandTeam(const std::string& name) {
  for (const auto& r : Reservations()) {
    if (r.team() == name) {
      return absl::FailedPreconditionError(absl::StrCat(
          "team ", name, ": ", Id(r), " is reserved for it; open that to everyone first"));
    }
  }
  Batch batch;
  batch.Delete(Cf::kTeams, keys::Team(name));
  return store_->Write(std::move(batch), Durability::kSynced);
}

std::vector<v1::Team> ReservationBook::Teams() const {
  return ReadAll<v1::Team>(*store_, Cf::kTeams);
}

std::optional<v1::Team> ReservationBook::FindTeam(const std::string& name) const {
  v1::Team t;
  if (!store_->GetRecord(Cf::kTeams, keys::Team(name), &t).ok()) return std::nullopt;
  return t;
}

}  // namespace mw::centre
