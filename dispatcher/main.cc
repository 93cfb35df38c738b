// mw-dispatcher: splits client contracts into tasks, leases them to delivery centres over gRPC,
// verifies the answers and pays for every one. All state lives in RocksDB under --data-dir.
//
//   mw-dispatcher --data-dir /var/lib/microwork --listen 127.0.0.1:7070
//                 --metrics-listen 127.0.0.1:9464
//
// On start it prints one line, "mw-dispatcher ready grpc=HOST:PORT metrics=HOST:PORT", and writes
// the same to --ready-file if given; port 0 asks the OS for a free port. SIGTERM or SIGINT shut
// it down cleanly: calls in flight finish, nothing acknowledged is lost.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <prometheus/exposer.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdlib>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "dispatcher/metrics.h"
#include "dispatcher/service/services.h"
#include "engine/common/clock.h"
#include "engine/common/heap.h"
#include "engine/common/lock_checks.h"
#include "engine/common/money.h"
#include "engine/common/sha256.h"
#include "engine/common/shutdown_signal.h"
#include "engine/dispatch/engine.h"
#include "engine/record/work_record.h"
#include "proto/rpc/channel.h"

namespace {

// Reads the operator token from `path`, creating it (mode 0600) with a fresh token if absent.
absl::StatusOr<std::string> OperatorToken(const std::string& path) {
  if (auto existing = mw::rpc::ReadFile(path); existing.ok()) {
    std::string token = *existing;
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    if (token.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": empty token"));
    return token;
  }
  const std::string token = absl::StrCat("mwo_", mw::ToHex(mw::RandomBytes(20)));
  std::ofstream out(path, std::ios::trunc);
  if (!out) return absl::NotFoundError(absl::StrCat(path, ": cannot write the operator token"));
  out << token << "\n";
  out.close();
  chmod(path.c_str(), 0600);
  return token;
}

int Fail(const absl::Status& s) {
  spdlog::error("event=fatal error=\"{}\"", s.ToString());
  return 1;
}

// mw-dispatcher --restore-from DIR --data-dir NEW: the offline half of a backup (it needs the
// dispatcher's storage, which the operators' `mw` does not link).
int Restore(const std::string& from, const std::string& data_dir) {
  auto reply = mw::dispatch::RestoreBackup(from, data_dir);
  if (!reply.ok()) {
    std::cerr << "mw-dispatcher: " << reply.status().message() << "\n";
    return 1;
  }
  std::cout << "Restored " << from << " into " << data_dir << " (start mw-dispatcher --data-dir "
            << data_dir << "), ledger verified:\n"
            << "  " << reply->transfers() << " transfers, " << reply->accounts()
            << " accounts, hash chain unbroken\n";
  for (const auto& t : reply->totals()) {
    std::cout << "  " << t.currency()
              << ": debits = credits = " << mw::FormatMoney(t.posted_minor(), t.currency())
              << " posted, " << mw::FormatMoney(t.pending_minor(), t.currency()) << " pending\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  mw::ReturnFreedMemory();      // before any thread: the heap gives back what is freed
  mw::SkipLockOrderChecks();    // the tests check lock orders (lock_checks.h)
  mw::ShutdownSignal shutdown;  // first: every later thread inherits the blocked signals
  CLI::App app{"mw-dispatcher: the microwork dispatcher"};
  std::string data_dir, listen = "127.0.0.1:7070", metrics_listen = "127.0.0.1:9464";
  std::string token_file, ready_file, tls_cert, tls_key, tls_ca;
  bool insecure = false;
  int lease_seconds = 120;
  int64_t schedule_to_start_s = 4 * 3600, start_to_close_s = 3600;
  app.add_option("--data-dir", data_dir, "Directory of the RocksDB state")->required();
  app.add_option("--listen", listen, "gRPC address (port 0: chosen by the OS)");
  app.add_option("--metrics-listen", metrics_listen, "Prometheus /metrics address");
  app.add_option("--operator-token-file", token_file,
                 "Operator token file; created if missing (default DATA_DIR/operator.token)");
  std::string auditor_token_file;
  app.add_option("--auditor-token-file", auditor_token_file,
                 "Read-only auditor token file; created if missing (default: no auditor role)");
  app.add_option("--ready-file", ready_file, "Write the bound addresses here once serving");
  app.add_option("--tls-cert", tls_cert, "Server certificate (PEM)");
  app.add_option("--tls-key", tls_key, "Server private key (PEM)");
  app.add_option("--tls-ca", tls_ca, "CA for client certificates (PEM): enables mutual TLS");
  app.add_flag("--insecure", insecure, "Allow plaintext on a non-loopback address");
  app.add_option("--schedule-to-start-seconds", schedule_to_start_s,
                 "An assignment nobody opened this long is offered elsewhere (0: never)")
      ->check(CLI::Range(int64_t{0}, int64_t{30} * 24 * 3600));
  app.add_option("--start-to-close-seconds", start_to_close_s,
                 "An assignment opened this long ago is reassigned (0: never)")
      ->check(CLI::Range(int64_t{0}, int64_t{30} * 24 * 3600));
  app.add_option("--lease-seconds", lease_seconds, "Lease life without a heartbeat")
      ->check(CLI::Range(5, 86400));
  std::string log_level = "info";
  int max_threads = 200;
  uint64_t max_waiting_mb = 64;
  app.add_option("--max-threads", max_threads,
                 "Calls served at once; beyond it a call gets RESOURCE_EXHAUSTED")
      ->check(CLI::Range(4, 10000));
  app.add_option("--max-waiting-write-mb", max_waiting_mb,
                 "Changes waiting for the disk beyond which new work is refused (retry hint)")
      ->check(CLI::Range(1, 4096));
  uint64_t block_cache_mb = 64, memtable_mb = 64;
  app.add_option("--block-cache-mb", block_cache_mb,
                 "Memory for blocks read from disk, beside the memtables' (one budget)")
      ->check(CLI::Range(8, 65536));
  app.add_option("--memtable-mb", memtable_mb,
                 "Memory for writes not yet flushed to disk, over every family")
      ->check(CLI::Range(8, 16384));
  app.add_option("--log-level", log_level, "trace, debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.set_config("--config", "", "Read options from this TOML/INI file");
  // A name the program does not know is an error, not silently a default (a misspelt budget).
  app.allow_config_extras(CLI::config_extras_mode::error);
  std::string restore_from;
  app.add_option("--restore-from", restore_from,
                 "Install this backup (mw admin backup) as --data-dir, audit it and exit; the "
                 "data directory must be new");
  CLI11_PARSE(app, argc, argv);
  // Logs go to stderr; stdout carries only the ready line.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("mw"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e level=%l %v");
  spdlog::set_level(spdlog::level::from_str(log_level));

  if (tls_cert.empty() != tls_key.empty()) {
    return Fail(absl::InvalidArgumentError("--tls-cert and --tls-key go together"));
  }
  if (tls_cert.empty() && !insecure && !mw::rpc::IsLoopback(listen)) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "refusing to serve plaintext on ", listen, ": give --tls-cert/--tls-key or --insecure")));
  }
  if (!restore_from.empty()) return Restore(restore_from, data_dir);
  mkdir(data_dir.c_str(), 0700);
  if (token_file.empty()) token_file = data_dir + "/operator.token";
  auto token = OperatorToken(token_file);
  if (!token.ok()) return Fail(token.status());

  mw::dispatch::Engine::Options options;
  options.lease_ms = int64_t{lease_seconds} * 1000;
  options.schedule_to_start_ms = schedule_to_start_s * 1000;
  options.start_to_close_ms = start_to_close_s * 1000;
  options.max_waiting_commit_bytes = max_waiting_mb << 20;
  options.store.block_cache_bytes = block_cache_mb << 20;
  options.store.memtable_bytes = memtable_mb << 20;
  // After a failed write nothing can be acknowledged again in this process: exit loudly and let
  // the supervisor (deploy/systemd: Restart=on-failure) start it again, which recovers from what
  // is durable once space returns. Nothing acknowledged is lost: acknowledgements wait for disk.
  options.on_write_failure = [](const absl::Status& s) {
    spdlog::critical("event=exit reason=write_failed_or_memory_ahead code=75 error=\"{}\"",
                     s.ToString());
    spdlog::default_logger()->flush();
    std::_Exit(75);  // EX_TEMPFAIL
  };
  auto engine = mw::dispatch::Engine::Open(data_dir + "/db", mw::SystemClock::Get(), options);
  if (!engine.ok()) return Fail(engine.status());

  std::string auditor_token;
  if (!auditor_token_file.empty()) {
    auto t = OperatorToken(auditor_token_file);
    if (!t.ok()) return Fail(t.status());
    auditor_token = *t;
  }
  mw::rpc::Authenticator auth(engine->get(), *token, auditor_token);
  mw::rpc::OperatorServiceImpl operator_service(engine->get(), &auth);
  // The installation's key signs the dispatcher's half of workers' records; its fingerprint is
  // what the operator publishes so anyone can check a record offline (mw record verify).
  auto installation_key = mw::record::SigningKey::LoadOrCreate(data_dir + "/installation.key");
  if (!installation_key.ok()) return Fail(installation_key.status());
  spdlog::info("event=installation_key key={} fingerprint={}",
               mw::record::KeyText(installation_key->public_key()),
               mw::record::Fingerprint(installation_key->public_key()));
  mw::rpc::CentreServiceImpl centre_service(engine->get(), &auth, &*installation_key);
  mw::rpc::LedgerServiceImpl ledger_service(engine->get(), &auth);

  std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
  if (!tls_cert.empty()) {
    grpc::SslServerCredentialsOptions ssl(
        tls_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                       : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    auto cert = mw::rpc::ReadFile(tls_cert);
    auto key = mw::rpc::ReadFile(tls_key);
    if (!cert.ok()) return Fail(cert.status());
    if (!key.ok()) return Fail(key.status());
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    if (!tls_ca.empty()) {
      auto ca = mw::rpc::ReadFile(tls_ca);
      if (!ca.ok()) return Fail(ca.status());
      ssl.pem_root_certs = *ca;
    }
    creds = grpc::SslServerCredentials(ssl);
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, creds, &port);
  builder.RegisterService(&operator_service);
  builder.RegisterService(&centre_service);
  builder.RegisterService(&ledger_service);
  builder.SetMaxReceiveMessageSize(64 << 20);
  // Bounded: a thread per call in flight, no more; gRPC refuses the rest (RESOURCE_EXHAUSTED)
  // and the agents back off and retry.
  grpc::ResourceQuota quota("mw-dispatcher");
  quota.SetMaxThreads(max_threads);
  builder.SetResourceQuota(quota);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return Fail(absl::UnavailableError(absl::StrCat("cannot listen on ", listen)));
  }

  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(metrics_listen);
  } catch (const std::exception& e) {
    return Fail(
        absl::UnavailableError(absl::StrCat("cannot listen on ", metrics_listen, ": ", e.what())));
  }
  auto collector = std::make_shared<mw::DispatcherCollector>(engine->get());
  exposer->RegisterCollectable(collector);

  const std::string host = listen.substr(0, listen.rfind(':'));
  const std::string metrics_host = metrics_listen.substr(0, metrics_listen.rfind(':'));
  const std::string ready = absl::StrCat("grpc=", host, ":", port, " metrics=", metrics_host, ":",
                                         exposer->GetListeningPorts().front());
  if (!ready_file.empty()) {
    std::ofstream(ready_file + ".tmp") << ready << "\n";
    std::rename((ready_file + ".tmp").c_str(), ready_file.c_str());
  }
  spdlog::info("event=ready {} data_dir={}", ready, data_dir);
  std::printf("mw-dispatcher ready %s\n", ready.c_str());
  std::fflush(stdout);

  // Lease timers: wake at the next expiry (at most a second away) or on shutdown.
  std::thread timers([&] {
    while (!shutdown.Stopping()) {
      auto expired = (*engine)->ExpireLeases();
      if (!expired.ok()) {
        spdlog::error("event=expire_failed error=\"{}\"", expired.status().ToString());
      } else if (*expired > 0) {
        spdlog::info("event=leases_expired count={}", *expired);
      }
      const int64_t now = mw::SystemClock::Get()->NowMs();
      int64_t wait_ms = 1000;
      if (auto next = (*engine)->NextExpiry(); next.has_value()) {
        wait_ms = std::clamp<int64_t>(*next - now, 1, 1000);
      }
      shutdown.WaitFor(absl::Milliseconds(wait_ms));
    }
  });

  shutdown.Wait();
  spdlog::info("event=shutdown");
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  timers.join();
  exposer.reset();
  engine->reset();
  spdlog::info("event=stopped");
  return 0;
}
