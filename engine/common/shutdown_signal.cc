#include "engine/common/shutdown_signal.h"

#include <pthread.h>
#include <signal.h>

namespace mw {

namespace {
sigset_t ShutdownSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}
}  // namespace

ShutdownSignal::ShutdownSignal() {
  sigset_t set = ShutdownSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  waiter_ = std::thread([this] {
    sigset_t wait_set = ShutdownSet();
    int sig = 0;
    sigwait(&wait_set, &sig);  // SIGTERM from outside, or SIGINT from Trigger/destructor
    if (!stop_.HasBeenNotified()) stop_.Notify();
  });
}

void ShutdownSignal::Trigger() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
}

ShutdownSignal::~ShutdownSignal() {
  // Wake the waiter if no signal came.
  pthread_kill(waiter_.native_handle(), SIGINT);
  waiter_.join();
}

}  // namespace mw
