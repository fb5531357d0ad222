#include "services/utmctl/request_id.h"

#include <grpcpp/support/status.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace utm::ctl {

namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::InterceptorBatchMethods;

constexpr char kRequestIdKey[] = "x-request-id";

class RequestIdInterceptor : public grpc::experimental::Interceptor {
 public:
  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      Remember(methods->GetRecvInitialMetadata());
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_STATUS)) {
      Remember(methods->GetRecvTrailingMetadata());
      grpc::Status* status = methods->GetRecvStatus();
      if (status != nullptr && !status->ok() && !id_.empty()) {
        *status = grpc::Status(status->error_code(),
                               WithRequestId(status->error_message(), id_),
                               status->error_details());
      }
    }
    methods->Proceed();
  }

 private:
  void Remember(
      const std::multimap<grpc::string_ref, grpc::string_ref>* metadata) {
    if (metadata == nullptr) return;
    auto it = metadata->find(kRequestIdKey);
    if (it != metadata->end()) id_.assign(it->second.data(), it->second.size());
  }

  std::string id_;
};

}  // namespace

grpc::experimental::Interceptor*
RequestIdInterceptorFactory::CreateClientInterceptor(
    grpc::experimental::ClientRpcInfo* /*info*/) {
  return new RequestIdInterceptor;
}

std::string WithRequestId(const std::string& text, const std::string& id) {
  if (id.empty()) return text;
  return absl::StrCat(text, " (request id ", id, ")");
}

}  // namespace utm::ctl
