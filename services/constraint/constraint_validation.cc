#include "services/constraint/constraint_validation.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "geo/status_macros.h"
#include "services/common/input_limits.h"

namespace utm::constraint {

absl::Status CheckConstraintFields(const v1::Constraint& c,
                                   absl::string_view field) {
  const std::string p = absl::StrCat(field, ".");
  auto at = [&p](absl::string_view name) { return absl::StrCat(p, name); };
  UTM_RETURN_IF_ERROR(CheckId(c.id(), at("id")));
  if (c.type() != v1::CONSTRAINT_TYPE_UNSPECIFIED) {
    UTM_RETURN_IF_ERROR(
        CheckEnum(v1::ConstraintType_descriptor(), c.type(), at("type")));
  }
  // Volumes are counted against ConstraintOptions::max_volumes by the core,
  // before any is converted.
  const v1::Schedule& s = c.schedule();
  UTM_RETURN_IF_ERROR(
      CheckText(s.time_zone(), at("schedule.time_zone"), kMaxTimeZoneBytes));
  UTM_RETURN_IF_ERROR(
      CheckCount(s.weekly_size(), at("schedule.weekly"), kMaxWeeklyWindows));
  for (int i = 0; i < s.weekly_size(); ++i) {
    const std::string w = absl::StrCat(p, "schedule.weekly[", i, "].days");
    const v1::WeeklyWindow& window = s.weekly(i);
    UTM_RETURN_IF_ERROR(CheckCount(window.days_size(), w, kMaxWeekDays));
    for (int d = 0; d < window.days_size(); ++d) {
      UTM_RETURN_IF_ERROR(CheckEnum(v1::DayOfWeek_descriptor(), window.days(d),
                                    absl::StrCat(w, "[", d, "]")));
    }
  }
  const v1::Authority& a = c.authority();
  UTM_RETURN_IF_ERROR(CheckId(a.id(), at("authority.id")));
  UTM_RETURN_IF_ERROR(
      CheckText(a.name(), at("authority.name"), kMaxLabelBytes));
  UTM_RETURN_IF_ERROR(
      CheckText(a.contact(), at("authority.contact"), kMaxUrlBytes));
  UTM_RETURN_IF_ERROR(CheckText(c.reason(), at("reason"), kMaxTextBytes));
  UTM_RETURN_IF_ERROR(CheckText(c.message_for_pilots(),
                                at("message_for_pilots"), kMaxTextBytes));
  const v1::ConstraintConditions& conditions = c.conditions();
  UTM_RETURN_IF_ERROR(CheckCount(conditions.text_size(), at("conditions.text"),
                                 kMaxConditionTexts));
  for (int i = 0; i < conditions.text_size(); ++i) {
    UTM_RETURN_IF_ERROR(CheckText(conditions.text(i),
                                  absl::StrCat(p, "conditions.text[", i, "]"),
                                  kMaxConditionTextBytes));
  }
  const v1::ConstraintSource& source = c.source();
  // UNSPECIFIED means MANUAL.
  UTM_RETURN_IF_ERROR(CheckEnum(v1::SourceFormat_descriptor(), source.format(),
                                at("source.format"),
                                /*allow_unspecified=*/true));
  UTM_RETURN_IF_ERROR(CheckText(source.original_id(), at("source.original_id"),
                                kMaxLabelBytes));
  UTM_RETURN_IF_ERROR(
      CheckText(source.dataset(), at("source.dataset"), kMaxUrlBytes));
  UTM_RETURN_IF_ERROR(CheckText(source.original_altitude_lower(),
                                at("source.original_altitude_lower"),
                                kMaxLabelBytes));
  UTM_RETURN_IF_ERROR(CheckText(source.original_altitude_upper(),
                                at("source.original_altitude_upper"),
                                kMaxLabelBytes));
  return CheckText(source.content_digest(), at("source.content_digest"),
                   kMaxDigestBytes);
}

absl::Status CheckFields(const v1::PublishConstraintRequest& request) {
  UTM_RETURN_IF_ERROR(CheckId(request.request_id(), "request_id"));
  return CheckConstraintFields(request.constraint(), "constraint");
}

absl::Status CheckFields(const v1::UpdateConstraintRequest& request) {
  UTM_RETURN_IF_ERROR(CheckId(request.request_id(), "request_id"));
  UTM_RETURN_IF_ERROR(
      CheckRequiredId(request.constraint().id(), "constraint.id"));
  return CheckConstraintFields(request.constraint(), "constraint");
}

absl::Status CheckFields(const v1::WithdrawConstraintRequest& request) {
  UTM_RETURN_IF_ERROR(CheckId(request.request_id(), "request_id"));
  UTM_RETURN_IF_ERROR(
      CheckRequiredId(request.constraint_id(), "constraint_id"));
  return CheckText(request.reason(), "reason", kMaxTextBytes);
}

absl::Status CheckFields(const v1::GetConstraintRequest& request) {
  return CheckRequiredId(request.constraint_id(), "constraint_id");
}

absl::Status CheckFields(const v1::QueryConstraintsRequest& request) {
  UTM_RETURN_IF_ERROR(
      CheckText(request.page_token(), "page_token", kMaxPageTokenBytes));
  UTM_RETURN_IF_ERROR(
      CheckCount(request.types_size(), "types", kMaxEnumFilters));
  for (int i = 0; i < request.types_size(); ++i) {
    UTM_RETURN_IF_ERROR(CheckEnum(v1::ConstraintType_descriptor(),
                                  request.types(i),
                                  absl::StrCat("types[", i, "]")));
  }
  return absl::OkStatus();
}

absl::Status CheckFields(const v1::GrantAuthorisationRequest& request) {
  UTM_RETURN_IF_ERROR(CheckId(request.request_id(), "request_id"));
  UTM_RETURN_IF_ERROR(
      CheckRequiredId(request.constraint_id(), "constraint_id"));
  UTM_RETURN_IF_ERROR(CheckRequiredId(request.operator_id(), "operator_id"));
  return CheckText(request.reference(), "reference", kMaxLabelBytes);
}

absl::Status CheckFields(const v1::SelfUnlockRequest& request) {
  UTM_RETURN_IF_ERROR(CheckId(request.request_id(), "request_id"));
  return CheckRequiredId(request.constraint_id(), "constraint_id");
}

absl::Status CheckFields(const v1::ListAuthorisationsRequest& request) {
  UTM_RETURN_IF_ERROR(CheckId(request.constraint_id(), "constraint_id"));
  UTM_RETURN_IF_ERROR(CheckId(request.operator_id(), "operator_id"));
  return CheckText(request.page_token(), "page_token", kMaxPageTokenBytes);
}

absl::Status CheckFields(const v1::RevokeAuthorisationRequest& request) {
  UTM_RETURN_IF_ERROR(CheckId(request.request_id(), "request_id"));
  UTM_RETURN_IF_ERROR(
      CheckRequiredId(request.authorisation_id(), "authorisation_id"));
  return CheckText(request.reason(), "reason", kMaxTextBytes);
}

}  // namespace utm::constraint
