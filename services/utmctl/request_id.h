// utmctl names the request id of every failed call: utmd returns one with
// each call (the "x-request-id" response metadata) and logs it with the
// failure, so a refusal an operator reports can be found in the server's log.
// The id is appended to the call's error text, " (request id 651f...)", which
// every command prints.
#ifndef UTM_SERVICES_UTMCTL_REQUEST_ID_H_
#define UTM_SERVICES_UTMCTL_REQUEST_ID_H_

#include <grpcpp/support/client_interceptor.h>

#include <memory>
#include <string>

namespace utm::ctl {

class RequestIdInterceptorFactory
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override;
};

// "TEXT (request id ID)"; TEXT alone when `id` is empty.
std::string WithRequestId(const std::string& text, const std::string& id);

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_REQUEST_ID_H_
