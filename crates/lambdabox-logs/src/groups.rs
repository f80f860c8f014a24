//! DescribeLogGroups and DeleteLogGroup. Log groups are listed by name; a
//! page's `nextToken` is the last name it returned.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Ctx, LogsError, limit, token};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogGroupsRequest {
    log_group_name_prefix: Option<String>,
    log_group_name_pattern: Option<String>,
    log_group_identifiers: Option<Vec<String>>,
    next_token: Option<String>,
    limit: Option<i64>,
}

pub fn describe(ctx: &Ctx, req: DescribeLogGroupsRequest) -> Result<Value, LogsError> {
    if req.log_group_name_prefix.is_some() && req.log_group_name_pattern.is_some() {
        return Err(LogsError::GroupPrefixAndPattern);
    }
    let limit = limit(req.limit, 50, 50)?;
    let after: Option<String> = req.next_token.as_deref().map(token::decode).transpose()?;
    let identifiers: Option<Vec<String>> = req
        .log_group_identifiers
        .map(|ids| ids.into_iter().map(|id| crate::group_of(None, Some(id))).collect::<Result<_, _>>())
        .transpose()?;
    let mut groups = ctx
        .store
        .groups()?
        .into_iter()
        .filter(|g| req.log_group_name_prefix.as_ref().is_none_or(|p| g.name.starts_with(p.as_str())))
        .filter(|g| req.log_group_name_pattern.as_ref().is_none_or(|p| g.name.contains(p.as_str())))
        .filter(|g| identifiers.as_ref().is_none_or(|ids| ids.contains(&g.name)))
        .filter(|g| after.as_ref().is_none_or(|a| g.name > *a))
        .peekable();
    let mut page = Vec::new();
    while page.len() < limit {
        let Some(g) = groups.next() else { break };
        page.push(g);
    }
    let more = groups.peek().is_some();
    let mut body = json!({
        "logGroups": page.iter().map(|g| json!({
            "logGroupName": g.name,
            "creationTime": g.created_ms,
            "metricFilterCount": 0,
            "arn": ctx.group_arn(&g.name),
            "storedBytes": g.stored_bytes,
            "logGroupClass": "STANDARD",
            "logGroupArn": ctx.group_arn_bare(&g.name),
        })).collect::<Vec<_>>(),
    });
    if more && let Some(last) = page.last() {
        body["nextToken"] = json!(token::encode(&last.name));
    }
    Ok(body)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteLogGroupRequest {
    log_group_name: Option<String>,
}

pub fn delete(ctx: &Ctx, req: DeleteLogGroupRequest) -> Result<Value, LogsError> {
    let group = req.log_group_name.ok_or(LogsError::LogGroupMissing)?;
    ctx.store.delete_group(&group)?;
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use lambdabox_model::AccountId;
    use serde_json::json;

    use crate::LogsApi;
    use crate::stream::tests::write_stream;

    fn api(functions: &[&str]) -> (tempfile::TempDir, LogsApi) {
        let dir = tempfile::tempdir().unwrap();
        for f in functions {
            write_stream(&dir.path().join(f), "2026-01-01-[$LATEST]aa", &[(5, "x")]);
        }
        let api = LogsApi::new(dir.path().into(), AccountId::parse("123456789012").unwrap());
        (dir, api)
    }

    fn call(api: &LogsApi, op: &str, body: serde_json::Value) -> serde_json::Value {
        api.call("eu-west-1", op, body.to_string().as_bytes()).unwrap()
    }

    fn names(body: &serde_json::Value) -> Vec<String> {
        body["logGroups"].as_array().unwrap().iter().map(|g| g["logGroupName"].as_str().unwrap().to_owned()).collect()
    }

    #[test]
    fn pages_through_groups_by_name() {
        let (_dir, api) = api(&["e", "c", "a", "d", "b"]);
        let mut seen = Vec::new();
        let mut req = json!({"limit": 2});
        loop {
            let page = call(&api, "DescribeLogGroups", req.clone());
            let got = names(&page);
            assert!(got.len() <= 2);
            seen.extend(got);
            match page.get("nextToken") {
                Some(t) => req["nextToken"] = t.clone(),
                None => break,
            }
        }
        assert_eq!(seen, ["a", "b", "c", "d", "e"].map(|f| format!("/aws/lambda/{f}")));
    }

    #[test]
    fn describes_groups_as_aws() {
        let (_dir, api) = api(&["fn-1", "other"]);
        let page = call(&api, "DescribeLogGroups", json!({"logGroupNamePrefix": "/aws/lambda/fn"}));
        assert_eq!(names(&page), ["/aws/lambda/fn-1"]);
        let g = &page["logGroups"][0];
        assert_eq!(g["arn"], "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/fn-1:*");
        assert_eq!(g["logGroupArn"], "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/fn-1");
        assert_eq!(g["storedBytes"], 2);
        assert!(g["creationTime"].as_i64().unwrap() > 0);
        assert!(page.get("nextToken").is_none());
        let page = call(&api, "DescribeLogGroups", json!({"logGroupNamePattern": "ther"}));
        assert_eq!(names(&page), ["/aws/lambda/other"]);
    }

    #[test]
    fn deletes_groups() {
        let (_dir, api) = api(&["a", "b"]);
        assert_eq!(call(&api, "DeleteLogGroup", json!({"logGroupName": "/aws/lambda/a"})), json!({}));
        assert_eq!(names(&call(&api, "DescribeLogGroups", json!({}))), ["/aws/lambda/b"]);
        let err = api.call("eu-west-1", "DeleteLogGroup", br#"{"logGroupName": "/aws/lambda/a"}"#).unwrap_err();
        assert_eq!(err.error_type(), "ResourceNotFoundException");
    }
}
