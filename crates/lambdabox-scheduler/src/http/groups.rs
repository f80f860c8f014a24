//! Schedule groups (CreateScheduleGroup, GetScheduleGroup,
//! ListScheduleGroups, DeleteScheduleGroup, which deletes the group's
//! schedules with it) and their tags (TagResource, UntagResource,
//! ListTagsForResource: only schedule groups carry tags, as in the model).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};

use super::{Outcome, Shared, authorize, page, parse_body, query_pairs, query_value, region, reply};
use crate::SchedulerError;
use crate::firing::{blocking, now_ms};
use crate::model::{CLIENT_TOKEN, NAME, Str, Violations, seconds};
use crate::store::{Group, group_arn, group_not_found};

/// A group name from the path, checked.
fn group_name(name: &str) -> Result<String, SchedulerError> {
    let mut check = Violations::default();
    let name = check.string(Some(&Value::from(name)), "name", &NAME);
    check.finish()?;
    Ok(name.unwrap_or_default())
}

fn render(group: &Group, arn: &str) -> Value {
    let mut v = json!({ "Arn": arn, "Name": group.name, "State": "ACTIVE" });
    if let Some(t) = group.created_ms {
        v["CreationDate"] = seconds(t);
    }
    if let Some(t) = group.modified_ms {
        v["LastModificationDate"] = seconds(t);
    }
    v
}

/// A `Tags` list (`[{"Key": …, "Value": …}]`), checked against the model.
fn tag_list(check: &mut Violations, v: Option<&Value>, required: bool) -> Vec<(String, String)> {
    match v {
        None | Some(Value::Null) if !required => Vec::new(),
        Some(Value::Array(items)) if items.len() > 200 => {
            check.push(v, "tags", "Member must have length less than or equal to 200");
            Vec::new()
        }
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, t)| {
                let path = |m: &str| format!("tags.{}.member.{m}", i + 1);
                let key = check.string(t.get("Key"), &path("key"), &Str::new(true, 1, Some(128)));
                let value = check.string(t.get("Value"), &path("value"), &Str::new(true, 1, Some(256)));
                Some((key?, value?))
            })
            .collect(),
        None | Some(Value::Null) => {
            check.push(v, "tags", "Member must not be null");
            Vec::new()
        }
        Some(_) => {
            check.push(v, "tags", "Member must be a list");
            Vec::new()
        }
    }
}

fn render_tags(tags: impl IntoIterator<Item = (String, String)>) -> Value {
    Value::Array(tags.into_iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect())
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
            let arn = group_arn(&region, inner.store.account(), &name);
            authorize("CreateScheduleGroup", &arn)?;
            let body = parse_body(&body)?;
            let mut check = Violations::default();
            let name = check.string(Some(&Value::from(name)), "name", &NAME);
            check.string(body.get("ClientToken"), "clientToken", &CLIENT_TOKEN);
            let tags = tag_list(&mut check, body.get("Tags"), false);
            check.finish()?;
            let name = name.unwrap_or_default();
            blocking(&inner, move |s| s.create_group(&region, &name, &tags, now_ms())).await?;
            Ok(json!({ "ScheduleGroupArn": arn }))
        }
        .await,
    )
}

pub(super) async fn get(State(inner): State<Shared>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    reply(
        async {
            let region = region(&inner, &headers);
            let arn = group_arn(&region, inner.store.account(), &name);
            authorize("GetScheduleGroup", &arn)?;
            let name = group_name(&name)?;
            let lookup = name.clone();
            let group = blocking(&inner, move |s| s.group(&region, &lookup)).await?;
            Ok(render(&group.ok_or_else(|| group_not_found(&name))?, &arn))
        }
        .await,
    )
}

pub(super) async fn delete(State(inner): State<Shared>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    reply(
        async {
            let region = region(&inner, &headers);
            authorize("DeleteScheduleGroup", &group_arn(&region, inner.store.account(), &name))?;
            let name = group_name(&name)?;
            blocking(&inner, move |s| s.delete_group(&region, &name)).await?;
            inner.wake.notify_one();
            Ok(json!({}))
        }
        .await,
    )
}

pub(super) async fn list(State(inner): State<Shared>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    reply(list_groups(&inner, query.as_deref(), &headers).await)
}

async fn list_groups(inner: &Shared, query: Option<&str>, headers: &HeaderMap) -> Outcome {
    let region = region(inner, headers);
    authorize("ListScheduleGroups", "*")?;
    let pairs = query_pairs(query);
    let mut check = Violations::default();
    let prefix = query_value(&pairs, "NamePrefix").map(Value::from);
    let prefix = check.string(prefix.as_ref(), "namePrefix", &Str { required: false, ..NAME });
    let page = page(&mut check, &pairs);
    check.finish()?;
    let after = page.after(1)?.map(|p| p[0].clone());
    let account = inner.store.account().to_owned();
    let lookup = region.clone();
    let groups = blocking(inner, move |s| s.groups(&lookup)).await?;
    let mut matching: Vec<&Group> = groups
        .iter()
        .filter(|g| prefix.as_ref().is_none_or(|p| g.name.starts_with(p.as_str())))
        .filter(|g| after.as_ref().is_none_or(|a| g.name > *a))
        .collect();
    let more = matching.len() > page.limit;
    matching.truncate(page.limit);
    let items: Vec<Value> = matching.iter().map(|g| render(g, &group_arn(&region, &account, &g.name))).collect();
    let mut out = json!({ "ScheduleGroups": items });
    if more && let Some(last) = matching.last() {
        out["NextToken"] = json!(super::encode_token(&[&last.name]));
    }
    Ok(out)
}

/// `arn:aws[a-z-]*:scheduler:[a-z0-9\-]+:\d{12}:schedule-group\/[0-9a-zA-Z-_.]+`: (region, account, group).
fn parse_group_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let (partition, rest) = arn.strip_prefix("arn:aws")?.split_once(':')?;
    let (region, rest) = rest.strip_prefix("scheduler:")?.split_once(':')?;
    let (owner, rest) = rest.split_once(':')?;
    let name = rest.strip_prefix("schedule-group/")?;
    let ok = partition.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        && !region.is_empty()
        && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && owner.len() == 12
        && owner.bytes().all(|b| b.is_ascii_digit())
        && crate::model::is_name(name);
    ok.then_some((region, owner, name))
}

/// The region and group a schedule group's ARN names, in this account.
fn group_of(arn: &str, account: &str) -> Result<(String, String), SchedulerError> {
    let pattern = r"arn:aws[a-z-]*:scheduler:[a-z0-9\-]+:\d{12}:schedule-group\/[0-9a-zA-Z-_.]+";
    let mut check = Violations::default();
    let spec = Str::new(true, 1, Some(1011)).pattern(pattern, |a| parse_group_arn(a).is_some());
    check.string(Some(&Value::from(arn)), "resourceArn", &spec);
    check.finish()?;
    let (region, owner, name) = parse_group_arn(arn).ok_or_else(|| SchedulerError::validation("Invalid ARN."))?;
    if owner != account {
        return Err(group_not_found(name));
    }
    Ok((region.to_owned(), name.to_owned()))
}

pub(super) async fn list_tags(State(inner): State<Shared>, Path(arn): Path<String>) -> Response {
    reply(
        async {
            authorize("ListTagsForResource", &arn)?;
            let (region, name) = group_of(&arn, inner.store.account())?;
            let lookup = name.clone();
            let tags = blocking(&inner, move |s| s.tags(&region, &lookup)).await?;
            Ok(json!({ "Tags": render_tags(tags.ok_or_else(|| group_not_found(&name))?) }))
        }
        .await,
    )
}

pub(super) async fn tag(State(inner): State<Shared>, Path(arn): Path<String>, body: Bytes) -> Response {
    reply(
        async {
            authorize("TagResource", &arn)?;
            let (region, name) = group_of(&arn, inner.store.account())?;
            let body = parse_body(&body)?;
            let mut check = Violations::default();
            let tags = tag_list(&mut check, body.get("Tags"), true);
            check.finish()?;
            blocking(&inner, move |s| s.tag(&region, &name, &tags)).await?;
            Ok(json!({}))
        }
        .await,
    )
}

pub(super) async fn untag(State(inner): State<Shared>, Path(arn): Path<String>, RawQuery(query): RawQuery) -> Response {
    reply(
        async {
            authorize("UntagResource", &arn)?;
            let (region, name) = group_of(&arn, inner.store.account())?;
            let pairs = query_pairs(query.as_deref());
            let keys: Vec<String> = pairs.into_iter().filter(|(k, _)| k == "TagKeys").map(|(_, v)| v).collect();
            let mut check = Violations::default();
            for (i, key) in keys.iter().enumerate() {
                check.string(
                    Some(&Value::from(key.as_str())),
                    &format!("tagKeys.{}.member", i + 1),
                    &Str::new(true, 1, Some(128)),
                );
            }
            check.finish()?;
            blocking(&inner, move |s| s.untag(&region, &name, &keys)).await?;
            Ok(json!({}))
        }
        .await,
    )
}
