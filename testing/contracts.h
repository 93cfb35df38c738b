// Contracts the tests share.
#ifndef MW_TESTING_CONTRACTS_H_
#define MW_TESTING_CONTRACTS_H_

#include <string>

namespace mw::testing {

// A labelling job of `items` reviews (rows "r<i>", "review <i>"), in YAML: each positive or
// negative, one answer a piece at 5 USD cents, within a budget of 1,000,000 cents.
std::string ManyReviewsContract(int items);

}  // namespace mw::testing

#endif  // MW_TESTING_CONTRACTS_H_
