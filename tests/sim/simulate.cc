// simulate: the deterministic simulation's long mode. Runs seeds from --seed on, prints one line
// per failure (with its seed, to replay with --seed S --seeds 1 --trace) and a summary.
//
//   build/bin/simulate --seeds 1000            # seeds 1..1000
//   build/bin/simulate --seed 417 --trace      # replay one seed, every event on stderr
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "tests/sim/simulator.h"

int main(int argc, char** argv) {
  CLI::App app{"simulate"};
  mw::sim::Options options;
  uint64_t seeds = 1;
  app.add_option("--seed", options.seed, "First seed");
  app.add_option("--seeds", seeds, "How many seeds to run");
  app.add_option("--centres", options.centres);
  app.add_option("--items", options.items);
  app.add_option("--drop", options.drop, "Chance a message is lost");
  app.add_option("--duplicate", options.duplicate, "Chance a message arrives twice");
  app.add_flag("--trace", options.trace, "Print every event to stderr");
  app.add_flag("--pieces", options.pieces,
               "Run a contract whose rows people cut into pieces, labelled one by one and "
               "gathered back");
  app.add_flag("--branches", options.branches,
               "Run a branching contract: two questions side by side, a check, and a join");
  app.add_flag("--hostile", options.hostile,
               "Make the last centre hostile (inflated times, made-up reviewers, oversized and "
               "stolen answers, replays with changed bodies)");
  CLI11_PARSE(app, argc, argv);

  const auto start = std::chrono::steady_clock::now();
  uint64_t failed = 0, messages = 0, dropped = 0, crashes = 0, partitions = 0, late = 0,
           attacks = 0;
  const uint64_t first = options.seed;
  for (uint64_t s = first; s < first + seeds; ++s) {
    options.seed = s;
    const mw::sim::Report r = mw::sim::Run(options);
    messages += r.messages;
    dropped += r.dropped;
    crashes += r.dispatcher_crashes + r.centre_crashes;
    partitions += r.partitions;
    late += r.late;
    attacks += r.attacks;
    if (!r.ok) {
      ++failed;
      std::printf("FAIL %s\n", r.failure.c_str());
    } else if (seeds == 1) {
      std::printf(
          "seed %llu ok: digest %016llx, finished after %.1f simulated min; %llu messages "
          "(%llu dropped, %llu duplicated), %llu dispatcher and %llu centre crashes, %llu "
          "partitions, %llu contributions acknowledged (%llu late), %llu lease expiries, %llu "
          "redriven\n",
          static_cast<unsigned long long>(s), static_cast<unsigned long long>(r.digest),
          r.finished_after_ms / 60'000.0, static_cast<unsigned long long>(r.messages),
          static_cast<unsigned long long>(r.dropped), static_cast<unsigned long long>(r.duplicated),
          static_cast<unsigned long long>(r.dispatcher_crashes),
          static_cast<unsigned long long>(r.centre_crashes),
          static_cast<unsigned long long>(r.partitions),
          static_cast<unsigned long long>(r.acknowledged), static_cast<unsigned long long>(r.late),
          static_cast<unsigned long long>(r.lease_expiries),
          static_cast<unsigned long long>(r.redriven));
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "%llu seeds (%llu..%llu): %llu clean, %llu failed in %.0f s; %llu messages, %llu dropped, "
      "%llu crashes, %llu partitions, %llu late contributions, %llu hostile requests refused\n",
      static_cast<unsigned long long>(seeds), static_cast<unsigned long long>(first),
      static_cast<unsigned long long>(first + seeds - 1),
      static_cast<unsigned long long>(seeds - failed), static_cast<unsigned long long>(failed),
      secs, static_cast<unsigned long long>(messages), static_cast<unsigned long long>(dropped),
      static_cast<unsigned long long>(crashes), static_cast<unsigned long long>(partitions),
      static_cast<unsigned long long>(late), static_cast<unsigned long long>(attacks));
  return failed == 0 ? 0 : 1;
}
