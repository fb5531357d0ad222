#include "services/common/proto_json.h"

#include <string>

#include "google/protobuf/util/json_util.h"

namespace utm {

nlohmann::json ProtoToJson(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &text, print);
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

}  // namespace utm
