// IntentCore::ListOwned: an operator's own intents, paged by id, through the
// (owner, id) index the core keeps beside its entries.
#include <algorithm>
#include <string>
#include <vector>

#include "services/intent/intent_core.h"

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

}  // namespace utm::intent
