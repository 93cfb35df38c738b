// mw: the microwork command-line client for operators and centre managers.
//
//   mw --server 127.0.0.1:7070 --token-file operator.token contract submit contract.yaml
//   mw --server ... job watch job-1
//   mw --server ... results export job-1 --format csv --out results.csv
//   mw --server ... ledger verify
//
// Exit codes: 0 success, 1 the command failed (the message says why), 2 bad usage.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "engine/common/lock_checks.h"

int main(int argc, char** argv) {
  mw::SkipLockOrderChecks();  // the tests check lock orders (lock_checks.h)
  CLI::App app{"mw: microwork command-line client"};
  app.require_subcommand(1);
  mw::cli::ClientOptions options;
  options.channel.target = "127.0.0.1:7070";
  app.add_option("--server", options.channel.target, "Dispatcher address host:port")
      ->envname("MW_SERVER");
  app.add_option("--token-file", options.token_file,
                 "Your credential: your staff account's, the operator token, or a centre's")
      ->envname("MW_TOKEN_FILE");
  app.add_option("--tls-ca", options.channel.tls_ca, "CA of the dispatcher's certificate (PEM)");
  app.add_option("--tls-cert", options.channel.tls_cert, "Client certificate for mutual TLS");
  app.add_option("--tls-key", options.channel.tls_key, "Client key for mutual TLS");
  app.add_option("--timeout", options.timeout_seconds, "Seconds before a call gives up");

  mw::cli::Run run;
  mw::cli::AddContractCommands(app, &run);
  mw::cli::AddJobCommands(app, &run);
  mw::cli::AddCentreCommands(app, &run);
  mw::cli::AddLedgerCommands(app, &run);
  mw::cli::AddQaCommands(app, &run);
  mw::cli::AddWithholdCommands(app, &run);
  mw::cli::AddPayoutCommands(app, &run);
  mw::cli::AddAdminCommands(app, &run);
  mw::cli::AddStaffCommands(app, &run);
  mw::cli::AddRecordCommands(app, &run);
  mw::cli::AddVoiceCommands(app, &run);
  mw::cli::AddImportCommands(app, &run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help is success; every usage error is 2
  }
  if (!run) {
    std::cerr << app.help();
    return 2;
  }
  absl::Status status = run([&] { return mw::cli::Client::Connect(options); });
  if (!status.ok()) {
    std::cerr << "mw: " << status.message() << "\n";
    return 1;
  }
  return 0;
}
