// The --json output of utmctl: a protobuf message as one line of JSON, with
// the field names of the .proto (snake_case), which scripts and
// docs/utmctl.md rely on.
#ifndef UTM_SERVICES_UTMCTL_PROTO_JSON_H_
#define UTM_SERVICES_UTMCTL_PROTO_JSON_H_

#include <string>

#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"

namespace utm::ctl {

// `with_defaults`: also fields holding their zero value (a head-on
// encounter's 0 m at closest approach, a watch event's sequence 0), so that
// a script finds every field of a message. DEFAULT: omitted.
inline std::string ProtoJson(const google::protobuf::Message& message,
                             bool with_defaults = false) {
  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  print.always_print_primitive_fields = with_defaults;
  (void)google::protobuf::util::MessageToJsonString(message, &json, print);
  return json;
}

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_PROTO_JSON_H_
