// The one difference between utmd and the test-only utmd_unguarded_for_test:
// what is done to the shared ledger before the cores use it. main.cc is
// compiled once; each executable links one definition of these
// (ledger_hook.cc in the product, ledger_hook_unguarded.cc in the test
// build, which drops every commit's read keys so that the replica tests can
// show they catch the broken protocol).
#ifndef UTM_SERVICES_UTMD_LEDGER_HOOK_H_
#define UTM_SERVICES_UTMD_LEDGER_HOOK_H_

#include <memory>

#include "services/common/ledger/ledger.h"

namespace utm::utmd {

// The ledger the cores commit through, given the shared one: `shared`
// itself in the product; in the test build a wrapper, kept in `*keep`.
ledger::Ledger* HookSharedLedger(ledger::Ledger* shared,
                                 std::unique_ptr<ledger::Ledger>* keep);

// What `utmd --version` adds after the version: "" in the product.
const char* BuildSuffix();

}  // namespace utm::utmd

#endif  // UTM_SERVICES_UTMD_LEDGER_HOOK_H_
