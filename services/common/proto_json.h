// A protobuf message as a JSON value in its documented form: proto field
// names (snake_case), enums by name, Timestamps in RFC 3339, 64-bit
// integers as strings (the proto3 JSON mapping). For documents utm writes
// for people and tools: exports, GeoJSON properties.
#ifndef UTM_SERVICES_COMMON_PROTO_JSON_H_
#define UTM_SERVICES_COMMON_PROTO_JSON_H_

#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"

namespace utm {

// `message` as JSON; a discarded (null) value if the message cannot be
// printed, which a well-formed message never is.
nlohmann::json ProtoToJson(const google::protobuf::Message& message);

}  // namespace utm

#endif  // UTM_SERVICES_COMMON_PROTO_JSON_H_
