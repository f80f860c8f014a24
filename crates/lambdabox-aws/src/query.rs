//! The query protocol (IAM, STS, and later CloudFormation): form-encoded
//! `Action=…&Version=…` parameters, in the body of a `POST` or the query
//! string of a `GET`, answered with `<ActionResponse xmlns=…>` XML. One
//! reader and one writer for every query service.

use std::collections::BTreeMap;

/// A query-protocol request's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryParams {
    params: BTreeMap<String, String>,
}

impl QueryParams {
    /// The parameters of a query string and a form body (the body wins).
    pub fn parse(query: &str, body: &[u8]) -> Self {
        let mut params = BTreeMap::new();
        for (k, v) in form_pairs(query).into_iter().chain(form_pairs(&String::from_utf8_lossy(body))) {
            params.insert(k, v);
        }
        Self { params }
    }

    /// `Action`, or `""`.
    pub fn action(&self) -> &str {
        self.get("Action").unwrap_or("")
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// A list member: `Name.member.1`, `Name.member.2`, … in order.
    pub fn list(&self, name: &str) -> Vec<String> {
        (1..).map_while(|i| self.params.get(&format!("{name}.member.{i}")).cloned()).collect()
    }

    /// A list of structures: for `Tags.member.N.Key`/`.Value`, the pairs.
    pub fn pairs(&self, name: &str, key: &str, value: &str) -> Vec<(String, String)> {
        (1..)
            .map_while(|i| {
                let k = self.params.get(&format!("{name}.member.{i}.{key}"))?;
                let v = self.params.get(&format!("{name}.member.{i}.{value}")).cloned().unwrap_or_default();
                Some((k.clone(), v))
            })
            .collect()
    }
}

fn form_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, then `%XX`.
fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// `<ActionResponse xmlns="NAMESPACE"><ActionResult>RESULT</ActionResult>
/// <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></ActionResponse>`
/// (no `…Result` element when `result` is `None`, as for IAM's `Delete…`).
pub fn response_xml(action: &str, namespace: &str, result: Option<&str>) -> String {
    let request_id = uuid::Uuid::new_v4();
    let result = result.map(|r| format!("<{action}Result>{r}</{action}Result>")).unwrap_or_default();
    format!(
        "<{action}Response xmlns=\"{namespace}\">{result}<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    )
}

/// An element with escaped text: `<Name>text</Name>`.
pub fn element(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", crate::protocol::xml_text(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_lists_and_pairs() {
        let p = QueryParams::parse(
            "Action=Ignored",
            b"Action=CreateRole&RoleName=r&Tags.member.1.Key=a&Tags.member.1.Value=x+y&Tags.member.2.Key=b&L.member.1=p%2Fq",
        );
        assert_eq!(p.action(), "CreateRole");
        assert_eq!(p.get("RoleName"), Some("r"));
        assert_eq!(p.pairs("Tags", "Key", "Value"), [("a".into(), "x y".into()), ("b".into(), String::new())]);
        assert_eq!(p.list("L"), ["p/q"]);
        assert!(
            response_xml("DeleteRole", "ns", None).starts_with("<DeleteRoleResponse xmlns=\"ns\"><ResponseMetadata>")
        );
        assert_eq!(element("A", "<&>"), "<A>&lt;&amp;&gt;</A>");
    }
}
