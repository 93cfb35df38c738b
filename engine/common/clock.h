// Time as a seam: production code asks a Clock, tests drive a FakeClock, so nothing in a test
// waits on the wall clock.
#ifndef MW_ENGINE_COMMON_CLOCK_H_
#define MW_ENGINE_COMMON_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace mw {

// Thread-safe. Milliseconds since the Unix epoch.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() const = 0;
};

// The wall clock.
class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override;
  // A process-wide instance; never destroyed.
  static Clock* Get();
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_ms = 1'700'000'000'000) : now_ms_(start_ms) {}
  int64_t NowMs() const override { return now_ms_.load(); }
  void AdvanceMs(int64_t ms) { now_ms_.fetch_add(ms); }
  void SetMs(int64_t ms) { now_ms_.store(ms); }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace mw

#endif  // MW_ENGINE_COMMON_CLOCK_H_
