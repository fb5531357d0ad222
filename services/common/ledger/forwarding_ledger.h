// A ledger that passes every call to another: the base of test doubles that
// change one behaviour (drop the guard, hold commits at a gate) and keep the
// rest real.
#ifndef UTM_SERVICES_COMMON_LEDGER_FORWARDING_LEDGER_H_
#define UTM_SERVICES_COMMON_LEDGER_FORWARDING_LEDGER_H_

#include <string>
#include <utility>
#include <vector>

#include "services/common/ledger/ledger.h"

namespace utm::ledger {

class ForwardingLedger : public Ledger {
 public:
  // `inner` is not owned and must outlive this ledger.
  explicit ForwardingLedger(Ledger* inner) : inner_(inner) {}

  absl::StatusOr<Position> Load(
      const std::vector<std::string>& tables,
      const std::function<void(absl::string_view, absl::string_view,
                               absl::string_view)>& fn) override {
    return inner_->Load(tables, fn);
  }
  void Commit(Guard guard, std::vector<Mutation> mutations,
              Done done) override {
    inner_->Commit(std::move(guard), std::move(mutations), std::move(done));
  }
  absl::StatusOr<std::vector<Entry>> Read(const Position& after,
                                          int max_entries,
                                          absl::Duration wait) override {
    return inner_->Read(after, max_entries, wait);
  }
  absl::StatusOr<Position> Latest() override { return inner_->Latest(); }
  absl::StatusOr<Tail> ReadTail(const Position& after, int max_entries,
                                absl::Duration wait) override {
    return inner_->ReadTail(after, max_entries, wait);
  }
  absl::StatusOr<uint64_t> Durable() override { return inner_->Durable(); }
  absl::Status ConfirmDurable(const Position& upto) override {
    return inner_->ConfirmDurable(upto);
  }
  absl::Status ForgetHistory(const Position& through) override {
    return inner_->ForgetHistory(through);
  }
  int64_t round_trips() const override { return inner_->round_trips(); }

 protected:
  Ledger* inner() const { return inner_; }

 private:
  Ledger* const inner_;
};

}  // namespace utm::ledger

#endif  // UTM_SERVICES_COMMON_LEDGER_FORWARDING_LEDGER_H_
