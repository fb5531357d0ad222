#include "sim/foreign_traffic.h"

#include <set>

#include "absl/strings/str_cat.h"

namespace utm::sim {

ForeignTraffic ClassifyRejections(
    const std::vector<std::optional<v1::IntentRejection>>& rejections,
    const std::vector<std::string>& own_ids, size_t max_listed) {
  std::set<std::string> own(own_ids.begin(), own_ids.end());
  own.erase("");
  ForeignTraffic out;
  out.foreign_flags.assign(rejections.size(), 0);
  std::set<std::string> listed;
  for (size_t i = 0; i < rejections.size(); ++i) {
    if (!rejections[i].has_value()) continue;
    const v1::IntentRejection& r = *rejections[i];
    bool mine = r.conflicts().empty();
    for (const v1::Conflict& c : r.conflicts()) {
      if (c.has_intent() && own.count(c.intent().id()) > 0) mine = true;
    }
    if (mine) {
      ++out.own;
      continue;
    }
    ++out.foreign;
    out.foreign_flags[i] = 1;
    for (const v1::Conflict& c : r.conflicts()) {
      const std::string what =
          c.has_intent() ? absl::StrCat("intent ", c.intent().id())
                         : absl::StrCat("constraint ", c.constraint().id());
      if (out.met.size() < max_listed && listed.insert(what).second) {
        out.met.push_back(what);
      }
    }
  }
  return out;
}

}  // namespace utm::sim
