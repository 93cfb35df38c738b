// CheckRecords: a store's records of one kind, all read once (at open), so that one the program
// can no longer read is reported where it is, never skipped.
//
//   MW_RETURN_IF_ERROR(storage::CheckRecords<v1::Team>(*store, Cf::kTeams));
#ifndef MW_ENGINE_STORAGE_CHECK_RECORDS_H_
#define MW_ENGINE_STORAGE_CHECK_RECORDS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/storage/column_families.h"
#include "engine/storage/store.h"

namespace mw::storage {

// DATA_LOSS, naming the column family and the key, unless every record of `cf` under `prefix`
// ("" for all) parses as a T.
template <typename T>
absl::Status CheckRecords(const Store& store, Cf cf, const std::string& prefix = "") {
  for (auto c = store.Scan(cf, prefix); c->Valid(); c->Next()) {
    T record;
    if (absl::Status s = c->Read(&record); !s.ok()) {
      return absl::DataLossError(
          absl::StrCat(CfName(cf), " record \"", absl::CHexEscape(c->key()), "\": ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace mw::storage

#endif  // MW_ENGINE_STORAGE_CHECK_RECORDS_H_
