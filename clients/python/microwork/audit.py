"""The ledger checked from its raw records alone, as `mw ledger verify` does
(engine/ledger/auditor.cc), so a client need not trust the dispatcher's own sums.

Feed every account, transfer and time bound in the order ReadLedger streams them, then call
`finish`. It checks: the log is numbered 1, 2, 3... and its hash chain is unbroken; transfer ids
are unique; every POST/VOID resolves an open pending transfer exactly once; each stored account
balance equals the fold of its transfers; debits equal credits per currency; no account but the
outside world's is debited beyond its credits; per job, funding = wages + reserved + top-ups +
fees + centre shares + refunds + remaining escrow; and top-ups stay within the wage floor for the
time leased. The first violation raises LedgerError.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from typing import Dict, Tuple

from microwork._proto import ledger_pb2
from microwork.errors import LedgerError

_ESCROW = "escrow:"
_WORKER = "worker:"
_GUARANTEE = "client:platform-guarantee"

_MINOR_DIGITS = {
    "JPY": 0, "KRW": 0, "UGX": 0, "RWF": 0, "VND": 0, "XOF": 0, "XAF": 0, "CLP": 0, "PYG": 0,
    "BIF": 0, "GNF": 0, "KMF": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "IQD": 3,
    "LYD": 3,
}


def minor_digits(currency: str) -> int:
    """ISO 4217 exponent: 2 unless the currency is one of the known exceptions."""
    return _MINOR_DIGITS.get(currency, 2)


def format_money(minor: int, currency: str) -> str:
    """"1234.05 USD", "1500 UGX", as mw prints money."""
    digits = minor_digits(currency)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**digits)
    return f"{sign}{whole}{'.' + str(frac).zfill(digits) if digits else ''} {currency}"


def _u32(v: int) -> bytes:
    return struct.pack(">I", v & 0xFFFFFFFF)


def _u64(v: int) -> bytes:
    return struct.pack(">Q", v & 0xFFFFFFFFFFFFFFFF)


def _string(s) -> bytes:
    b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return _u32(len(b)) + b


def chain_hash(t: ledger_pb2.Transfer) -> bytes:
    """SHA-256 of a transfer's canonical bytes (engine/ledger/chain.cc AppendCanonicalBytes)."""
    out = b"".join([
        _string(t.id), _u64(t.seq), _string(t.debit_account), _string(t.credit_account),
        _u64(t.amount_minor), _string(t.currency), _u32(t.kind), _u32(t.code),
        _string(t.pending_id), _string(t.job_id), _string(t.reason), _string(t.decided_by),
        _u64(t.timestamp_ms), _string(t.prev_hash),
    ])
    if t.exchange_rate:
        out += _string(t.exchange_rate)
    if t.second_approver:
        out += _string("second_approver") + _string(t.second_approver)
    return hashlib.sha256(out).digest()


def _person_key(name: str) -> str:
    words = [w.strip(" \t\n\v\f\r") for w in name.split(" ")]
    lower = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
    return " ".join(w.translate(lower) for w in words if w)


def _may_go_negative(account: str) -> bool:
    return account.startswith("client:") or account.startswith("fx:")


@dataclass
class Balances:
    currency: str = ""
    debits_posted: int = 0
    debits_pending: int = 0
    credits_posted: int = 0
    credits_pending: int = 0
    transfers: int = 0

    def key(self):
        return (self.currency, self.debits_posted, self.debits_pending, self.credits_posted,
                self.credits_pending, self.transfers)

    def __str__(self):
        return (f"debits {self.debits_posted} posted + {self.debits_pending} pending, credits "
                f"{self.credits_posted} posted + {self.credits_pending} pending, "
                f"{self.transfers} transfers")


@dataclass
class CurrencyTotals:
    debits_posted: int = 0
    credits_posted: int = 0
    debits_pending: int = 0
    credits_pending: int = 0


@dataclass
class JobTotals:
    """A job's escrow, in minor units of `currency`."""

    currency: str = ""
    funding: int = 0
    wages: int = 0  # posted wages
    pending: int = 0  # wages reserved, awaiting a verdict
    topups: int = 0
    fees: int = 0  # the platform's
    shares: int = 0  # the centres'
    refunds: int = 0

    @property
    def charged(self) -> int:
        return self.wages + self.topups + self.fees + self.shares

    @property
    def remaining(self) -> int:
        return self.funding - self.charged - self.pending - self.refunds


@dataclass
class Auditor:
    last_seq: int = 0
    last_hash: bytes = bytes(32)
    stored: Dict[str, Balances] = field(default_factory=dict)
    folded: Dict[str, Balances] = field(default_factory=dict)
    ids: set = field(default_factory=set)
    open_pending: Dict[str, ledger_pb2.Transfer] = field(default_factory=dict)
    currencies: Dict[str, CurrencyTotals] = field(default_factory=dict)
    jobs: Dict[str, JobTotals] = field(default_factory=dict)
    topups: Dict[Tuple[str, str], list] = field(default_factory=dict)  # -> [total, count, cur]
    time_bounds: Dict[Tuple[str, str], ledger_pb2.TimeBound] = field(default_factory=dict)
    time_bounds_checked: int = 0
    time_bounds_missing: int = 0

    @property
    def transfers(self) -> int:
        return self.last_seq

    def add_account(self, a: ledger_pb2.Account) -> None:
        self.stored[a.id] = Balances(a.currency, a.debits_posted, a.debits_pending,
                                     a.credits_posted, a.credits_pending, a.transfers)

    def add_time_bound(self, b: ledger_pb2.TimeBound) -> None:
        self.time_bounds[(b.worker_account, b.job_id)] = b

    def add_transfer(self, t: ledger_pb2.Transfer) -> None:
        where = f"transfer #{t.seq} ({t.id})"
        if t.seq != self.last_seq + 1:
            raise LedgerError(f"{where}: expected sequence number {self.last_seq + 1}")
        if t.prev_hash != self.last_hash:
            raise LedgerError(f"{where}: hash chain broken (prev_hash is {t.prev_hash.hex()}, "
                              f"previous hash is {self.last_hash.hex()})")
        if chain_hash(t) != t.hash:
            raise LedgerError(f"{where}: hash does not match its contents")
        if t.id in self.ids:
            raise LedgerError(f"{where}: duplicate transfer id")
        self.ids.add(t.id)
        if t.amount_minor <= 0:
            raise LedgerError(f"{where}: non-positive amount")
        if t.debit_account == _GUARANTEE and t.code == ledger_pb2.CODE_TOPUP:
            first, second = _person_key(t.decided_by), _person_key(t.second_approver)
            if not first or first == "system" or not second or second == "system" or \
                    first == second:
                raise LedgerError(f"{where}: a payment from {_GUARANTEE} needs two different "
                                  f"people (decided_by \"{t.decided_by}\", second_approver "
                                  f"\"{t.second_approver}\")")
        self.last_seq, self.last_hash = t.seq, t.hash

        kinds = ledger_pb2
        if t.kind in (kinds.TRANSFER_POST_PENDING, kinds.TRANSFER_VOID_PENDING):
            p = self.open_pending.pop(t.pending_id, None)
            if p is None:
                raise LedgerError(f"{where}: resolves pending {t.pending_id} which is unknown or "
                                  "already resolved")
            if (p.amount_minor, p.debit_account, p.credit_account, p.currency) != (
                    t.amount_minor, t.debit_account, t.credit_account, t.currency):
                raise LedgerError(f"{where}: does not match its pending transfer {p.id}")

        debit = self.folded.setdefault(t.debit_account, Balances(t.currency))
        credit = self.folded.setdefault(t.credit_account, Balances(t.currency))
        for name, a in ((t.debit_account, debit), (t.credit_account, credit)):
            if a.currency != t.currency:
                raise LedgerError(f"{where}: account {name} mixes {a.currency} and {t.currency}")
        debit.transfers += 1
        credit.transfers += 1
        amount = t.amount_minor
        cur = self.currencies.setdefault(t.currency, CurrencyTotals())
        if t.kind == kinds.TRANSFER_POSTED:
            debit.debits_posted += amount
            credit.credits_posted += amount
            cur.debits_posted += amount
            cur.credits_posted += amount
        elif t.kind == kinds.TRANSFER_PENDING:
            debit.debits_pending += amount
            credit.credits_pending += amount
            cur.debits_pending += amount
            cur.credits_pending += amount
            self.open_pending[t.id] = t
        elif t.kind == kinds.TRANSFER_POST_PENDING:
            debit.debits_pending -= amount
            credit.credits_pending -= amount
            debit.debits_posted += amount
            credit.credits_posted += amount
            cur.debits_pending -= amount
            cur.credits_pending -= amount
            cur.debits_posted += amount
            cur.credits_posted += amount
        elif t.kind == kinds.TRANSFER_VOID_PENDING:
            debit.debits_pending -= amount
            credit.credits_pending -= amount
            cur.debits_pending -= amount
            cur.credits_pending -= amount
        else:
            raise LedgerError(f"{where}: unknown kind")
        if not _may_go_negative(t.debit_account) and \
                debit.debits_posted + debit.debits_pending > debit.credits_posted:
            raise LedgerError(f"{where}: debits {t.debit_account} beyond its credits")

        if t.code == kinds.CODE_TOPUP and t.kind == kinds.TRANSFER_POSTED and \
                t.credit_account.startswith(_WORKER):
            paid = self.topups.setdefault((t.credit_account, t.job_id), [0, 0, t.currency])
            paid[0] += amount
            paid[1] += 1
            paid[2] = t.currency

        into = t.credit_account.startswith(_ESCROW)
        out_of = t.debit_account.startswith(_ESCROW)
        if not (into or out_of):
            return
        escrow = t.credit_account if into else t.debit_account
        job = self.jobs.setdefault(escrow[len(_ESCROW):], JobTotals())
        job.currency = t.currency
        if into:
            if t.kind != kinds.TRANSFER_POSTED or t.code not in (kinds.CODE_FUNDING,
                                                                 kinds.CODE_WITHHOLD):
                raise LedgerError(f"{where}: only posted funding or a withheld wage may credit "
                                  "an escrow account")
            if t.code == kinds.CODE_FUNDING:
                job.funding += amount
            else:
                job.wages -= amount  # a withheld wage goes back to the escrow
            return
        if t.kind == kinds.TRANSFER_POST_PENDING:
            job.pending -= amount
        if t.kind == kinds.TRANSFER_PENDING:
            job.pending += amount
        elif t.kind == kinds.TRANSFER_VOID_PENDING:
            job.pending -= amount
        elif t.code in (kinds.CODE_WAGE, kinds.CODE_RESTORE):
            job.wages += amount
        elif t.code == kinds.CODE_TOPUP:
            job.topups += amount
        elif t.code == kinds.CODE_FEE:
            job.fees += amount
        elif t.code == kinds.CODE_CENTRE_SHARE:
            job.shares += amount
        elif t.code == kinds.CODE_REFUND:
            job.refunds += amount
        else:
            raise LedgerError(f"{where}: escrow debited for an unexpected purpose")

    def finish(self) -> None:
        for id_, stored in sorted(self.stored.items()):
            folded = self.folded.get(id_)
            if folded is None:
                if stored.key() != Balances().key():
                    raise LedgerError(f"account {id_} has balances but no transfers")
                continue
            if stored.key() != folded.key():
                raise LedgerError(f"account {id_} stored as [{stored}] but its transfers fold "
                                  f"to [{folded}]")
        for id_ in sorted(self.folded):
            if id_ not in self.stored:
                raise LedgerError(f"account {id_} has transfers but no stored balance")
        for currency, c in sorted(self.currencies.items()):
            if c.debits_posted != c.credits_posted or c.debits_pending != c.credits_pending:
                raise LedgerError(f"{currency}: debits ({c.debits_posted} posted, "
                                  f"{c.debits_pending} pending) differ from credits "
                                  f"({c.credits_posted} posted, {c.credits_pending} pending)")
        for job_id, j in sorted(self.jobs.items()):
            escrow = self.folded.get(_ESCROW + job_id, Balances())
            remaining = escrow.credits_posted - escrow.debits_posted - escrow.debits_pending
            if remaining < 0 or j.funding != j.charged + j.pending + j.refunds + remaining:
                m = lambda v: format_money(v, j.currency)  # noqa: E731
                raise LedgerError(
                    f"job {job_id}: funding {m(j.funding)} != wages {m(j.wages)} + reserved "
                    f"{m(j.pending)} + top-ups {m(j.topups)} + fees {m(j.fees)} + centre shares "
                    f"{m(j.shares)} + refunds {m(j.refunds)} + remaining {m(remaining)}")
        for key, (total, count, currency) in sorted(self.topups.items()):
            bound = self.time_bounds.get(key)
            if bound is None:
                self.time_bounds_missing += 1
                continue
            self.time_bounds_checked += 1
            slack = count * max(bound.rounding_minor, 1)
            if currency != bound.currency or total > bound.topup_bound_minor + slack:
                raise LedgerError(
                    f"{key[0]} on {key[1]}: top-ups of {format_money(total, currency)} exceed the "
                    f"wage floor for the time its leases were held ({bound.leased_seconds} s at "
                    f"{format_money(bound.floor_minor_per_hour, bound.currency)} an hour: at most "
                    f"{format_money(bound.topup_bound_minor, bound.currency)})")
