#include "worker-agent/web/decision_keys.h"

#include "gtest/gtest.h"

namespace mw::agent::web {
namespace {

namespace v1 = ::microwork::v1;

TEST(DecisionKeyTest, TheSameDecisionHasTheSameKeyAndAnotherDecisionAnother) {
  v1::DisputeWithholdingRequest dispute;
  dispute.set_assignment_id("job-1/label/4@w1");
  dispute.set_worker_statement("I answered it");
  EXPECT_EQ(DecisionKey(dispute), "dispute:job-1/label/4@w1");
  dispute.set_worker_statement("said differently");  // one dispute per assignment
  EXPECT_EQ(DecisionKey(dispute), "dispute:job-1/label/4@w1");

  v1::ResolveDisputeRequest resolve;
  resolve.set_assignment_id("job-1/label/4@w1");
  resolve.set_decided_by("Grace");
  EXPECT_EQ(DecisionKey(resolve), "resolve:job-1/label/4@w1:Grace:0");
  resolve.set_restore(true);
  EXPECT_EQ(DecisionKey(resolve), "resolve:job-1/label/4@w1:Grace:1");

  v1::ReassignRequest move;
  move.set_assignment_id("job-1/label/4@w1");
  move.set_to_worker("w2");
  EXPECT_EQ(DecisionKey(move), "move:job-1/label/4@w1:w2");
  move.set_to_worker("w3");
  EXPECT_EQ(DecisionKey(move), "move:job-1/label/4@w1:w3");

  v1::DecideReviewRequest review;
  review.set_task_id("job-1/label/7");
  review.set_reviewer("Grace");
  review.set_label("sport");
  review.set_manager("halima");
  EXPECT_EQ(DecisionKey(review), "review:job-1/label/7:Grace:halima:sport");
  review.set_manager("juma");  // another manager's decision is theirs, not a replay
  EXPECT_EQ(DecisionKey(review), "review:job-1/label/7:Grace:juma:sport");
}

}  // namespace
}  // namespace mw::agent::web
