#include "engine/ledger/auditor.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/common/money.h"
#include "engine/common/sha256.h"
#include "engine/ledger/ledger.h"
#include "engine/storage/keys.h"

namespace mw::ledger {
namespace {

using microwork::v1::Account;
using microwork::v1::Transfer;

constexpr absl::string_view kEscrowPrefix = "escrow:";
constexpr absl::string_view kWorkerPrefix = "worker:";

bool SameBalances(const Account& a, const Account& b) {
  return a.currency() == b.currency() && a.debits_pending() == b.debits_pending() &&
         a.debits_posted() == b.debits_posted() && a.credits_pending() == b.credits_pending() &&
         a.credits_posted() == b.credits_posted() && a.transfers() == b.transfers();
}

std::string Balances(const Account& a) {
  return absl::StrCat("debits ", a.debits_posted(), " posted + ", a.debits_pending(),
                      " pending, credits ", a.credits_posted(), " posted + ", a.credits_pending(),
                      " pending, ", a.transfers(), " transfers");
}

}  // namespace

absl::Status Auditor::Fail(absl::Status s) {
  if (error_.ok()) error_ = std::move(s);
  return error_;
}

void Auditor::AddAccount(const Account& account) { stored_[account.id()] = account; }

absl::Status Auditor::AddTransfer(const Transfer& t) {
  if (!error_.ok()) return error_;
  const std::string where = absl::StrCat("transfer #", t.seq(), " (", t.id(), ")");
  if (t.seq() != last_seq_ + 1) {
    return Fail(
        absl::DataLossError(absl::StrCat(where, ": expected sequence number ", last_seq_ + 1)));
  }
  if (t.prev_hash() != last_hash_) {
    return Fail(absl::DataLossError(absl::StrCat(where, ": hash chain broken (prev_hash is ",
                                                 ToHex(t.prev_hash()), ", previous hash is ",
                                                 ToHex(last_hash_), ")")));
  }
  if (ChainHash(t) != t.hash()) {
    return Fail(absl::DataLossError(absl::StrCat(where, ": hash does not match its contents")));
  }
  if (!ids_.insert(t.id()).second) {
    return Fail(absl::FailedPreconditionError(absl::StrCat(where, ": duplicate transfer id")));
  }
  if (t.amount_minor() <= 0) {
    return Fail(absl::FailedPreconditionError(absl::StrCat(where, ": non-positive amount")));
  }
  if (absl::Status two = CheckTwoPeople(t); !two.ok()) {
    return Fail(absl::FailedPreconditionError(absl::StrCat(where, ": ", two.message())));
  }
  last_seq_ = t.seq();
  last_hash_ = t.hash();

  const bool resolves = t.kind() == microwork::v1::TRANSFER_POST_PENDING ||
                        t.kind() == microwork::v1::TRANSFER_VOID_PENDING;
  if (resolves) {
    auto it = open_pending_.find(t.pending_id());
    if (it == open_pending_.end()) {
      return Fail(absl::FailedPreconditionError(absl::StrCat(
          where, ": resolves pending ", t.pending_id(), " which is unknown or already resolved")));
    }
    const Transfer& p = it->second;
    if (p.amount_minor() != t.amount_minor() || p.debit_account() != t.debit_account() ||
        p.credit_account() != t.credit_account() || p.currency() != t.currency()) {
      return Fail(absl::FailedPreconditionError(
          absl::StrCat(where, ": does not match its pending transfer ", p.id())));
    }
    open_pending_.erase(it);
  }

  Account& debit = folded_[t.debit_account()];
  Account& credit = folded_[t.credit_account()];
  for (Account* a : {&debit, &credit}) {
    if (a->id().empty()) {
      a->set_id(a == &debit ? t.debit_account() : t.credit_account());
      a->set_currency(t.currency());
    } else if (a->currency() != t.currency()) {
      return Fail(absl::FailedPreconditionError(absl::StrCat(
          where, ": account ", a->id(), " mixes ", a->currency(), " and ", t.currency())));
    }
    a->set_transfers(a->transfers() + 1);
  }
  const int64_t amount = t.amount_minor();
  CurrencyTotals& cur = currencies_[t.currency()];
  switch (t.kind()) {
    case microwork::v1::TRANSFER_POSTED:
      debit.set_debits_posted(debit.debits_posted() + amount);
      credit.set_credits_posted(credit.credits_posted() + amount);
      cur.debits_posted += amount;
      cur.credits_posted += amount;
      break;
    case microwork::v1::TRANSFER_PENDING:
      debit.set_debits_pending(debit.debits_pending() + amount);
      credit.set_credits_pending(credit.credits_pending() + amount);
      cur.debits_pending += amount;
      cur.credits_pending += amount;
      open_pending_.emplace(t.id(), t);
      break;
    case microwork::v1::TRANSFER_POST_PENDING:
      debit.set_debits_pending(debit.debits_pending() - amount);
      credit.set_credits_pending(credit.credits_pending() - amount);
      debit.set_debits_posted(debit.debits_posted() + amount);
      credit.set_credits_posted(credit.credits_posted() + amount);
      cur.debits_pending -= amount;
      cur.credits_pending -= amount;
      cur.debits_posted += amount;
      cur.credits_posted += amount;
      break;
    case microwork::v1::TRANSFER_VOID_PENDING:
      debit.set_debits_pending(debit.debits_pending() - amount);
      credit.set_credits_pending(credit.credits_pending() - amount);
      cur.debits_pending -= amount;
      cur.credits_pending -= amount;
      break;
    default:
      return Fail(absl::FailedPreconditionError(absl::StrCat(where, ": unknown kind")));
  }
  if (!MayGoNegative(debit.id()) &&
      debit.debits_posted() + debit.debits_pending() > debit.credits_posted()) {
    return Fail(absl::FailedPreconditionError(
        absl::StrCat(where, ": debits ", debit.id(), " beyond its credits")));
  }

  // Top-ups to a worker per job, whoever paid them (a conversion's first leg, into an fx
  // account, is not one): checked against the time leased at Finish.
  if (t.code() == microwork::v1::CODE_TOPUP && t.kind() == microwork::v1::TRANSFER_POSTED &&
      absl::StartsWith(t.credit_account(), kWorkerPrefix)) {
    TopUps& paid = topups_[{t.credit_account(), t.job_id()}];
    paid.total += amount;
    ++paid.count;
    paid.currency = t.currency();
  }

  // Per-job escrow accounting, by what each movement is for.
  const bool into_escrow = absl::StartsWith(t.credit_account(), kEscrowPrefix);
  const bool out_of_escrow = absl::StartsWith(t.debit_account(), kEscrowPrefix);
  if (into_escrow || out_of_escrow) {
    const std::string& escrow = into_escrow ? t.credit_account() : t.debit_account();
    JobTotals& job = jobs_[escrow.substr(kEscrowPrefix.size())];
    job.currency = t.currency();
    if (into_escrow) {
      if (t.kind() != microwork::v1::TRANSFER_POSTED ||
          (t.code() != microwork::v1::CODE_FUNDING && t.code() != microwork::v1::CODE_WITHHOLD)) {
        return Fail(absl::FailedPreconditionError(absl::StrCat(
            where, ": only posted funding or a withheld wage may credit an escrow account")));
      }
      if (t.code() == microwork::v1::CODE_FUNDING) {
        job.funding += amount;
      } else {
        job.wages -= amount;  // a withheld wage goes back to the escrow
      }
    } else {
      const bool pending = t.kind() == microwork::v1::TRANSFER_PENDING;
      const int64_t sign = t.kind() == microwork::v1::TRANSFER_VOID_PENDING ? -1 : 1;
      if (t.kind() == microwork::v1::TRANSFER_POST_PENDING) job.pending -= amount;
      if (pending || t.kind() == microwork::v1::TRANSFER_VOID_PENDING) {
        job.pending += sign * amount;
      } else {
        switch (t.code()) {
          case microwork::v1::CODE_WAGE:
          case microwork::v1::CODE_RESTORE:  // a disputed wage paid back
            job.wages += amount;
            break;
          case microwork::v1::CODE_TOPUP:
            job.topups += amount;
            break;
          case microwork::v1::CODE_FEE:
            job.fees += amount;
            break;
          case microwork::v1::CODE_CENTRE_SHARE:
            job.shares += amount;
            break;
          case microwork::v1::CODE_REFUND:
            job.refunds += amount;
            break;
          default:
            return Fail(absl::FailedPreconditionError(
                absl::StrCat(where, ": escrow debited for an unexpected purpose")));
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Auditor::Finish() {
  if (!error_.ok()) return error_;
  for (const auto& [id, stored] : stored_) {
    auto it = folded_.find(id);
    if (it == folded_.end()) {
      if (stored.transfers() != 0 || !SameBalances(stored, Account())) {
        return Fail(absl::FailedPreconditionError(
            absl::StrCat("account ", id, " has balances but no transfers")));
      }
      continue;
    }
    if (!SameBalances(stored, it->second)) {
      return Fail(absl::FailedPreconditionError(
          absl::StrCat("account ", id, " stored as [", Balances(stored),
                       "] but its transfers fold to [", Balances(it->second), "]")));
    }
  }
  for (const auto& [id, folded] : folded_) {
    if (!stored_.contains(id)) {
      return Fail(absl::FailedPreconditionError(
          absl::StrCat("account ", id, " has transfers but no stored balance")));
    }
  }
  for (const auto& [currency, c] : currencies_) {
    if (c.debits_posted != c.credits_posted || c.debits_pending != c.credits_pending) {
      return Fail(absl::FailedPreconditionError(
          absl::StrCat(currency, ": debits (", c.debits_posted, " posted, ", c.debits_pending,
                       " pending) differ from credits (", c.credits_posted, " posted, ",
                       c.credits_pending, " pending)")));
    }
  }
  for (const auto& [job_id, j] : jobs_) {
    const Account& escrow = folded_[absl::StrCat(kEscrowPrefix, job_id)];
    const int64_t remaining =
        escrow.credits_posted() - escrow.debits_posted() - escrow.debits_pending();
    if (remaining < 0 ||
        j.funding != j.wages + j.pending + j.topups + j.fees + j.shares + j.refunds + remaining) {
      return Fail(absl::FailedPreconditionError(absl::StrCat(
          "job ", job_id, ": funding ", FormatMoney(j.funding, j.currency), " != wages ",
          FormatMoney(j.wages, j.currency), " + reserved ", FormatMoney(j.pending, j.currency),
          " + top-ups ", FormatMoney(j.topups, j.currency), " + fees ",
          FormatMoney(j.fees, j.currency), " + centre shares ", FormatMoney(j.shares, j.currency),
          " + refunds ", FormatMoney(j.refunds, j.currency), " + remaining ",
          FormatMoney(remaining, j.currency))));
    }
  }
  for (const auto& [key, paid] : topups_) {
    auto it = time_bounds_.find(key);
    if (it == time_bounds_.end()) {
      ++time_bounds_missing_;  // no record of the time to check it against
      continue;
    }
    const microwork::v1::TimeBound& bound = it->second;
    ++time_bounds_checked_;
    const int64_t slack = paid.count * std::max<int64_t>(bound.rounding_minor(), 1);
    if (paid.currency != bound.currency() || paid.total > bound.topup_bound_minor() + slack) {
      return Fail(absl::FailedPreconditionError(absl::StrCat(
          key.first, " on ", key.second, ": top-ups of ", FormatMoney(paid.total, paid.currency),
          " exceed the wage floor for the time its leases were held (", bound.leased_seconds(),
          " s at ", FormatMoney(bound.floor_minor_per_hour(), bound.currency()),
          " an hour: at most ", FormatMoney(bound.topup_bound_minor(), bound.currency()), ")")));
    }
  }
  return absl::OkStatus();
}

void Auditor::AddTimeBound(const microwork::v1::TimeBound& bound) {
  time_bounds_[{bound.worker_account(), bound.job_id()}] = bound;
}

}  // namespace mw::ledger
