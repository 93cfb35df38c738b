// CheckRecords and ForEachRecord: a store's records of one kind, all read (at open), so that one
// the program can no longer read is reported where it is, never skipped.
//
//   MW_RETURN_IF_ERROR(storage::CheckRecords<v1::Team>(*store, Cf::kTeams));
//   MW_RETURN_IF_ERROR(storage::ForEachRecord<v1::RosterEntry>(
//       *store, Cf::kRoster, [&](absl::string_view key, v1::RosterEntry e) { ...; return ok; }));
#ifndef MW_ENGINE_STORAGE_CHECK_RECORDS_H_
#define MW_ENGINE_STORAGE_CHECK_RECORDS_H_

#include <functional>
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

// Calls `each` with every record of `cf` under `prefix`, in key order, and stops at the first
// error it returns. DATA_LOSS, naming the column family and the key, for a record that does not
// parse as a T.
template <typename T>
absl::Status ForEachRecord(const Store& store, Cf cf,
                           const std::function<absl::Status(absl::string_view key, T record)>& each,
                           const std::string& prefix = "") {
  auto c = store.Scan(cf, prefix);
  for (; c->Valid(); c->Next()) {
    T record;
    if (absl::Status s = c->Read(&record); !s.ok()) {
      return absl::DataLossError(
          absl::StrCat(CfName(cf), " record \"", absl::CHexEscape(c->key()), "\": ", s.message()));
    }
    if (absl::Status s = each(c->key(), std::move(record)); !s.ok()) return s;
  }
  return c->status();
}

}  // namespace mw::storage

#endif  // MW_ENGINE_STORAGE_CHECK_RECORDS_H_
