// ShutdownSignal: turns SIGTERM and SIGINT into a notification, safely. Construct it first thing
// in main(), before any thread starts, so every thread inherits the blocked mask and only the
// signal thread ever sees the signals.
//
//   int main() {
//     mw::ShutdownSignal shutdown;
//     ... start servers ...
//     shutdown.Wait();   // returns on SIGTERM or SIGINT (or Trigger())
//   }
#ifndef MW_ENGINE_COMMON_SHUTDOWN_SIGNAL_H_
#define MW_ENGINE_COMMON_SHUTDOWN_SIGNAL_H_

#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace mw {

class ShutdownSignal {
 public:
  ShutdownSignal();
  ~ShutdownSignal();
  ShutdownSignal(const ShutdownSignal&) = delete;
  ShutdownSignal& operator=(const ShutdownSignal&) = delete;

  void Wait() { stop_.WaitForNotification(); }
  // True once stopping; waits up to `timeout` for it.
  bool WaitFor(absl::Duration timeout) { return stop_.WaitForNotificationWithTimeout(timeout); }
  bool Stopping() const { return stop_.HasBeenNotified(); }
  // Starts the shutdown as a signal would.
  void Trigger();

 private:
  absl::Notification stop_;
  std::thread waiter_;
};

}  // namespace mw

#endif  // MW_ENGINE_COMMON_SHUTDOWN_SIGNAL_H_
