#include "worker-agent/state/manager_book.h"

#include <set>

#include "absl/strings/ascii.h"
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

namespace {

// The name as kept: lower case, a simple name (ids.h). "" when it is not one.
std::string NameOf(const std::string& typed) {
  std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(typed));
  return IsSimpleName(name) ? name : "";
}

}  // namespace

absl::Status ManagerBook::Load() {
  by_name_.clear();
  return storage::ForEachRecord<v1::CentreManager>(
      *store_, Cf::kMeta,
      [&](absl::string_view, v1::CentreManager m) {
        std::string name = m.name();
        by_name_[std::move(name)] = std::move(m);
        return absl::OkStatus();
      },
      keys::CentreManagerPrefix());
}

absl::Status ManagerBook::Put(const v1::CentreManager& m) {
  Batch batch;
  batch.PutRecord(Cf::kMeta, keys::CentreManager(m.name()), m);
  MW_RETURN_IF_ERROR(store_->Write(std::move(batch), Durability::kSynced));
  by_name_[m.name()] = m;
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> ManagerBook::NumberToAdd(const std::string& typed) const {
  const std::string name = NameOf(typed);
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "name: 1 to 40 letters, digits, '-' or '_', got \"", typed.substr(0, 40), "\""));
  }
  if (name == kInstallationManager) {
    return absl::InvalidArgumentError(
        absl::StrCat("name: \"", name, "\" is the installation's own manager code"));
  }
  if (by_name_.count(name) > 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("name: ", name, " is or was a manager here; names are never reused"));
  }
  std::set<uint32_t> taken;
  for (const auto& [n, m] : by_name_) taken.insert(m.sign_in_number());
  uint32_t number = kFirstManagerNumber;
  while (number <= kLastManagerNumber && taken.count(number) > 0) ++number;
  if (number > kLastManagerNumber) {
    return absl::ResourceExhaustedError("every manager number is taken");
  }
  return number;
}

absl::StatusOr<uint32_t> ManagerBook::NumberOf(const std::string& typed) const {
  auto it = by_name_.find(NameOf(typed));
  if (it == by_name_.end() || it->second.revoked()) {
    return absl::NotFoundError(absl::StrCat("no manager ", typed.substr(0, 40)));
  }
  return it->second.sign_in_number();
}

absl::Status ManagerBook::AddIssued(const std::string& typed, const std::string& by, int64_t now_ms,
                                    uint32_t number, const std::string& verifier,
                                    v1::CentreRole role) {
  MW_ASSIGN_OR_RETURN(const uint32_t expected, NumberToAdd(typed));
  if (expected != number) return absl::AbortedError("another manager was added meanwhile");
  if (verifier.empty()) return absl::InternalError("argon2id failed");
  v1::CentreManager m;
  m.set_name(NameOf(typed));
  m.set_sign_in_number(number);
  m.set_sign_in_verifier(verifier);
  m.set_added_by(by);
  m.set_added_at_ms(now_ms);
  m.set_code_by(by);
  m.set_code_at_ms(now_ms);
  m.set_role(role);
  return Put(m);
}

absl::Status ManagerBook::SetIssued(const std::string& typed, const std::string& by, int64_t now_ms,
                                    uint32_t number, const std::string& verifier) {
  MW_ASSIGN_OR_RETURN(const uint32_t expected, NumberOf(typed));
  if (expected != number) return absl::AbortedError("the manager changed meanwhile");
  if (verifier.empty()) return absl::InternalError("argon2id failed");
  v1::CentreManager m = by_name_.at(NameOf(typed));
  m.set_sign_in_verifier(verifier);
  m.set_code_by(by);
  m.set_code_at_ms(now_ms);
  return Put(m);
}

absl::StatusOr<std::string> ManagerBook::Add(const std::string& name, const std::string& by,
                                             int64_t now_ms) {
  MW_ASSIGN_OR_RETURN(const uint32_t number, NumberToAdd(name));
  const IssuedCode issued = NewManagerCode(number);
  MW_RETURN_IF_ERROR(AddIssued(name, by, now_ms, number, issued.verifier));
  return issued.code;
}

absl::StatusOr<std::string> ManagerBook::NewCode(const std::string& name, const std::string& by,
                                                 int64_t now_ms) {
  MW_ASSIGN_OR_RETURN(const uint32_t number, NumberOf(name));
  const IssuedCode issued = NewManagerCode(number);
  MW_RETURN_IF_ERROR(SetIssued(name, by, now_ms, number, issued.verifier));
  return issued.code;
}

std::string ManagerBook::CodeMark(const v1::CentreManager& m) {
  if (m.revoked() || m.sign_in_verifier().empty()) return "";
  return ToHex(Sha256(m.sign_in_verifier())).substr(0, 16);
}

absl::Status ManagerBook::Revoke(const std::string& typed, const std::string& by, int64_t now_ms) {
  auto it = by_name_.find(NameOf(typed));
  if (it == by_name_.end() || it->second.revoked()) {
    return absl::NotFoundError(absl::StrCat("no manager ", typed.substr(0, 40)));
  }
  if (it->first == by) {
    return absl::FailedPreconditionError("a manager cannot revoke themself; ask another");
  }
  v1::CentreManager m = it->second;
  m.set_revoked(true);
  m.set_revoked_by(by);
  m.set_revoked_at_ms(now_ms);
  m.clear_sign_in_verifier();
  return Put(m);
}

std::vector<v1::CentreManager> ManagerBook::All() const {
  std::vector<v1::CentreManager> out;
  for (const auto& [n, m] : by_name_) out.push_back(m);
  return out;
}

std::optional<v1::CentreManager> ManagerBook::WithNumber(uint32_t number) const {
  for (const auto& [n, m] : by_name_) {
    if (m.sign_in_number() == number && !m.revoked()) return m;
  }
  return std::nullopt;
}

bool ManagerBook::Active(const std::string& name) const {
  if (name == kInstallationManager) return true;
  auto it = by_name_.find(name);
  return it != by_name_.end() && !it->second.revoked();
}

}  // namespace mw::centre
