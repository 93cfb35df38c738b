// mw-agent: runs a delivery centre. It leases work ahead from the dispatcher, keeps answers in a
// synced outbox until the dispatcher gives a receipt, and keeps working through outages. For the
// demo and the tests it can run simulated workers instead of people.
//
//   mw-agent --dispatcher 127.0.0.1:7070 --credential-file nairobi.cred --data-dir /var/lib/mw
//            --web-listen 0.0.0.0:8080 --manager-code-file manager.code
//   mw-agent ... --sim-workers 5 --sim-accuracy 0.85 --sim-truth truth.csv
//
// Prints "mw-agent ready workers=N metrics=ADDR web=ADDR" once started. SIGTERM or SIGINT stop
// it cleanly.
#include <prometheus/exposer.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/common/heap.h"
#include "engine/common/lock_checks.h"
#include "engine/common/shutdown_signal.h"
#include "engine/media/phone_image.h"
#include "engine/record/work_record.h"
#include "worker-agent/agent.h"
#include "worker-agent/dispatcher_link.h"
#include "worker-agent/metrics.h"
#include "worker-agent/state/agent_state.h"
#include "worker-agent/web/web_server.h"

namespace {

namespace v1 = ::microwork::v1;

int Fail(const absl::Status& s) {
  spdlog::error("event=fatal error=\"{}\"", s.ToString());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  mw::ReturnFreedMemory();      // before any thread: the heap gives back what is freed
  mw::SkipLockOrderChecks();    // the tests check lock orders (lock_checks.h)
  mw::ShutdownSignal shutdown;  // first: every later thread inherits the blocked signals
  CLI::App app{"mw-agent: a microwork delivery centre"};
  mw::rpc::ChannelOptions channel;
  channel.target = "127.0.0.1:7070";
  std::string credential_file, data_dir, metrics_listen;
  mw::agent::Agent::Options options;
  int sim_workers = 0;
  int lease_buffer = 5;
  std::string truth_file;
  std::vector<std::string> sim_languages = {"en"}, sim_skills;
  app.add_option("--dispatcher", channel.target, "Dispatcher address host:port");
  app.add_option("--credential-file", credential_file, "This centre's credential")->required();
  app.add_option("--data-dir", data_dir, "Directory of the agent's RocksDB state")->required();
  app.add_option("--tls-ca", channel.tls_ca, "CA of the dispatcher's certificate (PEM)");
  app.add_option("--tls-cert", channel.tls_cert, "Client certificate for mutual TLS");
  app.add_option("--tls-key", channel.tls_key, "Client key for mutual TLS");
  app.add_option("--metrics-listen", metrics_listen, "Prometheus /metrics address (optional)");
  uint64_t media_budget_mb = 2048;
  app.add_option("--media-budget-mb", media_budget_mb,
                 "Disk for media fetched ahead of the workers (under --data-dir/media)")
      ->check(CLI::Range(uint64_t{64}, uint64_t{1} << 22));
  mw::media::PhoneImageOptions phone;
  app.add_option("--photo-long-side", phone.long_side,
                 "Photos are served to phones at most this many pixels on their long side")
      ->check(CLI::Range(256u, 4096u));
  app.add_option("--photo-quality", phone.quality, "JPEG quality of the photos served to phones")
      ->check(CLI::Range(30u, 95u));
  app.add_option("--lease-buffer", lease_buffer, "Assignments held ahead per worker")
      ->check(CLI::Range(1, 50));
  app.add_option("--sim-workers", sim_workers, "Run this many simulated workers")
      ->check(CLI::Range(0, 200));
  app.add_option("--sim-accuracy", options.crowd.accuracy, "Chance a simulated answer is right")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--sim-speed", options.crowd.speed, "1.0 = the stage's estimated time");
  app.add_option("--sim-seed", options.crowd.seed, "Seed of the simulated answers");
  app.add_option("--sim-truth", truth_file, "CSV of true labels: <item field>,<label>");
  app.add_option("--sim-time-scale", options.time_scale,
                 "Real seconds per simulated working second (0 = instant)");
  app.add_option("--sim-languages", sim_languages, "Languages of simulated workers")
      ->delimiter(',');
  app.add_option("--sim-skills", sim_skills, "Skills of simulated workers")->delimiter(',');
  int max_backoff_ms = 30'000;
  app.add_option("--max-backoff-ms", max_backoff_ms, "Longest pause between retries")
      ->check(CLI::Range(50, 600'000));
  app.add_option("--receipt-log", options.receipt_log,
                 "Append every receipt (result id and status) to this file");
  uint32_t escalate_hours = 72;
  app.add_option("--complaint-escalation-hours", escalate_hours,
                 "A complaint no manager answered in this many hours goes to the operator")
      ->check(CLI::Range(1, 24 * 60));
  std::string web_listen, manager_code_file;
  app.add_option("--web-listen", web_listen,
                 "Serve the workers' and manager's pages on host:port (optional)");
  app.add_option("--manager-code-file", manager_code_file,
                 "File holding the centre manager's sign-in code for the pages");
  uint32_t max_hours_day = 0, max_hours_week = 0, distressing_per_day = 0, break_after = 0;
  app.add_option("--max-hours-per-day", max_hours_day,
                 "Welfare: time on task a worker may do a day")
      ->check(CLI::Range(0, 24));
  app.add_option("--max-hours-per-week", max_hours_week, "Welfare: time on task a week")
      ->check(CLI::Range(0, 168));
  app.add_option("--distressing-per-day", distressing_per_day,
                 "Welfare: answers a day on stages tagged distressing");
  app.add_option("--break-after-minutes", break_after, "Welfare: remind to pause after this long");
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.set_config("--config", "", "Read options from this TOML/INI file");
  // A name the program does not know is an error, not silently a default (a misspelt budget).
  app.allow_config_extras(CLI::config_extras_mode::error);
  CLI11_PARSE(app, argc, argv);
  // Logs go to stderr; stdout carries only the ready line.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("mw"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e level=%l %v");
  spdlog::set_level(spdlog::level::from_str(log_level));
  options.lease_buffer = static_cast<uint32_t>(lease_buffer);
  options.distressing_per_day = distressing_per_day;
  options.max_backoff = absl::Milliseconds(max_backoff_ms);
  options.complaint_escalation = absl::Hours(escalate_hours);

  auto credential = mw::rpc::ReadFile(credential_file);
  if (!credential.ok()) return Fail(credential.status());
  if (!truth_file.empty()) {
    auto crowd = mw::agent::LoadTruth(truth_file, options.crowd);
    if (!crowd.ok()) return Fail(crowd.status());
    options.crowd = *std::move(crowd);
  }
  mkdir(data_dir.c_str(), 0700);
  auto state = mw::centre::AgentState::Open(data_dir + "/db", mw::SystemClock::Get());
  if (!state.ok()) return Fail(state.status());

  // Simulated workers live in the roster like people; add any that are missing.
  std::vector<std::string> simulated;
  for (const auto& e : (*state)->Roster()) {
    if (e.simulated()) simulated.push_back(e.pseudonym());
  }
  while (static_cast<int>(simulated.size()) < sim_workers) {
    microwork::v1::RosterEntry e;
    e.set_name(absl::StrCat("Simulated worker ", simulated.size() + 1));
    e.set_simulated(true);
    for (const auto& l : sim_languages) e.add_languages(l);
    for (const auto& s : sim_skills) e.add_skills(s);
    auto added = (*state)->AddWorker(e);
    if (!added.ok()) return Fail(added.status());
    simulated.push_back(added->pseudonym());
  }
  simulated.resize(sim_workers);

  auto link = mw::agent::DispatcherLink::Connect(
      channel, std::string(absl::StripAsciiWhitespace(*credential)), absl::Seconds(20));
  if (!link.ok()) return Fail(link.status());

  mw::agent::MediaCache media({.dir = data_dir + "/media", .budget_bytes = media_budget_mb << 20});
  if (absl::Status s = media.Open(); !s.ok()) return Fail(s);
  options.media = &media;
  mw::agent::Agent agent(state->get(), link->get(), mw::SystemClock::Get(), options);
  std::unique_ptr<prometheus::Exposer> exposer;
  std::shared_ptr<mw::agent::AgentCollector> collector;
  std::string metrics_addr = "-";
  if (!metrics_listen.empty()) {
    try {
      exposer = std::make_unique<prometheus::Exposer>(metrics_listen);
    } catch (const std::exception& e) {
      return Fail(absl::UnavailableError(absl::StrCat("cannot listen on ", metrics_listen)));
    }
    collector =
        std::make_shared<mw::agent::AgentCollector>(state->get(), &agent, mw::SystemClock::Get());
    exposer->RegisterCollectable(collector);
    metrics_addr = absl::StrCat(metrics_listen.substr(0, metrics_listen.rfind(':')), ":",
                                exposer->GetListeningPorts().front());
  }
  std::unique_ptr<mw::agent::web::WebServer> web;
  std::string web_addr = "-";
  if (!web_listen.empty()) {
    mw::agent::web::WebServer::Options web_options{.listen = web_listen,
                                                   .max_minutes_per_day = max_hours_day * 60,
                                                   .max_minutes_per_week = max_hours_week * 60,
                                                   .distressing_per_day = distressing_per_day,
                                                   .break_after_minutes = break_after};
    // The centre's key signs its half of workers' records; the dispatcher's half names it.
    auto centre_key = mw::record::SigningKey::LoadOrCreate(data_dir + "/centre.key");
    if (!centre_key.ok()) return Fail(centre_key.status());
    web_options.centre_public_key = centre_key->public_key();
    web_options.media = &media;
    web_options.phone = phone;
    if (!manager_code_file.empty()) {
      auto code = mw::rpc::ReadFile(manager_code_file);
      if (!code.ok()) return Fail(code.status());
      web_options.manager_code = std::string(absl::StripAsciiWhitespace(*code));
    }
    mw::agent::DispatcherLink* l = link->get();
    mw::agent::web::Hooks hooks{
        .set_on_duty = [&agent](const std::string& w, bool on) { agent.SetOnDuty(w, on); },
        .answer_saved = [&agent] { agent.AnswerSaved(); },
        .roster_changed = [&agent] { agent.RosterChanged(); },
        .online = [&agent] { return agent.online(); },
        .withholdings = [&agent, l]() -> absl::StatusOr<std::vector<v1::Withholding>> {
          if (!agent.online()) return absl::UnavailableError("the centre is offline");
          auto reply = l->ListWithholdings();
          if (!reply.ok()) return reply.status();
          return std::vector<v1::Withholding>(reply->withholdings().begin(),
                                              reply->withholdings().end());
        },
        .dispute =
            [l](const v1::DisputeWithholdingRequest& r) {
              return l->DisputeWithholding(r).status();
            },
        .resolve =
            [l](const v1::ResolveDisputeRequest& r) { return l->ResolveDispute(r).status(); },
        .withhold = [l](const v1::WithholdWageRequest& r) { return l->WithholdWage(r); },
        .reassign = [l](const v1::ReassignRequest& r) { return l->Reassign(r); },
        .reviews = [&agent, l]() -> absl::StatusOr<v1::ListReviewsReply> {
          if (!agent.online()) return absl::UnavailableError("the centre is offline");
          return l->ListReviews();
        },
        .decide_review = [l](const v1::DecideReviewRequest& r) { return l->DecideReview(r); },
        .fetch_media = [&agent, &media, l](const v1::Media& file) -> absl::Status {
          if (!agent.online()) return absl::UnavailableError("the centre is offline");
          return media.Fetch(file, [l](const v1::Media& f, uint64_t offset,
                                       const mw::agent::MediaCache::Sink& sink) {
            return l->FetchMedia(f, offset, sink);
          });
        },
        .work_record = [&agent, l, key = *centre_key](
                           const std::string& worker,
                           std::optional<std::string> name) -> absl::StatusOr<std::string> {
          if (!agent.online()) return absl::UnavailableError("the centre is offline");
          v1::IssueWorkRecordRequest req;
          req.set_worker(worker);
          req.set_centre_key(key.public_key());
          auto half = l->IssueWorkRecord(req);
          if (!half.ok()) return half.status();
          return mw::record::Attest(half->text(), std::move(name), absl::Now(), key);
        },
        .payout = [&agent, l](const std::string& batch_id) -> absl::StatusOr<v1::PayoutBatch> {
          if (!agent.online()) return absl::UnavailableError("the centre is offline");
          return l->GetCentrePayout(batch_id);
        },
        .settle_payout = [l](const v1::SettlePayoutRequest& r) { return l->SettlePayout(r); }};
    auto started = mw::agent::web::WebServer::Start(state->get(), mw::SystemClock::Get(),
                                                    std::move(hooks), web_options);
    if (!started.ok()) return Fail(started.status());
    web = *std::move(started);
    web_addr = absl::StrCat(web_listen.substr(0, web_listen.rfind(':')), ":", web->port());
  }
  agent.Start(simulated);
  spdlog::info("event=ready workers={} simulated={} outbox={} metrics={}",
               (*state)->Roster().size(), simulated.size(), (*state)->Outbox().depth, metrics_addr);
  std::printf("mw-agent ready workers=%zu metrics=%s web=%s\n", (*state)->Roster().size(),
              metrics_addr.c_str(), web_addr.c_str());
  std::fflush(stdout);

  shutdown.Wait();
  spdlog::info("event=shutdown");
  web.reset();
  agent.Stop();
  exposer.reset();
  spdlog::info("event=stopped outbox={}", (*state)->Outbox().depth);
  return 0;
}
