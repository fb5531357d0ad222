#include "services/utmd/ledger_hook.h"

namespace utm::utmd {

ledger::Ledger* HookSharedLedger(ledger::Ledger* shared,
                                 std::unique_ptr<ledger::Ledger>*) {
  return shared;
}

const char* BuildSuffix() { return ""; }

}  // namespace utm::utmd
