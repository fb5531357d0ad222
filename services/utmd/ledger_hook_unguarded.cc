// For utmd_unguarded_for_test only, never installed: commits forget what
// their decision read, after a 50 ms delay that widens the race (a busy CI
// machine spreads racing calls over milliseconds), so that the replica tests
// can show they catch the broken protocol.
#include <iostream>

#include "services/common/log/log.h"
#include "services/intent/intent_replica_testing.h"
#include "services/utmd/ledger_hook.h"

namespace utm::utmd {

ledger::Ledger* HookSharedLedger(ledger::Ledger* shared,
                                 std::unique_ptr<ledger::Ledger>* keep) {
  *keep = std::make_unique<intent::testing::UnguardedLedger>(
      shared, absl::Milliseconds(50));
  UTM_LOG(kWarning) << "TEST BUILD: commits are not guarded";
  return keep->get();
}

const char* BuildSuffix() { return "-unguarded-for-test"; }

}  // namespace utm::utmd
