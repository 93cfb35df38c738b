#include "worker-agent/state/roster.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "engine/common/ids.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"
#include "engine/storage/check_records.h"
#include "engine/storage/keys.h"
#include "worker-agent/state/sign_in_code.h"

namespace mw::centre {

namespace v1 = ::microwork::v1;
namespace keys = storage::keys;
using storage::Batch;
using storage::Cf;
using storage::Durability;

absl::Status Roster::Load() {
  entries_.clear();
  return storage::ForEachRecord<v1::RosterEntry>(*store_, Cf::kRoster,
                                                 [&](absl::string_view, v1::RosterEntry e) {
                                                   std::string pseudonym = e.pseudonym();
                                                   entries_[std::move(pseudonym)] = std::move(e);
                                                   return absl::OkStatus();
                                                 });
}

absl::StatusOr<v1::RosterEntry> Roster::Add(v1::RosterEntry entry, int64_t now_ms) {
  entry.set_pseudonym(absl::StrCat("w", ToHex(RandomBytes(5))));
  entry.set_added_at_ms(now_ms);
  Batch batch;
  batch.PutRecord(Cf::kRoster, keys::Roster(entry.pseudonym()), entry);
  MW_RETURN_IF_ERROR(store_->Write(std::move(batch), Durability::kSynced));
  entries_[entry.pseudonym()] = entry;
  return entry;
}

std::vector<v1::RosterEntry> Roster::All() const {
  std::vector<v1::RosterEntry> out;
  for (const auto& [p, e] : entries_) out.push_back(e);
  return out;
}

const v1::RosterEntry* Roster::Find(const std::string& pseudonym) const {
  auto it = entries_.find(pseudonym);
  return it == entries_.end() ? nullptr : &it->second;
}

absl::Status Roster::Update(const std::string& pseudonym,
                            const std::function<void(v1::RosterEntry*)>& change) {
  auto it = entries_.find(pseudonym);
  if (it == entries_.end()) return absl::NotFoundError(absl::StrCat("no worker ", pseudonym));
  v1::RosterEntry updated = it->second;
  change(&updated);
  Batch batch;
  batch.PutRecord(Cf::kRoster, keys::Roster(pseudonym), updated);
  MW_RETURN_IF_ERROR(store_->Write(std::move(batch), Durability::kSynced));
  it->second = std::move(updated);
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> Roster::SignInNumberFor(const std::string& pseudonym) const {
  const v1::RosterEntry* entry = Find(pseudonym);
  if (entry == nullptr) return absl::NotFoundError(absl::StrCat("no worker ", pseudonym));
  if (entry->sign_in_number() != 0) return entry->sign_in_number();
  std::set<uint32_t> taken;
  for (const auto& [p, e] : entries_) taken.insert(e.sign_in_number());
  uint32_t number = kFirstSignInNumber;
  while (taken.count(number) > 0) ++number;
  if (number > kLastSignInNumber)
    return absl::ResourceExhaustedError("every sign-in number is taken");
  return number;
}

std::optional<v1::RosterEntry> Roster::WithSignInNumber(uint32_t number) const {
  for (const auto& [p, e] : entries_) {
    if (!e.simulated() && e.sign_in_number() == number) return e;
  }
  return std::nullopt;
}

std::optional<v1::RosterEntry> Roster::WithLegacyCode(const std::string& code_sha256) const {
  for (const auto& [p, e] : entries_) {
    if (!e.simulated() && !e.sign_in_code_sha256().empty() &&
        SecretsEqual(e.sign_in_code_sha256(), code_sha256)) {
      return e;
    }
  }
  return std::nullopt;
}

std::optional<v1::RosterEntry> Roster::Promote(const std::string& pseudonym, Batch* batch) const {
  const v1::RosterEntry* entry = Find(pseudonym);
  if (entry == nullptr || entry->training_level() != 0) return std::nullopt;
  v1::RosterEntry trained = *entry;
  trained.set_training_level(1);
  batch->PutRecord(Cf::kRoster, keys::Roster(pseudonym), trained);
  return trained;
}

void Roster::Replace(v1::RosterEntry entry) {
  std::string pseudonym = entry.pseudonym();
  entries_[std::move(pseudonym)] = std::move(entry);
}

}  // namespace mw::centre
