#include "engine/ledger/ledger.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/common/money.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"
#include "engine/storage/keys.h"
#include "engine/storage/record.h"
#include "microwork/v1/records.pb.h"

namespace mw::ledger {
namespace {

using storage::Cf;
namespace keys = storage::keys;
using microwork::v1::LedgerHead;

constexpr char kHeadKey[] = "ledger_head";

std::string ZeroHash() { return std::string(32, '\0'); }

// Adds `t` to the balances of its two accounts, as Apply did (which checked it).
void Fold(const Transfer& t, std::map<std::string, Account>* accounts) {
  Account& debit = (*accounts)[t.debit_account()];
  Account& credit = (*accounts)[t.credit_account()];  // std::map: `debit` stays where it is
  const int64_t amount = t.amount_minor();
  for (Account* a : {&debit, &credit}) {
    if (a->id().empty()) {  // opened by this transfer
      a->set_id(a == &debit ? t.debit_account() : t.credit_account());
      a->set_currency(t.currency());
    }
    a->set_transfers(a->transfers() + 1);
  }
  switch (t.kind()) {
    case microwork::v1::TRANSFER_POSTED:
      debit.set_debits_posted(debit.debits_posted() + amount);
      credit.set_credits_posted(credit.credits_posted() + amount);
      break;
    case microwork::v1::TRANSFER_PENDING:
      debit.set_debits_pending(debit.debits_pending() + amount);
      credit.set_credits_pending(credit.credits_pending() + amount);
      break;
    case microwork::v1::TRANSFER_POST_PENDING:
      debit.set_debits_posted(debit.debits_posted() + amount);
      credit.set_credits_posted(credit.credits_posted() + amount);
      debit.set_debits_pending(debit.debits_pending() - amount);
      credit.set_credits_pending(credit.credits_pending() - amount);
      break;
    case microwork::v1::TRANSFER_VOID_PENDING:
      debit.set_debits_pending(debit.debits_pending() - amount);
      credit.set_credits_pending(credit.credits_pending() - amount);
      break;
    default:
      break;
  }
}

}  // namespace

absl::StatusOr<StoredBalances> ReadBalances(const storage::Store& store,
                                            const storage::Snapshot* snapshot) {
  StoredBalances b;
  auto accounts = store.Scan(Cf::kAccounts, "", snapshot);
  for (; accounts->Valid(); accounts->Next()) {
    Account a;
    MW_RETURN_IF_ERROR(accounts->Read(&a));
    std::string id = a.id();
    b.accounts.emplace(std::move(id), std::move(a));
  }
  MW_RETURN_IF_ERROR(accounts->status());
  LedgerHead head;
  absl::Status s = store.GetRecord(Cf::kMeta, keys::Meta(kHeadKey), &head, snapshot);
  if (!s.ok() && !absl::IsNotFound(s)) return s;
  b.seq = head.seq();
  b.hash = s.ok() ? head.hash() : ZeroHash();
  // Stores written before checkpoints wrote every account with every transfer.
  b.balances_seq = head.has_balances_seq() ? head.balances_seq() : head.seq();
  if (b.balances_seq > b.seq) {
    return absl::DataLossError(absl::StrCat("ledger: balances checkpointed at #", b.balances_seq,
                                            ", after the head #", b.seq));
  }
  uint64_t last_seq = b.balances_seq;
  std::string last_hash;
  MW_RETURN_IF_ERROR(ForEachTransfer(store, snapshot, b.balances_seq, [&](Transfer& t) {
    Fold(t, &b.accounts);
    b.changed.insert(t.debit_account());
    b.changed.insert(t.credit_account());
    ++b.folded;
    last_seq = t.seq();
    last_hash = std::move(*t.mutable_hash());
    return absl::OkStatus();
  }));
  if (last_seq != b.seq || (b.folded > 0 && last_hash != b.hash)) {
    return absl::DataLossError(absl::StrCat(
        "ledger: the log ends at #", last_seq,
        b.folded > 0 && last_seq == b.seq ? " with another hash" : "", ", its head is #", b.seq));
  }
  return b;
}

absl::StatusOr<std::unique_ptr<Ledger>> Ledger::Load(storage::Store* store, const Clock* clock,
                                                     Options options) {
  std::unique_ptr<Ledger> ledger(new Ledger(store, clock, options));
  MW_RETURN_IF_ERROR(MoveVerbatimTransferIds(store).status());
  MW_RETURN_IF_ERROR(MoveWholeIdTransferIds(store).status());
  MW_ASSIGN_OR_RETURN(StoredBalances b, ReadBalances(*store, nullptr));
  if (b.folded != b.seq - b.balances_seq) {
    return absl::DataLossError(absl::StrCat("ledger: ", b.seq - b.balances_seq,
                                            " transfers after the checkpoint at #", b.balances_seq,
                                            ", ", b.folded, " stored"));
  }
  for (auto& [id, a] : b.accounts) {
    ledger->account_ids_.insert(ledger->account_ids_.end(), id);
    ledger->accounts_.emplace(id, Held{std::move(a)});
  }
  for (const std::string& id : b.changed) {
    ledger->accounts_.at(id).dirty = true;
    ledger->dirty_.push_back(id);
  }
  ledger->head_seq_ = b.seq;
  ledger->head_hash_ = std::move(b.hash);
  ledger->balances_seq_ = b.balances_seq;
  auto pending = store->Scan(Cf::kPendingTransfers, "");
  for (; pending->Valid(); pending->Next()) {
    Transfer t;
    MW_RETURN_IF_ERROR(pending->Read(&t));
    ledger->pending_.emplace(t.id(), std::move(t));
  }
  MW_RETURN_IF_ERROR(pending->status());
  return ledger;
}

void Ledger::WriteBalances(storage::Batch* batch) {
  blocks_.Flush(batch);
  // Pending transfers this batch opened and left open; the ones it also resolved never reach
  // the pending index (their Put and Delete would cancel out in it).
  for (const std::string& id : fresh_pending_) {
    if (auto it = pending_.find(id); it != pending_.end()) {
      batch->PutRecord(Cf::kPendingTransfers, keys::TransferId(id), it->second);
    }
  }
  fresh_pending_.clear();
  if (!applied_) return;
  applied_ = false;
  if (head_seq_ - balances_seq_ >= options_.checkpoint_transfers) {
    for (const std::string& id : dirty_) {
      Held& held = accounts_.at(id);
      batch->PutRecord(Cf::kAccounts, keys::Account(id), held.account);
      held.dirty = false;
    }
    dirty_.clear();
    balances_seq_ = head_seq_;
  } else {
    for (const std::string& id : opened_) {
      Account a;  // as of the checkpoint: nothing on it yet
      a.set_id(id);
      a.set_currency(accounts_.at(id).account.currency());
      batch->PutRecord(Cf::kAccounts, keys::Account(id), a);
    }
  }
  opened_.clear();
  LedgerHead head;
  head.set_seq(head_seq_);
  head.set_hash(head_hash_);
  head.set_balances_seq(balances_seq_);
  batch->PutRecord(Cf::kMeta, keys::Meta(kHeadKey), head);
}

absl::Status Ledger::ReadAhead(const std::vector<std::string>& ids) {
  unused_ids_.clear();
  std::vector<std::string> keys;
  std::vector<const std::string*> asked;
  for (const std::string& id : ids) {
    if (id.empty() || unwritten_ids_.contains(id)) continue;
    keys.push_back(keys::TransferIdIndex(id));
    asked.push_back(&id);
  }
  std::vector<bool> present;
  MW_RETURN_IF_ERROR(store_->Contains(Cf::kTransferIds, keys, &present));
  // Room for all of them at once: clear() gives a large set's memory back, and growing it
  // again one rehash at a time was 0.8% of ledger_bench's samples.
  unused_ids_.reserve(asked.size());
  for (size_t i = 0; i < asked.size(); ++i) {
    if (!present[i]) unused_ids_.insert(*asked[i]);
  }
  return absl::OkStatus();
}

void Ledger::Written(uint64_t seq) {
  while (!unwritten_.empty() && unwritten_.front().seq <= seq) {
    unwritten_ids_.erase(unwritten_.front().id);  // before the view of it goes stale
    unwritten_.pop_front();
  }
}

void Ledger::ForEachAccount(absl::string_view prefix,
                            absl::FunctionRef<void(const Account&)> fn) const {
  for (auto it = account_ids_.lower_bound(prefix);
       it != account_ids_.end() && absl::StartsWith(*it, prefix); ++it) {
    fn(accounts_.at(*it).account);
  }
}

const Account* Ledger::Find(absl::string_view account_id) const {
  auto it = accounts_.find(account_id);
  return it == accounts_.end() ? nullptr : &it->second.account;
}

Ledger::Held* Ledger::FindHeld(absl::string_view account_id) {
  auto it = accounts_.find(account_id);
  return it == accounts_.end() ? nullptr : &it->second;
}

int64_t Ledger::Available(absl::string_view account_id) const {
  const Account* a = Find(account_id);
  if (a == nullptr) return 0;
  return a->credits_posted() - a->debits_posted() - a->debits_pending();
}

const Transfer* Ledger::FindPending(absl::string_view id) const {
  auto it = pending_.find(id);
  return it == pending_.end() ? nullptr : &it->second;
}

absl::StatusOr<std::optional<Transfer>> Ledger::Lookup(absl::string_view id) const {
  if (auto it = unwritten_ids_.find(id); it != unwritten_ids_.end()) {
    // As its block holds it: its prev_hash may be left for the transfer before it there, which
    // is in memory too unless its batch, this one's, was written.
    const uint64_t i = it->second - unwritten_.front().seq;
    Transfer t;
    MW_RETURN_IF_ERROR(storage::DecodeRecord(unwritten_[i].record, &t));
    if (t.prev_hash().empty()) {
      if (i == 0) {
        // The one before it was let go as written, so this one's block is stored: read from
        // there. Not there, the store is behind what the owner said (Written): never a new id.
        MW_ASSIGN_OR_RETURN(std::optional<Transfer> stored, ReadTransfer(*store_, id));
        if (!stored.has_value()) {
          return absl::DataLossError(
              absl::StrCat("transfer ", id,
                           ": its block was said to be written, and the store does not hold it"));
        }
        return stored;
      }
      Transfer before;
      MW_RETURN_IF_ERROR(storage::DecodeRecord(unwritten_[i - 1].record, &before));
      t.set_prev_hash(before.hash());
    }
    return std::optional<Transfer>(std::move(t));
  }
  if (unused_ids_.contains(id)) return std::optional<Transfer>();
  return ReadTransfer(*store_, id);
}

bool Ledger::SameBody(const TransferSpec& spec, const Transfer& stored) {
  if (spec.kind != stored.kind() || spec.reason != stored.reason()) return false;
  if (spec.kind == microwork::v1::TRANSFER_POST_PENDING ||
      spec.kind == microwork::v1::TRANSFER_VOID_PENDING) {
    return spec.pending_id == stored.pending_id();  // the rest is the pending transfer's
  }
  if (spec.code != stored.code() || spec.job_id != stored.job_id() ||
      spec.exchange_rate != stored.exchange_rate()) {
    return false;
  }
  return spec.debit_account == stored.debit_account() &&
         spec.credit_account == stored.credit_account() &&
         spec.amount_minor == stored.amount_minor() && spec.currency == stored.currency();
}

absl::StatusOr<Ledger::Applied> Ledger::Apply(const TransferSpec& spec, storage::Batch* batch) {
  return ApplyInto(spec, batch, &built_);
}

absl::StatusOr<Ledger::Applied> Ledger::ApplyInto(const TransferSpec& spec, storage::Batch* batch,
                                                  Transfer* out) {
  using microwork::v1::TRANSFER_PENDING;
  using microwork::v1::TRANSFER_POST_PENDING;
  using microwork::v1::TRANSFER_POSTED;
  using microwork::v1::TRANSFER_VOID_PENDING;

  if (ahead_of_store_) {
    return absl::UnavailableError(
        absl::StrCat("transfer ", spec.id,
                     ": the ledger is ahead of its store since a write was dropped; "
                     "it applies nothing until it is loaded again"));
  }
  if (spec.id.empty()) return absl::InvalidArgumentError("transfer: id is empty");
  // An id the last ReadAhead found unused is in neither memory nor the store (ReadAhead skips
  // the ids in memory, and Apply takes an id out as it gives it a transfer): no lookup.
  const auto unused = unused_ids_.find(spec.id);
  if (unused == unused_ids_.end()) {
    MW_ASSIGN_OR_RETURN(std::optional<Transfer> existing, Lookup(spec.id));
    if (existing.has_value()) {
      if (!SameBody(spec, *existing)) {
        return absl::AlreadyExistsError(
            absl::StrCat("transfer ", spec.id, " exists with a different body"));
      }
      *out = *std::move(existing);
      return Applied{out, true};
    }
  }

  // Built in `out`, whose fields keep their room from the last transfer built there: cleared,
  // not made and freed (the message and its strings were a sixth of ledger_bench's producer).
  // A string field is set only when it has something: proto3 writes an empty one as it writes
  // an unset one (nothing), so the record, its hash and SameBody are the same either way.
  Transfer& t = *out;
  t.Clear();
  t.set_id(spec.id);
  t.set_kind(spec.kind);
  t.set_code(spec.code);
  if (!spec.reason.empty()) t.set_reason(spec.reason);
  if (!spec.decided_by.empty()) t.set_decided_by(spec.decided_by);
  if (!spec.second_approver.empty()) t.set_second_approver(spec.second_approver);

  const bool resolves = spec.kind == TRANSFER_POST_PENDING || spec.kind == TRANSFER_VOID_PENDING;
  if (resolves) {
    auto it = pending_.find(spec.pending_id);
    if (it == pending_.end()) {
      MW_ASSIGN_OR_RETURN(std::optional<Transfer> p, Lookup(spec.pending_id));
      if (p.has_value() && p->kind() == TRANSFER_PENDING) {
        return absl::FailedPreconditionError(absl::StrCat("transfer ", spec.id, ": pending ",
                                                          spec.pending_id, " is already resolved"));
      }
      return absl::NotFoundError(
          absl::StrCat("transfer ", spec.id, ": no pending transfer ", spec.pending_id));
    }
    if (spec.kind == TRANSFER_VOID_PENDING &&
        (spec.reason.empty() || spec.decided_by.empty() || spec.decided_by == "system")) {
      return absl::InvalidArgumentError(
          absl::StrCat("transfer ", spec.id, ": voiding a wage needs a reason and a person"));
    }
    const Transfer& p = it->second;
    t.set_code(p.code());
    if (!p.job_id().empty()) t.set_job_id(p.job_id());
    t.set_pending_id(p.id());
    t.set_debit_account(p.debit_account());
    t.set_credit_account(p.credit_account());
    t.set_amount_minor(p.amount_minor());
    t.set_currency(p.currency());
    if (!p.exchange_rate().empty()) t.set_exchange_rate(p.exchange_rate());
  } else if (spec.kind == TRANSFER_POSTED || spec.kind == TRANSFER_PENDING) {
    if (spec.debit_account.empty() || spec.credit_account.empty() ||
        spec.debit_account == spec.credit_account) {
      return absl::InvalidArgumentError(
          absl::StrCat("transfer ", spec.id, ": needs two different accounts"));
    }
    if (spec.amount_minor <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("transfer ", spec.id, ": amount must be positive, got ", spec.amount_minor));
    }
    if (!IsCurrencyCode(spec.currency)) {
      return absl::InvalidArgumentError(absl::StrCat("transfer ", spec.id, ": currency \"",
                                                     spec.currency, "\" is not an ISO 4217 code"));
    }
    if (!spec.job_id.empty()) t.set_job_id(spec.job_id);
    t.set_debit_account(spec.debit_account);
    t.set_credit_account(spec.credit_account);
    t.set_amount_minor(spec.amount_minor);
    t.set_currency(spec.currency);
    if (!spec.exchange_rate.empty()) t.set_exchange_rate(spec.exchange_rate);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("transfer ", spec.id, ": no kind"));
  }
  if (absl::Status two = CheckTwoPeople(t); !two.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("transfer ", spec.id, ": ", two.message()));
  }

  // Compute the new balances aside; commit them to memory only when all checks pass. Each
  // account is found once (nullptr: opened by this transfer).
  struct Balances {
    int64_t debits_posted = 0, credits_posted = 0, debits_pending = 0, credits_pending = 0;
  };
  auto load = [&](const std::string& id, Held* held, Balances* b) -> absl::Status {
    if (held == nullptr) return absl::OkStatus();
    const Account& a = held->account;
    if (a.currency() != t.currency()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "transfer ", spec.id, ": account ", id, " is in ", a.currency(), ", not ", t.currency()));
    }
    b->debits_posted = a.debits_posted();
    b->credits_posted = a.credits_posted();
    b->debits_pending = a.debits_pending();
    b->credits_pending = a.credits_pending();
    return absl::OkStatus();
  };
  Held* debit_held = FindHeld(t.debit_account());
  Held* credit_held = FindHeld(t.credit_account());
  Balances debit, credit;
  MW_RETURN_IF_ERROR(load(t.debit_account(), debit_held, &debit));
  MW_RETURN_IF_ERROR(load(t.credit_account(), credit_held, &credit));
  const int64_t amount = t.amount_minor();
  switch (t.kind()) {
    case TRANSFER_POSTED: {
      MW_ASSIGN_OR_RETURN(debit.debits_posted, AddMinor(debit.debits_posted, amount));
      MW_ASSIGN_OR_RETURN(credit.credits_posted, AddMinor(credit.credits_posted, amount));
      break;
    }
    case TRANSFER_PENDING: {
      MW_ASSIGN_OR_RETURN(debit.debits_pending, AddMinor(debit.debits_pending, amount));
      MW_ASSIGN_OR_RETURN(credit.credits_pending, AddMinor(credit.credits_pending, amount));
      break;
    }
    case TRANSFER_POST_PENDING: {
      MW_ASSIGN_OR_RETURN(debit.debits_posted, AddMinor(debit.debits_posted, amount));
      MW_ASSIGN_OR_RETURN(credit.credits_posted, AddMinor(credit.credits_posted, amount));
      debit.debits_pending -= amount;
      credit.credits_pending -= amount;
      break;
    }
    case TRANSFER_VOID_PENDING:
      debit.debits_pending -= amount;
      credit.credits_pending -= amount;
      break;
    default:
      break;
  }
  if (!MayGoNegative(t.debit_account()) &&
      debit.debits_posted + debit.debits_pending > debit.credits_posted) {
    return absl::FailedPreconditionError(
        absl::StrCat("transfer ", spec.id, ": ", t.debit_account(), " has ",
                     FormatMoney(Available(t.debit_account()), t.currency()), " available, needs ",
                     FormatMoney(amount, t.currency())));
  }

  t.set_seq(head_seq_ + 1);
  t.set_timestamp_ms(clock_->NowMs());
  t.set_prev_hash(head_hash_);
  t.set_hash(ChainHash(t));

  // Everything checked: write and update memory.
  std::string record = blocks_.Add(&t, batch);
  applied_ = true;
  if (t.kind() == TRANSFER_PENDING) {
    fresh_pending_.insert(t.id());  // written by WriteBalances if still open then
    pending_[t.id()] = t;
  } else if (resolves) {
    if (fresh_pending_.erase(t.pending_id()) == 0) {
      batch->Delete(Cf::kPendingTransfers, keys::TransferId(t.pending_id()));
    }
    pending_.erase(t.pending_id());
  }
  head_seq_ = t.seq();
  head_hash_ = t.hash();
  if (debit_held == nullptr || credit_held == nullptr) {
    // Opening one may move the other in the map: both are found again after.
    for (const std::string* id : {&t.debit_account(), &t.credit_account()}) {
      auto [it, opened] = accounts_.try_emplace(*id);
      if (!opened) continue;
      it->second.account.set_id(*id);
      it->second.account.set_currency(t.currency());
      opened_.insert(*id);
      account_ids_.insert(*id);
    }
    debit_held = FindHeld(t.debit_account());
    credit_held = FindHeld(t.credit_account());
  }
  auto update = [&](const std::string& id, Held* held, const Balances& b) {
    Account& a = held->account;
    a.set_debits_posted(b.debits_posted);
    a.set_credits_posted(b.credits_posted);
    a.set_debits_pending(b.debits_pending);
    a.set_credits_pending(b.credits_pending);
    a.set_transfers(a.transfers() + 1);
    if (!held->dirty) {
      held->dirty = true;
      dirty_.push_back(id);
    }
  };
  update(t.debit_account(), debit_held, debit);
  update(t.credit_account(), credit_held, credit);
  unwritten_.push_back({t.seq(), t.id(), std::move(record)});
  unwritten_ids_[unwritten_.back().id] = t.seq();
  if (unused != unused_ids_.end()) unused_ids_.erase(unused);
  if (resolves) {
    // The linked legs share the pending transfer's fate (see kLinkedLegs).
    for (const char* leg : kLinkedLegs) {
      const std::string leg_pending = absl::StrCat(spec.pending_id, leg);
      if (!pending_.contains(leg_pending)) continue;
      TransferSpec leg_spec = spec;
      leg_spec.id = absl::StrCat(spec.id, leg);
      leg_spec.pending_id = leg_pending;
      Transfer leg_transfer;  // `out` holds this one for the caller
      MW_RETURN_IF_ERROR(ApplyInto(leg_spec, batch, &leg_transfer).status());
    }
  }
  return Applied{out, false};
}

}  // namespace mw::ledger
