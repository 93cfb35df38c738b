// The ledger's rules that its auditor checks too: the hash chain's bytes and which accounts may
// go negative. Kept apart from the Ledger so the Auditor links no storage.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/common/ids.h"
#include "engine/common/sha256.h"
#include "engine/ledger/ledger.h"
#include "engine/storage/keys.h"

namespace mw::ledger {

namespace keys = storage::keys;

void AppendCanonicalBytes(const Transfer& t, std::string* out_string) {
  std::string& out = *out_string;
  keys::AppendString(&out, t.id());
  keys::AppendU64(&out, t.seq());
  keys::AppendString(&out, t.debit_account());
  keys::AppendString(&out, t.credit_account());
  keys::AppendU64(&out, static_cast<uint64_t>(t.amount_minor()));
  keys::AppendString(&out, t.currency());
  keys::AppendU32(&out, static_cast<uint32_t>(t.kind()));
  keys::AppendU32(&out, static_cast<uint32_t>(t.code()));
  keys::AppendString(&out, t.pending_id());
  keys::AppendString(&out, t.job_id());
  keys::AppendString(&out, t.reason());
  keys::AppendString(&out, t.decided_by());
  keys::AppendU64(&out, static_cast<uint64_t>(t.timestamp_ms()));
  keys::AppendString(&out, t.prev_hash());
  // Fields added later are covered only when set, so older transfers keep their hashes.
  if (!t.exchange_rate().empty()) keys::AppendString(&out, t.exchange_rate());
  if (!t.second_approver().empty()) {
    keys::AppendString(&out, "second_approver");
    keys::AppendString(&out, t.second_approver());
  }
}

absl::Status CheckTwoPeople(const Transfer& t) {
  if (t.debit_account() != kGuaranteeAccount || t.code() != microwork::v1::CODE_TOPUP) {
    return absl::OkStatus();
  }
  const std::string first = PersonKey(t.decided_by());
  const std::string second = PersonKey(t.second_approver());
  if (first.empty() || first == "system" || second.empty() || second == "system" ||
      first == second) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a payment from ", kGuaranteeAccount, " needs two different people (decided_by \"",
        t.decided_by(), "\", second_approver \"", t.second_approver(), "\")"));
  }
  return absl::OkStatus();
}

std::string ChainHash(const Transfer& t) {
  // One buffer per thread, its room kept: made afresh, the bytes were grown a field at a time
  // (half of ChainHash's share of ledger_bench's samples).
  thread_local std::string bytes;
  bytes.clear();
  AppendCanonicalBytes(t, &bytes);
  return Sha256(bytes);
}

bool MayGoNegative(absl::string_view account_id) {
  return absl::StartsWith(account_id, "client:") || absl::StartsWith(account_id, kFxPrefix);
}

}  // namespace mw::ledger
