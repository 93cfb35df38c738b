#include "tests/sim/simulator.h"

#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include <spdlog/spdlog.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/clock.h"
#include "engine/common/ids.h"
#include "engine/contract/contract_file.h"
#include "engine/dispatch/engine.h"
#include "engine/dispatch/flow.h"
#include "engine/ledger/auditor.h"
#include "engine/storage/column_families.h"
#include "engine/storage/keys.h"
#include "testing/temp_dir.h"

namespace mw::sim {
namespace {

namespace v1 = ::microwork::v1;

constexpr int64_t kTickMs = 500;
constexpr int64_t kRequestTimeoutMs = 8'000;  // a centre resends a request unanswered this long
constexpr int64_t kHeartbeatEveryMs = 15'000;
constexpr int64_t kPieceRate = 5;
constexpr uint32_t kHoldPerWorker = 2;
constexpr uint32_t kEstimatedSeconds = 30;
constexpr int64_t kFloorPerHour = 600;
constexpr uint32_t kInflatedSeconds = 4294967295u;

enum class Kind { kLease, kHeartbeat, kSubmit };

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kLease:
      return "lease";
    case Kind::kHeartbeat:
      return "heartbeat";
    case Kind::kSubmit:
      return "submit";
  }
  return "?";
}

// One message on the simulated wire: a centre's request or the dispatcher's reply to it.
struct Message {
  int centre = 0;
  bool to_dispatcher = true;
  Kind kind = Kind::kLease;
  std::string key;          // a lease request's idempotency key, echoed in its reply
  absl::StatusCode code{};  // replies: the engine call's outcome
  std::string body;         // the serialized request or reply
};

struct Held {
  v1::Assignment assignment;
  int64_t done_at_ms = 0;
};

struct Centre {
  std::string id;
  std::vector<std::string> workers;
  // Durable, as in the agent's RocksDB: survives a crash.
  std::map<std::string, v1::Result> outbox;  // by result id
  std::set<std::string> answered;            // assignment ids this centre has answered
  uint64_t next_seq = 0;                     // for result ids and lease keys
  // What the centre saw acknowledged, by result id -> contribution id. The checker's record.
  std::map<std::string, std::string> acknowledged;
  // Volatile: lost in a crash.
  bool up = true;
  int64_t restart_at_ms = 0;
  int64_t cut_until_ms = 0;                       // partitioned from the dispatcher until then
  std::map<std::string, Held> held;               // by assignment id
  std::map<std::string, int64_t> worker_free_at;  // when each worker finishes what they hold
  std::string lease_key;
  std::string lease_body;
  int64_t lease_sent_ms = -1;   // -1: no lease request outstanding
  int64_t submit_sent_ms = -1;  // -1: no submission outstanding
  int64_t next_heartbeat_ms = 0;
};

// The stages a branching run adds after "label" (Options::branches), every one at the same
// piece rate so that pay checks stay one multiplication.
std::string BranchStages(const Options& o) {
  auto human = [&](const char* name, const char* after, const char* extra, const char* options) {
    return absl::StrCat("  - name: ", name, "\n    after: [", after, "]\n", extra,
                        "    human:\n      instructions: {en: \"", name,
                        "?\"}\n      answer: {single_choice: {options: [", options,
                        "]}}\n      piece_rate_minor: ", kPieceRate,
                        "\n      estimated_seconds: ", kEstimatedSeconds,
                        "\n      overlap: ", o.overlap, "\n");
  };
  return absl::StrCat(human("tone", "rows", "", "formal, casual"),
                      "  - name: check\n    after: [label]\n    verify: {overlap: ", o.overlap,
                      ", piece_rate_minor: ", kPieceRate,
                      ", estimated_seconds: ", kEstimatedSeconds, "}\n",
                      human("final", "check, tone", "    readiness: ALL_DONE\n", "keep, drop"));
}

// The stages a run with pieces adds beside "label" (Options::pieces), at the same piece rate.
std::string PieceStages(const Options& o) {
  return absl::StrCat(
      "  - name: cut\n    after: [rows]\n    pieces: {max: 3, expected: 2}\n    human:\n"
      "      instructions: {en: \"Copy each sentence, one per line.\"}\n"
      "      answer: {text: {max_length: 200}}\n      piece_rate_minor: ",
      kPieceRate, "\n      estimated_seconds: ", kEstimatedSeconds,
      "\n      overlap: 1\n"
      "  - name: part\n    after: [cut]\n    human:\n"
      "      instructions: {en: \"Positive or negative?\"}\n"
      "      answer: {single_choice: {options: [positive, negative]}}\n      piece_rate_minor: ",
      kPieceRate, "\n      estimated_seconds: ", kEstimatedSeconds, "\n      overlap: ", o.overlap,
      "\n  - name: back\n    after: [part]\n    gather: {from: cut}\n");
}

// What a "cut" worker answers for row `row`: 0 to 3 pieces, by the row.
std::string SimCut(uint64_t row) {
  std::string out;
  for (uint64_t k = 0; k < row % 4; ++k) absl::StrAppend(&out, "sentence ", k, " of ", row, "\n");
  return out;
}

// What a simulated worker answers on `stage` for item `index`: mostly one option, by the item.
std::string SimAnswer(const std::string& stage, uint64_t index, bool flip) {
  static const std::map<std::string, std::pair<const char*, const char*>> kOptions = {
      {"label", {"positive", "negative"}},
      {"tone", {"formal", "casual"}},
      {"check", {"yes", "no"}},
      {"final", {"keep", "drop"}},
      {"part", {"positive", "negative"}}};
  auto found = kOptions.find(stage);
  if (found == kOptions.end()) return "positive";
  return ((index % 2 == 0) != flip) ? found->second.first : found->second.second;
}

std::string ContractText(const Options& o) {
  std::string csv = "id,text\\n";
  int bad = 0;
  for (int i = 0; i < o.items; ++i) {
    absl::StrAppend(&csv, "r", i, ",review ", i, "\\n");
    // Spread the malformed rows through the input.
    if (bad < o.bad_rows && (i + 1) % (o.items / (o.bad_rows + 1) + 1) == 0) {
      absl::StrAppend(&csv, "bad", bad++, ",too,many,fields\\n");
    }
  }
  for (; bad < o.bad_rows; ++bad) absl::StrAppend(&csv, "bad", bad, ",too,many,fields\\n");
  return absl::StrCat(R"(
name: Simulated reviews
client: acme
currency: USD
budget_minor: 10000000
inputs:
  - name: reviews
    format: FORMAT_CSV
    inline_text: ")",
                      csv, R"("
stages:
  - {name: rows, split: {input: reviews, by: SPLIT_ROWS}}
  - name: label
    after: [rows]
    human:
      instructions: {en: "Positive or negative?"}
      answer: {single_choice: {options: [positive, negative]}}
      piece_rate_minor: )",
                      kPieceRate, R"(
      estimated_seconds: )",
                      kEstimatedSeconds, R"(
      overlap: )",
                      o.overlap, R"(
)",
                      o.branches ? BranchStages(o) : std::string(),
                      o.pieces ? PieceStages(o) : std::string(), R"(
  - {name: result, after: [)",
                      o.branches ? "final"
                      : o.pieces ? "label, back"
                                 : "label",
                      R"(], merge: {}}
)");
}

class Simulation {
 public:
  explicit Simulation(const Options& o) : o_(o), rng_(o.seed) {
    engine_options_.lease_ms = 60'000;
    engine_options_.retry_base_ms = 2'000;
    engine_options_.retry_max_ms = 60'000;
    engine_options_.seed = o.seed;
  }

  Report Run() {
    // The engine logs every lease and verdict at debug; the trace (--trace) shows them.
    spdlog::set_level(o_.trace ? spdlog::level::debug : spdlog::level::err);
    if (auto s = Setup(); !s.ok()) return Fail(absl::StrCat("setup: ", s.ToString()));
    const int64_t start = start_ms_ = clock_.NowMs();
    while (report_.failure.empty()) {
      const int64_t t = clock_.NowMs() - start;
      const bool faults = t < o_.fault_ms;
      if (t > o_.give_up_ms) {
        Fail(absl::StrCat("the job did not finish within ", o_.give_up_ms / 60'000,
                          " simulated minutes: ", Progress()));
        break;
      }
      if (faults) InjectFaults();
      RestartWhatIsDue(faults);
      Deliver();
      for (int i = 0; i < static_cast<int>(centres_.size()); ++i) Act(i);
      if (engine_ != nullptr) {
        auto expired = engine_->ExpireLeases();
        if (!expired.ok()) Fail(absl::StrCat("ExpireLeases: ", expired.status().ToString()));
        CheckTimers();
        if (!faults && t % 60'000 == 0) Redrive();
        if (Finished()) break;
      }
      clock_.AdvanceMs(kTickMs);
    }
    report_.finished_after_ms = clock_.NowMs() - start;
    if (report_.failure.empty()) {
      // Recovery must hold up too: reopen once more and check the reopened state.
      engine_.reset();
      if (auto s = OpenEngine(); !s.ok()) Fail(absl::StrCat("reopen: ", s.ToString()));
    }
    if (report_.failure.empty()) CheckOutcome();
    report_.ok = report_.failure.empty();
    return report_;
  }

 private:
  absl::Status OpenEngine() {
    auto e = dispatch::Engine::Open(dir_.Sub("dispatcher"), &clock_, engine_options_);
    if (!e.ok()) return e.status();
    engine_ = std::move(*e);
    return absl::OkStatus();
  }

  absl::Status Setup() {
    if (auto s = OpenEngine(); !s.ok()) return s;
    for (int c = 0; c < o_.centres; ++c) {
      Centre centre;
      centre.id = absl::StrCat("centre-", c);
      v1::AddCentreRequest add;
      add.set_idempotency_key(centre.id);
      add.mutable_centre()->set_id(centre.id);
      add.mutable_centre()->set_region("KE");
      add.mutable_centre()->set_currency("USD");
      add.mutable_centre()->set_wage_floor_minor_per_hour(kFloorPerHour);
      add.mutable_centre()->add_languages("en");
      add.mutable_centre()->set_capacity(100);
      if (auto r = engine_->AddCentre(add); !r.ok()) return r.status();
      v1::RegisterRequest reg;
      for (int w = 0; w < o_.workers_per_centre; ++w) {
        centre.workers.push_back(absl::StrCat("c", c, "w", w));
        reg.add_workers()->set_worker(centre.workers.back());
      }
      if (auto r = engine_->Register(centre.id, reg); !r.ok()) return r.status();
      centres_.push_back(std::move(centre));
    }
    auto contract = contract::ParseContract(ContractText(o_), "sim.yaml");
    if (!contract.ok()) return contract.status();
    v1::ContractHeader header;
    header.set_idempotency_key("sim-job");
    *header.mutable_contract() = *contract;
    auto sub = engine_->BeginSubmission(header);
    if (!sub.ok()) return sub.status();
    auto reply = (*sub)->Finish();
    if (!reply.ok()) return reply.status();
    job_id_ = reply->job().id();
    return absl::OkStatus();
  }

  // ---- Events ------------------------------------------------------------------------------

  void Event(const std::string& what) {
    const std::string line = absl::StrCat(clock_.NowMs(), " ", what);
    for (unsigned char ch : line) digest_ = (digest_ ^ ch) * 1099511628211ull;
    digest_ = (digest_ ^ '\n') * 1099511628211ull;
    report_.digest = digest_;
    if (o_.trace) std::fprintf(stderr, "[seed %llu] %s\n", ULL(o_.seed), line.c_str());
  }

  static unsigned long long ULL(uint64_t v) { return static_cast<unsigned long long>(v); }

  Report Fail(const std::string& why) {
    if (report_.failure.empty()) {
      report_.failure = absl::StrCat("seed ", o_.seed, ": ", why);
      Event(absl::StrCat("FAIL ", why));
    }
    return report_;
  }

  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  int64_t Uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  double PerTick(double per_hour) const { return per_hour * kTickMs / 3'600'000.0; }

  void InjectFaults() {
    const int64_t now = clock_.NowMs();
    if (engine_ != nullptr && Chance(PerTick(o_.dispatcher_crashes_per_hour))) {
      engine_.reset();  // everything acknowledged was synced; nothing else survives
      dispatcher_restart_at_ = now + Uniform(2'000, 60'000);
      ++report_.dispatcher_crashes;
      Event("dispatcher crashes");
    }
    for (auto& c : centres_) {
      if (c.up && Chance(PerTick(o_.centre_crashes_per_hour))) {
        c.up = false;
        c.restart_at_ms = now + Uniform(5'000, 120'000);
        c.held.clear();
        c.worker_free_at.clear();
        c.lease_sent_ms = c.submit_sent_ms = -1;
        ++report_.centre_crashes;
        Event(absl::StrCat(c.id, " crashes"));
      }
      if (c.cut_until_ms <= now && Chance(PerTick(o_.partitions_per_hour))) {
        c.cut_until_ms = now + Uniform(30'000, 300'000);
        ++report_.partitions;
        Event(absl::StrCat(c.id, " cut off until ", c.cut_until_ms));
      }
    }
  }

  void RestartWhatIsDue(bool faults) {
    const int64_t now = clock_.NowMs();
    if (engine_ == nullptr && (!faults || now >= dispatcher_restart_at_)) {
      if (auto s = OpenEngine(); !s.ok()) {
        Fail(absl::StrCat("dispatcher restart: ", s.ToString()));
        return;
      }
      Event("dispatcher restarts");
    }
    for (auto& c : centres_) {
      if (!faults) c.cut_until_ms = std::min(c.cut_until_ms, now);
      if (!c.up && (!faults || now >= c.restart_at_ms)) {
        c.up = true;
        Event(absl::StrCat(c.id, " restarts"));
      }
    }
  }

  // ---- The network -------------------------------------------------------------------------

  void Send(Message m) {
    const bool faults = clock_.NowMs() - start_ms_ < o_.fault_ms;
    ++report_.messages;
    if (faults && Chance(o_.drop)) {
      ++report_.dropped;
      Event(absl::StrCat("drop ", KindName(m.kind),
                         m.to_dispatcher ? " request from " : " reply to ", centres_[m.centre].id));
      return;
    }
    const int copies = faults && Chance(o_.duplicate) ? 2 : 1;
    if (copies == 2) ++report_.duplicated;
    for (int i = 0; i < copies; ++i) {
      const int64_t delay = faults ? Uniform(1, o_.max_delay_ms) : Uniform(1, 200);
      wire_.emplace(std::make_pair(clock_.NowMs() + delay, next_message_++), m);
    }
  }

  void Deliver() {
    const int64_t now = clock_.NowMs();
    while (!wire_.empty() && wire_.begin()->first.first <= now && report_.failure.empty()) {
      Message m = std::move(wire_.begin()->second);
      wire_.erase(wire_.begin());
      Centre& c = centres_[m.centre];
      const bool lost = c.cut_until_ms > now || (m.to_dispatcher ? engine_ == nullptr : !c.up);
      Event(absl::StrCat(lost ? "lost " : "deliver ", KindName(m.kind),
                         m.to_dispatcher ? " request from " : " reply to ", c.id, " ",
                         m.body.size(), "B"));
      if (lost) continue;
      if (m.to_dispatcher) {
        Serve(m);
      } else {
        Receive(m);
      }
    }
  }

  // The dispatcher's side: one engine call per request, its outcome sent back.
  void Serve(const Message& m) {
    Message reply = m;
    reply.to_dispatcher = false;
    const std::string& centre = centres_[m.centre].id;
    absl::Status status;
    switch (m.kind) {
      case Kind::kLease: {
        v1::LeaseRequest req;
        req.ParseFromString(m.body);
        auto r = engine_->Lease(centre, req);
        status = r.status();
        if (r.ok()) reply.body = r->SerializeAsString();
        break;
      }
      case Kind::kHeartbeat: {
        v1::HeartbeatRequest req;
        req.ParseFromString(m.body);
        auto r = engine_->Heartbeat(centre, req);
        status = r.status();
        if (r.ok()) reply.body = r->SerializeAsString();
        break;
      }
      case Kind::kSubmit: {
        v1::SubmitResultsRequest req;
        req.ParseFromString(m.body);
        auto r = engine_->SubmitResults(centre, req);
        status = r.status();
        if (r.ok()) reply.body = r->SerializeAsString();
        break;
      }
    }
    reply.code = status.code();
    if (!status.ok()) {
      reply.body.clear();
      Event(absl::StrCat("engine refuses ", KindName(m.kind), " from ", centre, ": ",
                         status.ToString()));
      if (absl::IsInternal(status) || absl::IsDataLoss(status)) {
        Fail(absl::StrCat("engine error: ", status.ToString()));
      }
    }
    Send(std::move(reply));
  }

  // ---- Centres -----------------------------------------------------------------------------

  void Receive(const Message& m) {
    Centre& c = centres_[m.centre];
    const int64_t now = clock_.NowMs();
    switch (m.kind) {
      case Kind::kLease: {
        if (m.key == c.lease_key) c.lease_sent_ms = -1;
        if (m.code != absl::StatusCode::kOk) {
          if (m.key == c.lease_key) c.lease_key.clear();  // ask afresh next time
          return;
        }
        v1::LeaseReply reply;
        reply.ParseFromString(m.body);
        for (const auto& a : reply.assignments()) {
          // A repeated reply (a duplicate, or a resend answered from the idempotency record)
          // carries what the centre holds or answered already.
          if (c.held.count(a.assignment_id()) || c.answered.count(a.assignment_id())) continue;
          int64_t& free_at = c.worker_free_at[a.worker()];
          free_at = std::max(free_at, now) + Uniform(20'000, 90'000);
          c.held[a.assignment_id()] = Held{a, free_at};
          Event(absl::StrCat(c.id, " holds ", a.assignment_id(), " epoch ", a.epoch()));
        }
        return;
      }
      case Kind::kHeartbeat: {
        if (m.code != absl::StatusCode::kOk) return;
        v1::HeartbeatReply reply;
        reply.ParseFromString(m.body);
        for (const auto& lost : reply.lost()) {
          if (c.held.erase(lost) > 0) Event(absl::StrCat(c.id, " drops lost ", lost));
        }
        return;
      }
      case Kind::kSubmit: {
        c.submit_sent_ms = -1;
        if (m.code != absl::StatusCode::kOk) return;
        v1::SubmitResultsReply reply;
        reply.ParseFromString(m.body);
        for (const auto& r : reply.receipts()) {
          if (r.status() == v1::RECEIPT_ACCEPTED || r.status() == v1::RECEIPT_DUPLICATE) {
            if (c.outbox.erase(r.result_id()) > 0) {
              c.acknowledged[r.result_id()] = r.contribution_id();
              if (r.late()) ++report_.late;
              Event(absl::StrCat(c.id, " acknowledged ", r.result_id(), " as ", r.contribution_id(),
                                 r.late() ? " (late)" : ""));
            }
          } else {
            Fail(absl::StrCat(c.id, ": result ", r.result_id(), " refused (",
                              v1::ReceiptStatus_Name(r.status()), "): ", r.detail()));
          }
        }
        return;
      }
    }
  }

  void Act(int index) {
    Centre& c = centres_[index];
    if (!c.up) return;
    const int64_t now = clock_.NowMs();
    // Workers finish: each answer is synced to the outbox before the worker is told it is saved.
    for (auto it = c.held.begin(); it != c.held.end();) {
      if (it->second.done_at_ms > now) {
        ++it;
        continue;
      }
      const v1::Assignment& a = it->second.assignment;
      v1::Result r;
      r.set_result_id(absl::StrCat(c.id, "-r", c.next_seq++));
      r.set_assignment_id(a.assignment_id());
      r.set_epoch(a.epoch());
      r.set_worker(a.worker());
      if (a.stage() == "final") joins_shown_[a.item().index()].push_back(a.item());
      if (a.stage() == "cut") {
        r.mutable_answer()->set_text(SimCut(a.item().index()));
      } else {
        r.mutable_answer()->set_choice(SimAnswer(a.stage(), a.item().index(), Chance(0.1)));
      }
      r.set_active_seconds(Hostile(index) ? kInflatedSeconds : kEstimatedSeconds);
      c.answered.insert(a.assignment_id());
      Event(absl::StrCat(c.id, " answers ", a.assignment_id(), " as ", r.result_id()));
      c.outbox[r.result_id()] = std::move(r);
      it = c.held.erase(it);
    }
    // Ask for work for workers with room, one request at a time, resent unchanged (same key)
    // when no reply comes.
    if (c.lease_sent_ms >= 0 && now - c.lease_sent_ms >= kRequestTimeoutMs) {
      c.lease_sent_ms = now;
      Send({index, true, Kind::kLease, c.lease_key, {}, c.lease_body});
    } else if (c.lease_sent_ms < 0) {
      std::map<std::string, uint32_t> held;
      for (const auto& [id, h] : c.held) ++held[h.assignment.worker()];
      v1::LeaseRequest req;
      for (const auto& w : c.workers) {
        if (held[w] < kHoldPerWorker) {
          auto* credit = req.add_credits();
          credit->set_worker(w);
          credit->set_count(kHoldPerWorker - held[w]);
        }
      }
      if (req.credits_size() > 0) {
        c.lease_key = absl::StrCat(c.id, "-lease-", c.next_seq++);
        req.set_idempotency_key(c.lease_key);
        c.lease_body = req.SerializeAsString();
        c.lease_sent_ms = now;
        Send({index, true, Kind::kLease, c.lease_key, {}, c.lease_body});
      }
    }
    // Send the outbox; resend after a timeout (result ids make it idempotent).
    if (!c.outbox.empty() &&
        (c.submit_sent_ms < 0 || now - c.submit_sent_ms >= kRequestTimeoutMs)) {
      v1::SubmitResultsRequest req;
      for (const auto& [id, r] : c.outbox) {
        *req.add_results() = r;
        if (req.results_size() == 20) break;
      }
      c.submit_sent_ms = now;
      Send({index, true, Kind::kSubmit, "", {}, req.SerializeAsString()});
    }
    if (Hostile(index) && engine_ != nullptr &&
        Chance(o_.attacks_per_minute * kTickMs / 60'000.0)) {
      Attack(index);
    }
    if (!c.held.empty() && now >= c.next_heartbeat_ms) {
      v1::HeartbeatRequest req;
      for (const auto& [id, h] : c.held) req.add_assignment_ids(id);
      c.next_heartbeat_ms = now + kHeartbeatEveryMs;
      Send({index, true, Kind::kHeartbeat, "", {}, req.SerializeAsString()});
    }
  }

  // ---- The hostile centre ------------------------------------------------------------------

  bool Hostile(int index) const {
    return o_.hostile && index == static_cast<int>(centres_.size()) - 1;
  }

  // One attack, straight at the engine (the wire's faults add nothing here). Each must be
  // refused or quarantined and change nothing; the outcome checks at the end say it did not.
  void Attack(int index) {
    Centre& c = centres_[index];
    ++report_.attacks;
    const int kind = static_cast<int>(Uniform(0, 3));
    const std::string item = absl::StrCat(Uniform(0, o_.items - 1));
    if (kind == 0) {
      // A reviewer nobody registered decides a task, to be paid for it.
      v1::DecideReviewRequest r;
      r.set_idempotency_key(absl::StrCat(c.id, "-ghost-", c.next_seq++));
      r.set_task_id(absl::StrCat(job_id_, "/label/", item));
      r.set_label("positive");
      r.set_reviewer("ghost");
      r.set_reason("looks right");
      auto decided = engine_->DecideReview(r, c.id);
      Event(absl::StrCat(c.id, " attacks: ghost reviewer -> ", decided.status().ToString()));
      if (decided.ok()) Fail(absl::StrCat(c.id, ": a made-up reviewer decided ", r.task_id()));
      return;
    }
    v1::SubmitResultsRequest req;
    v1::Result* r = req.add_results();
    r->set_result_id(absl::StrCat(c.id, "-attack-", c.next_seq++));
    r->set_active_seconds(kInflatedSeconds);
    if (kind == 1) {
      // An answer far over any limit, for an assignment of its own if it has one.
      if (c.held.empty()) return;
      const v1::Assignment& a = c.held.begin()->second.assignment;
      r->set_assignment_id(a.assignment_id());
      r->set_worker(a.worker());
      r->set_epoch(a.epoch());
      r->mutable_answer()->set_choice(std::string(1 << 20, 'x'));
    } else if (kind == 2) {
      // An answer for another centre's assignment.
      const Centre& victim = centres_[Uniform(0, static_cast<int64_t>(centres_.size()) - 2)];
      if (victim.held.empty()) return;
      const v1::Assignment& a = victim.held.begin()->second.assignment;
      r->set_assignment_id(a.assignment_id());
      r->set_worker(a.worker());
      r->set_epoch(a.epoch());
      r->mutable_answer()->set_choice("positive");
    } else {
      // A replay of an acknowledged result with its answer changed.
      if (c.acknowledged.empty()) return;
      const std::string& rid =
          std::next(c.acknowledged.begin(),
                    Uniform(0, static_cast<int64_t>(c.acknowledged.size()) - 1))
              ->first;
      const std::string& contribution = c.acknowledged.at(rid);
      r->set_result_id(rid);
      r->set_assignment_id(contribution);
      r->set_worker(contribution.substr(contribution.find('@') + 1));
      r->mutable_answer()->set_choice("negative, and changed");
    }
    auto reply = engine_->SubmitResults(c.id, req);
    Event(absl::StrCat(c.id, " attacks (", kind, "): ", reply.status().ToString(), " ",
                       reply.ok() ? v1::ReceiptStatus_Name(reply->receipts(0).status()) : ""));
    if (reply.ok() && (reply->receipts(0).status() == v1::RECEIPT_ACCEPTED ||
                       reply->receipts(0).status() == v1::RECEIPT_DUPLICATE)) {
      Fail(absl::StrCat(c.id, ": attack ", kind, " was accepted: ", r->assignment_id()));
    }
  }

  // The floor on time the dispatcher could credit: at most ten times the estimate per answer.
  void CheckHostileTopUps(const std::map<std::string, int>& per_worker) {
    const Centre& c = centres_.back();
    v1::CreatePayoutRequest create;
    create.set_idempotency_key("sim-payout");
    create.set_centre(c.id);
    auto batch = engine_->CreatePayout(create);
    if (!batch.ok()) {
      Fail(absl::StrCat("payout: ", batch.status().ToString()));
      return;
    }
    int64_t bound = 0;
    for (const auto& [account, n] : per_worker) {
      if (account.rfind(WorkerAccount(c.id, ""), 0) != 0) continue;
      const int64_t seconds = int64_t{n} * 10 * kEstimatedSeconds;
      bound += (seconds * kFloorPerHour + 3599) / 3600 - int64_t{n} * kPieceRate;
    }
    report_.hostile_topups_minor = batch->topups_minor();
    report_.hostile_topup_bound_minor = bound;
    // The audit checks the top-ups just paid against the time the leases were held.
    ledger::Auditor auditor;
    if (absl::Status audit = engine_->AuditLedger(&auditor); !audit.ok()) {
      Fail(absl::StrCat("ledger verify after the payout: ", audit.ToString()));
      return;
    }
    report_.time_bounds_checked = auditor.time_bounds_checked();
    if (batch->topups_minor() > bound) {
      Fail(absl::StrCat(c.id, " was topped up ", batch->topups_minor(), " for time; at most ",
                        bound, " could be credited"));
    }
  }

  // ---- The operator and the checks ---------------------------------------------------------

  // After the faults an operator puts dead-lettered tasks back, as `mw task redrive` would.
  void Redrive() {
    for (const auto& dead : engine_->ListDeadTasks(job_id_)) {
      v1::RedriveTaskRequest req;
      req.set_idempotency_key(absl::StrCat("redrive-", report_.redriven));
      req.set_task_id(dead.task_id());
      auto r = engine_->RedriveTask(req);
      if (!r.ok()) {
        Fail(absl::StrCat("redrive ", dead.task_id(), ": ", r.status().ToString()));
        return;
      }
      ++report_.redriven;
      Event(absl::StrCat("operator redrives ", dead.task_id()));
    }
  }

  void CheckTimers() {
    const dispatch::EngineStats stats = engine_->Stats();
    report_.lease_expiries = std::max(report_.lease_expiries, stats.lease_expiries);
    if (stats.leases_without_timer != 0) {
      Fail(absl::StrCat(stats.leases_without_timer, " live leases have no timer"));
    }
  }

  std::string Progress() const {
    if (engine_ == nullptr) return "dispatcher down";
    auto job = engine_->GetJob(job_id_);
    if (!job.ok()) return job.status().ToString();
    std::string out = v1::JobState_Name(job->state());
    for (const auto& s : job->stages()) {
      absl::StrAppend(&out, " ", s.stage(), " ", s.done(), "/", s.total(), " leased ", s.leased());
    }
    for (const auto& c : centres_) absl::StrAppend(&out, "; ", c.id, " outbox ", c.outbox.size());
    return out;
  }

  bool Finished() const {
    for (const auto& c : centres_) {
      if (!c.up || !c.outbox.empty()) return false;
    }
    auto job = engine_->GetJob(job_id_);
    return job.ok() && job->state() == v1::JOB_COMPLETED;
  }

  void CheckOutcome() {
    // Every good row is in the output exactly once; every bad row is in quarantine.
    auto job = engine_->GetJob(job_id_);
    if (!job.ok()) {
      Fail(job.status().ToString());
      return;
    }
    uint64_t quarantined = 0;
    for (const auto& s : job->stages()) quarantined += s.quarantined();
    if (job->items() != static_cast<uint64_t>(o_.items) ||
        quarantined != static_cast<uint64_t>(o_.bad_rows)) {
      Fail(absl::StrCat("job has ", job->items(), " items and ", quarantined,
                        " quarantined rows; expected ", o_.items, " and ", o_.bad_rows));
      return;
    }
    std::map<uint64_t, int> output;
    auto exported = engine_->ExportResults(job_id_, [&](const v1::ResultRecord& r) {
      ++output[r.item_index()];
      return true;
    });
    if (!exported.ok()) {
      Fail(exported.ToString());
      return;
    }
    for (int i = 0; i < o_.items; ++i) {
      if (output[i] != 1) {
        Fail(absl::StrCat("item ", i, " is in the output ", output[i], " times"));
        return;
      }
    }
    if (output.size() != static_cast<size_t>(o_.items)) {
      Fail(absl::StrCat("the output has ", output.size(), " items, expected ", o_.items));
      return;
    }

    if (o_.branches && !CheckJoins(*job)) return;
    if (o_.pieces && !CheckPieces(*job)) return;

    // Acknowledged contributions are recorded, and only those.
    std::map<std::string, std::string> recorded;  // contribution id -> result id
    std::map<std::string, int> per_worker;        // worker account -> contributions
    auto cursor = engine_->store()->Scan(storage::Cf::kContributions, "");
    for (; cursor->Valid(); cursor->Next()) {
      v1::ContributionRecord rec;
      if (auto s = cursor->Read(&rec); !s.ok()) {
        Fail(s.ToString());
        return;
      }
      recorded[rec.result().assignment_id()] = rec.result().result_id();
      if (rec.receipt().credited_seconds() > 10 * kEstimatedSeconds) {
        Fail(absl::StrCat(rec.result().assignment_id(), " was credited ",
                          rec.receipt().credited_seconds(), " s"));
        return;
      }
      ++per_worker[WorkerAccount(rec.centre(), rec.result().worker())];
    }
    std::map<std::string, std::string> acknowledged;
    for (const auto& c : centres_) {
      for (const auto& [result_id, contribution] : c.acknowledged) {
        acknowledged[contribution] = result_id;
      }
    }
    report_.acknowledged = acknowledged.size();
    if (recorded != acknowledged) {
      for (const auto& [id, result] : acknowledged) {
        if (!recorded.count(id)) {
          Fail(absl::StrCat("acknowledged contribution ", id, " (", result, ") was lost"));
          return;
        }
      }
      Fail(absl::StrCat(recorded.size(), " contributions recorded but ", acknowledged.size(),
                        " acknowledged"));
      return;
    }

    // Paid exactly once, at the piece rate, and the ledger proves itself.
    ledger::Auditor auditor;
    std::map<std::string, int> wage_transfers;  // by transfer id
    std::map<std::string, v1::Account> accounts;
    absl::Status read = engine_->ReadLedger([&](const v1::LedgerRecord& rec) {
      if (rec.has_account()) {
        auditor.AddAccount(rec.account());
        accounts[rec.account().id()] = rec.account();
      }
      if (rec.has_transfer()) {
        (void)auditor.AddTransfer(rec.transfer());
        if (rec.transfer().code() == v1::CODE_WAGE &&
            rec.transfer().kind() != v1::TRANSFER_POST_PENDING) {
          ++wage_transfers[rec.transfer().id()];
        }
      }
      if (rec.has_time_bound()) auditor.AddTimeBound(rec.time_bound());
      return true;
    });
    if (read.ok()) read = auditor.Finish();
    if (!read.ok()) {
      Fail(absl::StrCat("ledger verify: ", read.ToString()));
      return;
    }
    for (const auto& [contribution, result] : recorded) {
      const int n = wage_transfers[WageTransferId(contribution)];
      if (n != 1) {
        Fail(absl::StrCat("contribution ", contribution, " has ", n, " wage transfers"));
        return;
      }
    }
    if (wage_transfers.size() != recorded.size()) {
      Fail(absl::StrCat(wage_transfers.size(), " wage transfers for ", recorded.size(),
                        " contributions"));
      return;
    }
    for (const auto& [account, n] : per_worker) {
      const v1::Account& a = accounts[account];
      if (a.credits_posted() != n * kPieceRate || a.credits_pending() != 0) {
        Fail(absl::StrCat(account, " was credited ", a.credits_posted(), " posted and ",
                          a.credits_pending(), " pending for ", n, " contributions"));
        return;
      }
    }
    if (o_.hostile) CheckHostileTopUps(per_worker);
  }

  // Options::branches: every stage counts every item done, and each item's join ("final") was
  // decided once, having started only after both of its branches were: every join task a worker
  // answered showed the item with the verdicts of "check" and "tone".
  bool CheckJoins(const v1::Job& job) {
    for (const auto& s : job.stages()) {
      if (s.done() != static_cast<uint64_t>(o_.items)) {
        Fail(absl::StrCat("stage ", s.stage(), " counts ", s.done(), " items done, expected ",
                          o_.items));
        return false;
      }
    }
    enum { kCheck = 3, kTone = 2, kFinal = 4 };  // contract indexes (ContractText)
    for (int i = 0; i < o_.items; ++i) {
      v1::ResultRecord check, tone, final;
      for (auto [stage, out] : {std::pair{kCheck, &check}, {kTone, &tone}, {kFinal, &final}}) {
        auto s = engine_->store()->GetRecord(storage::Cf::kOutputs,
                                             storage::keys::Task(job_id_, stage, i), out);
        if (!s.ok()) {
          Fail(absl::StrCat("item ", i, " has no verdict at stage ", stage, ": ", s.ToString()));
          return false;
        }
      }
      const auto shown = joins_shown_.find(i);
      if (shown == joins_shown_.end()) {
        Fail(absl::StrCat("item ", i, "'s join was decided with no answer from a worker"));
        return false;
      }
      for (const v1::Item& item : shown->second) {
        const std::string* seen_check = dispatch::FindField(item, "check");
        const std::string* seen_tone = dispatch::FindField(item, "tone");
        if (seen_check == nullptr || *seen_check != check.routed() || seen_tone == nullptr ||
            *seen_tone != tone.routed()) {
          Fail(absl::StrCat("item ", i, "'s join started before its branches were decided: ",
                            "a worker was shown ", item.ShortDebugString()));
          return false;
        }
      }
    }
    return true;
  }

  // Options::pieces: every row was cut as its worker said; each piece was decided once at "part"
  // (one verdict, stored under the piece's id) and gathered back once, in order: the row's "cut"
  // field is its pieces' "part" verdicts, and the exported row nests exactly those pieces. The
  // job completed, so no row finished before its pieces.
  bool CheckPieces(const v1::Job& job) {
    enum { kCut = 2, kPart = 3 };  // contract indexes (ContractText)
    uint64_t pieces = 0;
    std::map<uint64_t, v1::ResultRecord> rows;
    auto exported = engine_->ExportResults(job_id_, [&](const v1::ResultRecord& r) {
      rows[r.item_index()] = r;
      return true;
    });
    if (!exported.ok()) {
      Fail(exported.ToString());
      return false;
    }
    for (int i = 0; i < o_.items; ++i) {
      const uint64_t n = i % 4;
      pieces += n;
      std::vector<std::string> parts;
      for (uint32_t k = 0; k < n; ++k) {
        const uint64_t piece = dispatch::PieceIndex(i, kCut, k);
        v1::ResultRecord part;
        auto s = engine_->store()->GetRecord(storage::Cf::kOutputs,
                                             storage::keys::Task(job_id_, kPart, piece), &part);
        if (!s.ok()) {
          Fail(absl::StrCat("piece ", k, " of row ", i, " has no verdict: ", s.ToString()));
          return false;
        }
        parts.push_back(part.routed());
      }
      const v1::ResultRecord& row = rows[i];
      const std::string* gathered = dispatch::FindField(row.item(), "cut");
      const std::string want = absl::StrJoin(parts, "\n");
      if (gathered == nullptr || *gathered != want || row.children_size() != static_cast<int>(n)) {
        Fail(absl::StrCat("row ", i, " gathered \"", gathered != nullptr ? *gathered : "(none)",
                          "\" with ", row.children_size(), " pieces; its ", n,
                          " pieces were decided \"", want, "\""));
        return false;
      }
    }
    if (job.stages(kPart).total() != pieces || job.stages(kPart).done() != pieces ||
        job.stages(kCut).done() != static_cast<uint64_t>(o_.items)) {
      Fail(absl::StrCat("part counts ", job.stages(kPart).done(), "/", job.stages(kPart).total(),
                        " pieces done, cut ", job.stages(kCut).done(), "; expected ", pieces,
                        " and ", o_.items));
      return false;
    }
    report_.pieces = pieces;
    return true;
  }

  const Options o_;
  std::mt19937_64 rng_;
  mw::testing::TempDir dir_;
  FakeClock clock_;
  dispatch::Engine::Options engine_options_;
  std::unique_ptr<dispatch::Engine> engine_;
  int64_t start_ms_ = 0;
  int64_t dispatcher_restart_at_ = 0;
  std::vector<Centre> centres_;
  std::string job_id_;
  std::map<uint64_t, std::vector<v1::Item>> joins_shown_;  // by item: each "final" task answered
  std::map<std::pair<int64_t, uint64_t>, Message> wire_;   // by (arrival, send order)
  uint64_t next_message_ = 0;
  uint64_t digest_ = 14695981039346656037ull;
  Report report_;
};

}  // namespace

Report Run(const Options& options) { return Simulation(options).Run(); }

}  // namespace mw::sim
