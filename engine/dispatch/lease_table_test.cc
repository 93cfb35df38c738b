#include "engine/dispatch/lease_table.h"

#include "gtest/gtest.h"

namespace mw::dispatch {
namespace {

namespace v1 = ::microwork::v1;

LeaseTable::Options ThreeClocks() {
  return {.lease_ms = 120'000,
          .schedule_to_start_ms = 4 * 3'600'000,
          .start_to_close_ms = 3'600'000,
          .max_attempts = 3,
          .retry_base_ms = 5'000,
          .retry_max_ms = 30'000,
          .seed = 7};
}

v1::SlotRecord Slot(const std::string& worker, uint64_t epoch, int64_t leased_at,
                    int64_t started_at = 0) {
  v1::SlotRecord slot;
  slot.set_worker(worker);
  slot.set_centre("nairobi");
  slot.set_epoch(epoch);
  slot.set_leased_at_ms(leased_at);
  slot.set_started_at_ms(started_at);
  return slot;
}

TEST(LeaseTableTest, ALeaseRunsOnePeriodWithinItsScheduleToStartOrStartToCloseBound) {
  LeaseTable leases(ThreeClocks());
  const v1::SlotRecord unopened = Slot("amina", 1, 1'000'000);
  EXPECT_EQ(leases.Bound(unopened), 1'000'000 + 4 * 3'600'000);
  EXPECT_EQ(leases.ExpiryFrom(1'000'000, unopened), 1'120'000);
  // Heartbeats near the end of schedule-to-start cannot carry it past the bound.
  EXPECT_EQ(leases.ExpiryFrom(1'000'000 + 4 * 3'600'000 - 60'000, unopened),
            1'000'000 + 4 * 3'600'000);
  const v1::SlotRecord opened = Slot("amina", 1, 1'000'000, 2'000'000);
  EXPECT_EQ(leases.Bound(opened), 2'000'000 + 3'600'000);
  EXPECT_EQ(leases.ExpiryFrom(5'580'000, opened), 5'600'000);

  LeaseTable no_bounds({.lease_ms = 1'000});
  EXPECT_EQ(no_bounds.Bound(opened), INT64_MAX);
  EXPECT_EQ(no_bounds.ExpiryFrom(10, opened), 1'010);
}

TEST(LeaseTableTest, TimersFireInOrderOnceAndAnExtensionMovesTheTimer) {
  LeaseTable leases(ThreeClocks());
  EXPECT_EQ(leases.NextExpiry(), std::nullopt);
  v1::SlotRecord a = Slot("amina", 1, 0);
  a.set_lease_expires_at_ms(300);
  v1::SlotRecord b = Slot("otieno", 2, 0);
  b.set_lease_expires_at_ms(100);
  leases.Arm("task-a", a);
  leases.Arm("task-b", b);
  EXPECT_EQ(leases.NextExpiry(), 100);
  a.set_lease_expires_at_ms(500);  // a heartbeat moved it
  leases.Arm("task-a", a);
  EXPECT_EQ(leases.armed(), 2u);

  EXPECT_TRUE(leases.TakeDue(99).empty());
  std::vector<LeaseTable::Timer> due = leases.TakeDue(300);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].task_key, "task-b");
  EXPECT_EQ(due[0].worker, "otieno");
  EXPECT_EQ(due[0].epoch, 2u);
  EXPECT_EQ(due[0].at_ms, 100);
  EXPECT_TRUE(leases.TakeDue(300).empty());  // each fires once
  EXPECT_EQ(leases.NextExpiry(), 500);
  due = leases.TakeDue(500);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].task_key, "task-a");
  EXPECT_EQ(due[0].at_ms, 500);
  EXPECT_EQ(leases.armed(), 0u);
  EXPECT_EQ(leases.NextExpiry(), std::nullopt);
}

TEST(LeaseTableTest, ItHoldsOneTimerPerLiveLeaseAndNoneOnceALeaseIsAnswered) {
  LeaseTable leases(ThreeClocks());
  // A thousand leases, each extended by three heartbeats, two workers on each task.
  for (int beat = 1; beat <= 4; ++beat) {
    for (int t = 0; t < 500; ++t) {
      for (const char* worker : {"amina", "otieno"}) {
        v1::SlotRecord slot = Slot(worker, 1, 0);
        slot.set_lease_expires_at_ms(1'000 * beat + t);
        leases.Arm("task-" + std::to_string(t), slot);
      }
    }
  }
  EXPECT_EQ(leases.armed(), 1000u);
  EXPECT_EQ(leases.NextExpiry(), 4'000);
  // Amina answers everything: her timers go; Otieno's stay, at their last expiry.
  for (int t = 0; t < 500; ++t) leases.Disarm("task-" + std::to_string(t), "amina");
  leases.Disarm("task-0", "amina");      // again: nothing happens
  leases.Disarm("task-none", "otieno");  // never armed: nothing happens
  EXPECT_EQ(leases.armed(), 500u);
  std::vector<LeaseTable::Timer> due = leases.TakeDue(4'000 + 499);
  ASSERT_EQ(due.size(), 500u);
  for (int t = 0; t < 500; ++t) {
    EXPECT_EQ(due[t].task_key, "task-" + std::to_string(t));
    EXPECT_EQ(due[t].worker, "otieno");
    EXPECT_EQ(due[t].at_ms, 4'000 + t);
  }
  EXPECT_EQ(leases.armed(), 0u);
}

TEST(LeaseTableTest, CoverageCheckFindsALeaseNoTimerWillExpire) {
  LeaseTable leases(ThreeClocks());
  v1::SlotRecord armed = Slot("amina", 1, 0);
  armed.set_lease_expires_at_ms(100);
  leases.Arm("task-a", armed);
  v1::SlotRecord unarmed = Slot("otieno", 1, 0);
  unarmed.set_lease_expires_at_ms(100);
  v1::SlotRecord later_epoch = armed;
  later_epoch.set_epoch(2);
  v1::SlotRecord extended = armed;
  extended.set_lease_expires_at_ms(50);  // expires before the only timer fires

  auto covered = leases.CoverageCheck();
  EXPECT_TRUE(covered("task-a", armed));
  EXPECT_FALSE(covered("task-a", unarmed));
  EXPECT_FALSE(covered("task-a", later_epoch));
  EXPECT_FALSE(covered("task-b", armed));
  EXPECT_FALSE(covered("task-a", extended));
}

TEST(LeaseTableTest, HoldingsCountPerCentreAndPerWorker) {
  LeaseTable leases(ThreeClocks());
  leases.Hold("nairobi", "amina");
  leases.Hold("nairobi", "amina");
  leases.Hold("nairobi", "otieno");
  leases.Hold("pune", "amina");
  EXPECT_EQ(leases.HeldByCentre("nairobi"), 3u);
  EXPECT_EQ(leases.HeldBy("nairobi", "amina"), 2u);
  EXPECT_EQ(leases.HeldBy("pune", "amina"), 1u);
  leases.Move("nairobi", "amina", "otieno");  // a manager reassigns: the centre holds the same
  EXPECT_EQ(leases.HeldByCentre("nairobi"), 3u);
  EXPECT_EQ(leases.HeldBy("nairobi", "amina"), 1u);
  EXPECT_EQ(leases.HeldBy("nairobi", "otieno"), 2u);
  leases.Release("nairobi", "otieno");
  EXPECT_EQ(leases.HeldByCentre("nairobi"), 2u);
  EXPECT_EQ(leases.HeldBy("nairobi", "otieno"), 1u);
  EXPECT_EQ(leases.HeldByCentre("kisumu"), 0u);
}

TEST(LeaseTableTest, RetriesBackOffExponentiallyWithJitterUpToTheCapAndThenDeadLetter) {
  LeaseTable leases(ThreeClocks());
  for (uint32_t failures = 1; failures <= 6; ++failures) {
    const int64_t full = std::min<int64_t>(5'000 << (failures - 1), 30'000);
    const int64_t delay = leases.RetryDelay(failures);
    EXPECT_GE(delay, full / 2) << failures;
    EXPECT_LT(delay, full) << failures;
  }
  EXPECT_FALSE(leases.Exhausted(2));
  EXPECT_TRUE(leases.Exhausted(3));
  // The same seed gives the same delays: simulations replay exactly.
  LeaseTable a(ThreeClocks()), b(ThreeClocks());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(a.RetryDelay(2), b.RetryDelay(2));
}

}  // namespace
}  // namespace mw::dispatch
