//! Schedules: CreateSchedule, GetSchedule, UpdateSchedule (a full
//! replace), DeleteSchedule, ListSchedules, and Lambdabox's own fire-now.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};

use super::{Outcome, Shared, authorize, page, parse_body, query_pairs, query_value, region, reply};
use crate::SchedulerError;
use crate::firing::{self, blocking, now_ms};
use crate::model::{self, DEFAULT_GROUP, GROUP_NAME, NAME, Str, Violations};
use crate::store::{ScheduleFilter, schedule_arn, schedule_not_found};

/// The group a query (`groupName`) or body (`GroupName`) names, checked
/// with the schedule's name.
fn names(name: &str, group: Option<&Value>) -> Result<(String, String), SchedulerError> {
    let mut check = Violations::default();
    let name = check.string(Some(&Value::from(name)), "name", &NAME);
    let group = check.string(group, "groupName", &GROUP_NAME);
    check.finish()?;
    Ok((name.unwrap_or_default(), group.unwrap_or_else(|| DEFAULT_GROUP.to_owned())))
}

/// `iam:PassRole` on the target's role, passed to EventBridge Scheduler.
fn pass_role(body: &Value) -> Result<(), SchedulerError> {
    let Some(identity) = lambdabox_identity::context::current() else { return Ok(()) };
    let Some(role) = body.pointer("/Target/RoleArn").and_then(Value::as_str) else { return Ok(()) };
    if !role.starts_with("arn:") || !role.contains(":role/") {
        return Ok(());
    }
    Ok(identity.authorize_with("iam:PassRole", role, None, |context| {
        context.set("iam:PassedToService", "scheduler.amazonaws.com");
    })?)
}

/// The body's `GroupName` when it is a string (for authorising before
/// validation; a malformed one is reported by validation).
fn body_group(body: &Value) -> Option<Value> {
    body.get("GroupName").filter(|g| g.is_string()).cloned()
}

pub(super) async fn create(
    State(inner): State<Shared>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    reply(
        async {
            let region = region(&inner, &headers);
            let body = parse_body(&body)?;
            let group = body_group(&body);
            let group_name = group.as_ref().and_then(Value::as_str).unwrap_or(DEFAULT_GROUP);
            let arn = schedule_arn(&region, inner.store.account(), group_name, &name);
            authorize("CreateSchedule", &arn)?;
            pass_role(&body)?;
            let schedule = model::define(&name, &body, now_ms(), None)?;
            let arn = schedule_arn(&region, inner.store.account(), &schedule.group_name, &schedule.name);
            let now = schedule.modified_ms;
            blocking(&inner, move |s| s.insert(&region, &schedule, now)).await?;
            inner.wake.notify_one();
            Ok(json!({ "ScheduleArn": arn }))
        }
        .await,
    )
}

pub(super) async fn update(
    State(inner): State<Shared>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    reply(
        async {
            let region = region(&inner, &headers);
            let body = parse_body(&body)?;
            let group = body_group(&body);
            let group_name = group.as_ref().and_then(Value::as_str).unwrap_or(DEFAULT_GROUP);
            let arn = schedule_arn(&region, inner.store.account(), group_name, &name);
            authorize("UpdateSchedule", &arn)?;
            pass_role(&body)?;
            let now = now_ms();
            // Checked before the lookup, as AWS validates first.
            let schedule = model::define(&name, &body, now, None)?;
            let (group, name) = (schedule.group_name.clone(), schedule.name.clone());
            let arn = schedule_arn(&region, inner.store.account(), &group, &name);
            blocking(&inner, move |s| {
                s.replace(
                    &region,
                    |created| Ok(model::Schedule { creation_ms: created, ..schedule }),
                    &group,
                    &name,
                    now,
                )
            })
            .await?;
            inner.wake.notify_one();
            Ok(json!({ "ScheduleArn": arn }))
        }
        .await,
    )
}

pub(super) async fn get(
    State(inner): State<Shared>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    reply(
        async {
            let region = region(&inner, &headers);
            let pairs = query_pairs(query.as_deref());
            let group = query_value(&pairs, "groupName").map(Value::from);
            let group_name = group.as_ref().and_then(Value::as_str).unwrap_or(DEFAULT_GROUP);
            let arn = schedule_arn(&region, inner.store.account(), group_name, &name);
            authorize("GetSchedule", &arn)?;
            let (name, group) = names(&name, group.as_ref())?;
            let lookup = name.clone();
            let schedule = blocking(&inner, move |s| s.schedule(&region, &group, &lookup)).await?;
            let schedule = schedule.ok_or_else(|| schedule_not_found(&name))?;
            Ok(schedule.render(&arn))
        }
        .await,
    )
}

pub(super) async fn delete(
    State(inner): State<Shared>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    reply(
        async {
            let region = region(&inner, &headers);
            let pairs = query_pairs(query.as_deref());
            let group = query_value(&pairs, "groupName").map(Value::from);
            let group_name = group.as_ref().and_then(Value::as_str).unwrap_or(DEFAULT_GROUP);
            authorize("DeleteSchedule", &schedule_arn(&region, inner.store.account(), group_name, &name))?;
            let (name, group) = names(&name, group.as_ref())?;
            blocking(&inner, move |s| s.delete(&region, &group, &name)).await?;
            inner.wake.notify_one();
            Ok(json!({}))
        }
        .await,
    )
}

pub(super) async fn list(State(inner): State<Shared>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    reply(list_schedules(&inner, query.as_deref(), &headers).await)
}

async fn list_schedules(inner: &Shared, query: Option<&str>, headers: &HeaderMap) -> Outcome {
    let region = region(inner, headers);
    authorize("ListSchedules", "*")?;
    let pairs = query_pairs(query);
    let mut check = Violations::default();
    let text = |k: &str| query_value(&pairs, k).map(Value::from);
    let group = check.string(text("ScheduleGroup").as_ref(), "groupName", &GROUP_NAME);
    let prefix = check.string(text("NamePrefix").as_ref(), "namePrefix", &Str { required: false, ..NAME });
    let state =
        check.string(text("State").as_ref(), "state", &Str::new(false, 1, None).one_of(&["ENABLED", "DISABLED"]));
    let page = page(&mut check, &pairs);
    check.finish()?;
    let after = page.after(2)?.map(|p| (p[0].clone(), p[1].clone()));
    let filter = ScheduleFilter { group, name_prefix: prefix, state, after, limit: page.limit };
    let account = inner.store.account().to_owned();
    let limit = page.limit;
    let (items, more) = blocking(inner, move |s| {
        let mut items = s.list(&region, &filter)?;
        let more = items.len() > limit;
        items.truncate(limit);
        Ok((
            items
                .iter()
                .map(|x| (x.summary(&schedule_arn(&region, &account, &x.group_name, &x.name)), x.clone()))
                .collect::<Vec<_>>(),
            more,
        ))
    })
    .await?;
    let mut out = json!({ "Schedules": items.iter().map(|(v, _)| v.clone()).collect::<Vec<_>>() });
    if more && let Some((_, last)) = items.last() {
        out["NextToken"] = json!(super::encode_token(&[&last.group_name, &last.name]));
    }
    Ok(out)
}

/// `POST /_lambdabox/schedules/{group}/{name}/fire`: delivers the
/// schedule's target once, now, whatever its expression and state, and
/// answers when the target took it (or refused). The schedule itself is
/// left as it was.
pub(super) async fn fire(
    State(inner): State<Shared>,
    Path((group, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    reply(
        async {
            let region = region(&inner, &headers);
            let arn = schedule_arn(&region, inner.store.account(), &group, &name);
            authorize("FireSchedule", &arn)?;
            let (name, group) = names(&name, Some(&Value::from(group)))?;
            let lookup = (region.clone(), group, name.clone());
            let schedule = blocking(&inner, move |s| s.schedule(&lookup.0, &lookup.1, &lookup.2)).await?;
            let schedule = schedule.ok_or_else(|| schedule_not_found(&name))?;
            let target = inner.target.get().cloned().ok_or(SchedulerError::NotStarted)?;
            let (scheduled, execution) = (now_ms(), firing::execution_id());
            let input = schedule
                .target
                .input
                .as_deref()
                .map(|i| crate::model::with_context_attributes(i, &arn, scheduled, &execution, 1));
            target.invoke(&schedule.target.arn, input, &region).await.map_err(|e| {
                tracing::info!(schedule = arn, error = %e, "on-demand firing refused");
                SchedulerError::TargetFailed { message: e.to_string(), retryable: e.retryable() }
            })?;
            tracing::info!(schedule = arn, target = schedule.target.arn, execution, "schedule fired on demand");
            Ok(json!({
                "ScheduleArn": arn,
                "Target": schedule.target.arn,
                "ExecutionId": execution,
                "ScheduledTime": model::seconds(scheduled),
            }))
        }
        .await,
    )
}
