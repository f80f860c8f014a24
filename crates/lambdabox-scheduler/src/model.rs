//! A schedule as CreateSchedule and UpdateSchedule define it (UpdateSchedule
//! replaces the whole definition, as on AWS), checked against the botocore
//! model's constraints and AWS's rules before it exists, and rendered as
//! GetSchedule answers it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::SchedulerError;
use crate::expression::{self, ScheduleExpression};
pub use crate::validate::{CLIENT_TOKEN, GROUP_NAME, NAME, Str, Violations, is_lambda_arn, is_name};
use crate::validate::{is_kms_arn, is_queue_arn, is_role_arn};

/// The group a schedule belongs to when the request names none.
pub const DEFAULT_GROUP: &str = "default";

/// AWS's defaults when a target has no RetryPolicy.
pub const DEFAULT_MAXIMUM_EVENT_AGE: u32 = 86_400;
pub const DEFAULT_MAXIMUM_RETRY_ATTEMPTS: u32 = 185;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetryPolicy {
    pub maximum_event_age_in_seconds: u32,
    pub maximum_retry_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            maximum_event_age_in_seconds: DEFAULT_MAXIMUM_EVENT_AGE,
            maximum_retry_attempts: DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Target {
    pub arn: String,
    pub role_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(default)]
    pub retry_policy: RetryPolicy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_config: Option<Value>,
    /// The other target parameters (`SqsParameters`, `EcsParameters`, …),
    /// kept and answered as given.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FlexibleTimeWindow {
    pub mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_window_in_minutes: Option<u32>,
}

impl FlexibleTimeWindow {
    /// The window a firing may move within, in milliseconds (0 when `OFF`).
    pub fn window_ms(&self) -> i64 {
        match (self.mode.as_str(), self.maximum_window_in_minutes) {
            ("FLEXIBLE", Some(minutes)) => i64::from(minutes) * 60_000,
            _ => 0,
        }
    }
}

/// A schedule's definition (what the store keeps, besides its firing plan).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub name: String,
    pub group_name: String,
    pub schedule_expression: String,
    pub schedule_expression_timezone: String,
    pub start_date_ms: Option<i64>,
    pub end_date_ms: Option<i64>,
    pub description: Option<String>,
    pub state: String,
    pub kms_key_arn: Option<String>,
    pub target: Target,
    pub flexible_time_window: FlexibleTimeWindow,
    pub action_after_completion: String,
    pub creation_ms: i64,
    pub modified_ms: i64,
}

impl Schedule {
    pub fn enabled(&self) -> bool {
        self.state == "ENABLED"
    }

    /// The parsed expression (checked when the schedule was defined).
    pub fn expression(&self) -> Option<ScheduleExpression> {
        ScheduleExpression::parse(&self.schedule_expression).ok()
    }

    /// GetSchedule's answer.
    pub fn render(&self, arn: &str) -> Value {
        let mut v = json!({
            "Arn": arn,
            "Name": self.name,
            "GroupName": self.group_name,
            "ScheduleExpression": self.schedule_expression,
            "ScheduleExpressionTimezone": self.schedule_expression_timezone,
            "State": self.state,
            "Target": self.target,
            "FlexibleTimeWindow": self.flexible_time_window,
            "ActionAfterCompletion": self.action_after_completion,
            "CreationDate": seconds(self.creation_ms),
            "LastModificationDate": seconds(self.modified_ms),
        });
        if let Some(d) = &self.description {
            v["Description"] = json!(d);
        }
        if let Some(k) = &self.kms_key_arn {
            v["KmsKeyArn"] = json!(k);
        }
        if let Some(t) = self.start_date_ms {
            v["StartDate"] = seconds(t);
        }
        if let Some(t) = self.end_date_ms {
            v["EndDate"] = seconds(t);
        }
        v
    }

    /// ListSchedules' summary.
    pub fn summary(&self, arn: &str) -> Value {
        json!({
            "Arn": arn,
            "Name": self.name,
            "GroupName": self.group_name,
            "State": self.state,
            "CreationDate": seconds(self.creation_ms),
            "LastModificationDate": seconds(self.modified_ms),
            "Target": { "Arn": self.target.arn },
        })
    }
}

/// A REST-JSON timestamp: epoch seconds, milliseconds as the fraction.
pub fn seconds(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

/// How far back a recurring schedule's StartDate may be (AWS: 5 minutes).
const START_DATE_GRACE_MS: i64 = 5 * 60_000;

/// The schedule CreateSchedule or UpdateSchedule defines: `name` from the
/// path, the rest from the body; `creation_ms` is kept across updates.
pub fn define(name: &str, body: &Value, now_ms: i64, creation_ms: Option<i64>) -> Result<Schedule, SchedulerError> {
    let mut check = Violations::default();
    let get = |k: &str| body.get(k);
    let name = check.string(Some(&json!(name)), "name", &NAME);
    let group = check.string(get("GroupName"), "groupName", &GROUP_NAME);
    let expression = check.string(get("ScheduleExpression"), "scheduleExpression", &Str::new(true, 1, Some(256)));
    let zone =
        check.string(get("ScheduleExpressionTimezone"), "scheduleExpressionTimezone", &Str::new(false, 1, Some(50)));
    let description = check.string(get("Description"), "description", &Str::new(false, 0, Some(512)));
    let state = check.string(get("State"), "state", &Str::new(false, 1, None).one_of(&["ENABLED", "DISABLED"]));
    let kms = check.string(
        get("KmsKeyArn"),
        "kmsKeyArn",
        &Str::new(false, 1, Some(2048))
            .pattern(r"arn:aws[a-z-]*:kms:[a-z0-9\-]+:\d{12}:(key|alias)\/[0-9a-zA-Z-_]*", is_kms_arn),
    );
    let after = check.string(
        get("ActionAfterCompletion"),
        "actionAfterCompletion",
        &Str::new(false, 1, None).one_of(&["NONE", "DELETE"]),
    );
    check.string(get("ClientToken"), "clientToken", &CLIENT_TOKEN);
    let start = check.timestamp(get("StartDate"), "startDate");
    let end = check.timestamp(get("EndDate"), "endDate");
    let target = target(&mut check, get("Target"));
    let window = flexible_time_window(&mut check, get("FlexibleTimeWindow"));
    check.finish()?;
    let (Some(name), Some(expression), Some(target), Some(window)) = (name, expression, target, window) else {
        return Err(SchedulerError::validation("The request is missing a required member."));
    };

    let parsed = ScheduleExpression::parse(&expression).map_err(|e| {
        tracing::debug!(expression, reason = e.reason, "schedule expression refused");
        SchedulerError::validation(e.to_string())
    })?;
    let zone = zone.unwrap_or_else(|| "UTC".to_owned());
    if expression::time_zone(&zone).is_none() {
        return Err(SchedulerError::validation(format!("Invalid ScheduleExpressionTimezone {zone}.")));
    }
    if window.mode == "FLEXIBLE" && window.maximum_window_in_minutes.is_none() {
        return Err(SchedulerError::validation(
            "MaximumWindowInMinutes must be specified when the flexible time window mode is FLEXIBLE.",
        ));
    }
    // JSON once the context attributes are replaced (`"n": <aws.scheduler.attempt-number>` is).
    if is_lambda_arn(&target.arn)
        && let Some(input) = &target.input
        && serde_json::from_str::<serde::de::IgnoredAny>(&with_context_attributes(
            input,
            "arn",
            now_ms,
            "0000000000000000",
            1,
        ))
        .is_err()
    {
        return Err(SchedulerError::validation("Target Input must be a well-formed JSON for a Lambda target."));
    }
    if !parsed.is_one_time() {
        if start.is_some_and(|s| s < now_ms - START_DATE_GRACE_MS) {
            return Err(SchedulerError::validation("The StartDate you specify cannot be earlier than 5 minutes ago."));
        }
        if let (Some(s), Some(e)) = (start, end)
            && e <= s
        {
            return Err(SchedulerError::validation("The EndDate you specify must be later than the StartDate."));
        }
    }
    Ok(Schedule {
        name,
        group_name: group.unwrap_or_else(|| DEFAULT_GROUP.to_owned()),
        schedule_expression: expression,
        schedule_expression_timezone: zone,
        start_date_ms: start,
        end_date_ms: end,
        description,
        state: state.unwrap_or_else(|| "ENABLED".to_owned()),
        kms_key_arn: kms,
        target,
        flexible_time_window: window,
        action_after_completion: after.unwrap_or_else(|| "NONE".to_owned()),
        creation_ms: creation_ms.unwrap_or(now_ms),
        modified_ms: now_ms,
    })
}

fn target(check: &mut Violations, v: Option<&Value>) -> Option<Target> {
    let t = check.object(v, "target", true)?;
    let arn = check.string(t.get("Arn"), "target.arn", &Str::new(true, 1, Some(1600)));
    let role = check.string(
        t.get("RoleArn"),
        "target.roleArn",
        &Str::new(true, 1, Some(1600)).pattern(r"arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]+", is_role_arn),
    );
    let input = check.string(t.get("Input"), "target.input", &Str::new(false, 1, None));
    let mut retry = RetryPolicy::default();
    if let Some(p) = check.object(t.get("RetryPolicy"), "target.retryPolicy", false) {
        let age = p.get("MaximumEventAgeInSeconds");
        if let Some(age) = check.integer(age, "target.retryPolicy.maximumEventAgeInSeconds", 60, 86_400) {
            retry.maximum_event_age_in_seconds = age;
        }
        let attempts = p.get("MaximumRetryAttempts");
        if let Some(n) = check.integer(attempts, "target.retryPolicy.maximumRetryAttempts", 0, 185) {
            retry.maximum_retry_attempts = n;
        }
    }
    let dead_letter = check.object(t.get("DeadLetterConfig"), "target.deadLetterConfig", false).map(|d| {
        check.string(
            d.get("Arn"),
            "target.deadLetterConfig.arn",
            &Str::new(false, 1, Some(1600))
                .pattern(r"arn:aws[a-z-]*:sqs:[a-z0-9\-]+:\d{12}:[a-zA-Z0-9\-_]+", is_queue_arn),
        );
        Value::Object(d.clone())
    });
    let known = ["Arn", "RoleArn", "Input", "RetryPolicy", "DeadLetterConfig"];
    let other = t.iter().filter(|(k, _)| !known.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
    Some(Target { arn: arn?, role_arn: role?, input, retry_policy: retry, dead_letter_config: dead_letter, other })
}

fn flexible_time_window(check: &mut Violations, v: Option<&Value>) -> Option<FlexibleTimeWindow> {
    let w = check.object(v, "flexibleTimeWindow", true)?;
    let mode =
        check.string(w.get("Mode"), "flexibleTimeWindow.mode", &Str::new(true, 1, None).one_of(&["OFF", "FLEXIBLE"]));
    let window = check.integer(w.get("MaximumWindowInMinutes"), "flexibleTimeWindow.maximumWindowInMinutes", 1, 1440);
    Some(FlexibleTimeWindow { mode: mode?, maximum_window_in_minutes: window })
}

/// The schedule's input with AWS's context attributes replaced.
pub fn with_context_attributes(
    input: &str,
    schedule_arn: &str,
    scheduled_ms: i64,
    execution_id: &str,
    attempt: u32,
) -> String {
    let scheduled = chrono::DateTime::from_timestamp_millis(scheduled_ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    input
        .replace("<aws.scheduler.schedule-arn>", schedule_arn)
        .replace("<aws.scheduler.scheduled-time>", &scheduled)
        .replace("<aws.scheduler.execution-id>", execution_id)
        .replace("<aws.scheduler.attempt-number>", &attempt.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_attributes_are_replaced() {
        let input = r#"{"arn": "<aws.scheduler.schedule-arn>", "at": "<aws.scheduler.scheduled-time>", "id": "<aws.scheduler.execution-id>", "n": <aws.scheduler.attempt-number>}"#;
        let out = with_context_attributes(
            input,
            "arn:aws:scheduler:us-east-1:000000000000:schedule/default/s",
            1_800_000_000_000,
            "d32c5kddcf5bb8c3",
            2,
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["arn"], "arn:aws:scheduler:us-east-1:000000000000:schedule/default/s");
        assert_eq!(v["at"], "2027-01-15T08:00:00Z");
        assert_eq!(v["id"], "d32c5kddcf5bb8c3");
        assert_eq!(v["n"], 2);
    }

    const NOW: i64 = 1_800_000_000_000;

    fn body() -> Value {
        json!({
            "ScheduleExpression": "rate(5 minutes)",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": "arn:aws:lambda:us-east-1:000000000000:function:f", "RoleArn": "arn:aws:iam::000000000000:role/r"},
        })
    }

    fn refused(name: &str, body: &Value) -> String {
        match define(name, body, NOW, None) {
            Err(SchedulerError::Validation { message }) => message,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults_are_aws() {
        let s = define("s1", &body(), NOW, None).unwrap();
        assert_eq!(s.group_name, "default");
        assert_eq!(s.state, "ENABLED");
        assert_eq!(s.schedule_expression_timezone, "UTC");
        assert_eq!(s.action_after_completion, "NONE");
        assert_eq!(
            s.target.retry_policy,
            RetryPolicy { maximum_event_age_in_seconds: 86_400, maximum_retry_attempts: 185 }
        );
        assert_eq!((s.creation_ms, s.modified_ms), (NOW, NOW));
        let rendered = s.render("arn:aws:scheduler:us-east-1:000000000000:schedule/default/s1");
        assert_eq!(rendered["Target"]["RetryPolicy"]["MaximumRetryAttempts"], 185);
        assert_eq!(rendered["CreationDate"], json!(1_800_000_000.0));
        assert!(rendered.get("StartDate").is_none());
        // An update keeps the creation date.
        let later = define("s1", &body(), NOW + 5, Some(NOW)).unwrap();
        assert_eq!((later.creation_ms, later.modified_ms), (NOW, NOW + 5));
    }

    #[test]
    fn other_target_parameters_are_kept() {
        let mut b = body();
        b["Target"]["SqsParameters"] = json!({"MessageGroupId": "g"});
        b["Target"]["DeadLetterConfig"] = json!({"Arn": "arn:aws:sqs:us-east-1:000000000000:dlq"});
        let s = define("s1", &b, NOW, None).unwrap();
        let rendered = s.render("arn");
        assert_eq!(rendered["Target"]["SqsParameters"]["MessageGroupId"], "g");
        assert_eq!(rendered["Target"]["DeadLetterConfig"]["Arn"], "arn:aws:sqs:us-east-1:000000000000:dlq");
    }

    #[test]
    fn constraints_are_reported_together() {
        let message = refused("bad name!", &json!({"Target": {"Arn": ""}}));
        assert!(message.starts_with("5 validation errors detected: "), "{message}");
        assert!(message.contains("Value 'bad name!' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+"), "{message}");
        assert!(
            message
                .contains("Value null at 'scheduleExpression' failed to satisfy constraint: Member must not be null"),
            "{message}"
        );
        assert!(message.contains("Value '' at 'target.arn' failed to satisfy constraint: Member must have length greater than or equal to 1"), "{message}");
        assert!(message.contains("Value null at 'target.roleArn'"), "{message}");
        assert!(message.contains("Value null at 'flexibleTimeWindow'"), "{message}");
        let mut b = body();
        b["Target"]["RetryPolicy"] = json!({"MaximumEventAgeInSeconds": 30, "MaximumRetryAttempts": 186});
        b["State"] = json!("PAUSED");
        b["Target"]["RoleArn"] = json!("arn:aws:iam::1:role/r");
        let message = refused(&"x".repeat(65), &b);
        assert!(message.starts_with("5 validation errors detected"), "{message}");
        assert!(message.contains("Member must have length less than or equal to 64"), "{message}");
        assert!(message.contains("Value '30' at 'target.retryPolicy.maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60"), "{message}");
        assert!(message.contains("Member must have value less than or equal to 185"), "{message}");
        assert!(message.contains("Value 'PAUSED' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]"), "{message}");
        assert!(message.contains("at 'target.roleArn'"), "{message}");
    }

    #[test]
    fn aws_rules_beyond_the_model() {
        let mut b = body();
        b["ScheduleExpression"] = json!("rate(1 minutes)");
        assert_eq!(refused("s", &b), "Invalid Schedule Expression rate(1 minutes).");
        let mut b = body();
        b["ScheduleExpressionTimezone"] = json!("Mars/Base");
        assert_eq!(refused("s", &b), "Invalid ScheduleExpressionTimezone Mars/Base.");
        let mut b = body();
        b["FlexibleTimeWindow"] = json!({"Mode": "FLEXIBLE"});
        assert!(refused("s", &b).contains("MaximumWindowInMinutes"));
        let mut b = body();
        b["Target"]["Input"] = json!("not json");
        assert!(refused("s", &b).contains("well-formed JSON"));
        b["Target"]["Input"] =
            json!(r#"{"n": <aws.scheduler.attempt-number>, "at": "<aws.scheduler.scheduled-time>"}"#);
        assert!(define("s", &b, NOW, None).is_ok(), "JSON once its context attributes are replaced");
        b["Target"]["Input"] = json!("not json");
        // Any text for a target that is not Lambda.
        b["Target"]["Arn"] = json!("arn:aws:sqs:us-east-1:000000000000:q");
        assert!(define("s", &b, NOW, None).is_ok());
        let mut b = body();
        b["StartDate"] = json!((NOW - 6 * 60_000) / 1000);
        assert_eq!(refused("s", &b), "The StartDate you specify cannot be earlier than 5 minutes ago.");
        b["StartDate"] = json!((NOW - 4 * 60_000) / 1000);
        assert!(define("s", &b, NOW, None).is_ok());
        b["EndDate"] = json!((NOW - 5 * 60_000) / 1000);
        assert!(refused("s", &b).contains("EndDate"));
        // One-time schedules ignore StartDate and EndDate.
        b["ScheduleExpression"] = json!("at(2020-01-01T00:00:00)");
        assert!(define("s", &b, NOW, None).is_ok());
    }

    #[test]
    fn timestamps_as_botocore_and_the_cli_send_them() {
        let mut b = body();
        b["StartDate"] = json!(1_800_000_100.5);
        b["EndDate"] = json!("2030-01-01T00:00:00Z");
        let s = define("s", &b, NOW, None).unwrap();
        assert_eq!(s.start_date_ms, Some(1_800_000_100_500));
        assert_eq!(s.end_date_ms, Some(1_893_456_000_000));
    }
}
