// IntentCore::ListOwned and EraseOwner: an operator's own intents, through
// the (owner, id) index the core keeps beside its entries.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/intent/intent_core.h"
#include "services/intent/intent_states.h"

namespace utm::intent {

IntentCore::OwnedPage IntentCore::ListOwned(
    const std::string& owner, const std::vector<IntentState>& states,
    const std::string& after_id, size_t limit) const {
  auto wanted = [&states](IntentState s) {
    if (states.empty()) {
      return s != IntentState::kEnded && s != IntentState::kCancelled;
    }
    return std::find(states.begin(), states.end(), s) != states.end();
  };
  OwnedPage page;
  absl::ReaderMutexLock lock(&mu_);
  // The first (owner, id) past after_id: upper_bound of (owner, after_id);
  // with no after_id, (owner, "") itself is no entry (ids are never empty).
  for (auto it = by_owner_.upper_bound(std::make_pair(owner, after_id));
       it != by_owner_.end() && it->first.first == owner; ++it) {
    const Intent& intent = *it->second;
    if (!wanted(intent.state)) continue;
    if (page.intents.size() == limit) {
      page.more = true;
      break;
    }
    page.intents.push_back(intent);
  }
  return page;
}

absl::StatusOr<int64_t> IntentCore::EraseOwner(const std::string& owner) {
  if (ledger_ != nullptr) return EraseOwnerThroughLedger(owner);
  store::Store::Ticket ticket = 0;
  int64_t erased = 0;
  {
    absl::MutexLock lock(&mu_);
    std::vector<uint64_t> handles;
    for (auto it = by_owner_.lower_bound(std::make_pair(owner, std::string()));
         it != by_owner_.end() && it->first.first == owner; ++it) {
      const Intent& intent = *it->second;
      if (absl::Status s = CheckNotFlying(intent); !s.ok()) return s;
      handles.push_back(handle_by_id_.at(intent.id));
    }
    std::vector<store::Mutation> batch;
    for (uint64_t handle : handles) {
      const Intent& intent = entries_.at(handle)->intent;
      if (store_ != nullptr && intent.retained) {
        batch.push_back(store::Delete(kIntentsTable, intent.id));
      }
      EraseIntent(handle);
      ++erased;
    }
    // Request records hold copies of the intents they filed. Their keys
    // left in request_order_ are dropped when they come due.
    const std::string prefix = RequestKey(owner, "");
    for (auto it = requests_.begin(); it != requests_.end();) {
      if (absl::StartsWith(it->first, prefix)) {
        if (store_ != nullptr) {
          batch.push_back(store::Delete(kRequestsTable, it->first));
        }
        requests_.erase(it++);
      } else {
        ++it;
      }
    }
    if (store_ != nullptr && !batch.empty()) {
      ticket = store_->Enqueue(std::move(batch));
    }
  }
  if (ticket != 0) {
    if (absl::Status s = store_->Wait(ticket); !s.ok()) return s;
  }
  return erased;
}

}  // namespace utm::intent
