//! IAM's pagination of list operations: `MaxItems` (100 by default) and
//! `Marker` in; a page, `IsTruncated` and the next `Marker` out, as boto3's
//! paginators and the AWS CLI follow them. A marker is the key (name, ARN
//! or access key id) of the last item of the page before, so a page is
//! stable when items are created or deleted between calls.

use crate::validate::PageRequest;
use crate::xml;

/// One page of a listing.
#[derive(Debug)]
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    /// The `Marker` to ask for the next page with, when there is one.
    pub next_marker: Option<String>,
}

/// The page `request` asks for of `items`, ordered by `key` (ignoring
/// case, as IAM's names are).
pub(crate) fn paginate<T>(mut items: Vec<T>, request: &PageRequest, key: impl Fn(&T) -> String) -> Page<T> {
    let ordered = |k: &str| (k.to_lowercase(), k.to_owned());
    items.sort_by_cached_key(|item| ordered(&key(item)));
    if let Some(marker) = &request.marker {
        let after = ordered(marker);
        items.retain(|item| ordered(&key(item)) > after);
    }
    let truncated = items.len() > request.max_items;
    items.truncate(request.max_items);
    let next_marker = if truncated { items.last().map(&key) } else { None };
    Page { items, next_marker }
}

impl<T> Page<T> {
    /// `<Wrapper><member>…</member>…</Wrapper><IsTruncated>…</IsTruncated>`
    /// and, when truncated, `<Marker>…</Marker>`.
    pub fn render(&self, wrapper: &str, member: impl Fn(&T) -> String) -> String {
        let mut out = xml::members(wrapper, self.items.iter().map(member));
        match &self.next_marker {
            Some(marker) => {
                out.push_str("<IsTruncated>true</IsTruncated>");
                out.push_str(&lambdabox_aws::query::element("Marker", marker));
            }
            None => out.push_str("<IsTruncated>false</IsTruncated>"),
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(marker: Option<&str>, max_items: usize) -> PageRequest {
        PageRequest { marker: marker.map(str::to_owned), max_items }
    }

    #[test]
    fn pages_follow_markers_to_the_end() {
        let names = || vec!["carol", "Bob", "alice", "dave", "erin"];
        let first = paginate(names(), &request(None, 2), |s| s.to_string());
        assert_eq!(first.items, ["alice", "Bob"]);
        assert_eq!(first.next_marker.as_deref(), Some("Bob"));
        let second = paginate(names(), &request(first.next_marker.as_deref(), 2), |s| s.to_string());
        assert_eq!(second.items, ["carol", "dave"]);
        let third = paginate(names(), &request(second.next_marker.as_deref(), 2), |s| s.to_string());
        assert_eq!(third.items, ["erin"]);
        assert_eq!(third.next_marker, None);
        assert_eq!(
            third.render("Users", |s| format!("<UserName>{s}</UserName>")),
            "<Users><member><UserName>erin</UserName></member></Users><IsTruncated>false</IsTruncated>"
        );
        assert_eq!(
            first.render("Names", |s| s.to_string()),
            "<Names><member>alice</member><member>Bob</member></Names><IsTruncated>true</IsTruncated><Marker>Bob</Marker>"
        );
    }

    #[test]
    fn a_deleted_marker_still_resumes_after_it() {
        let page = paginate(vec!["a", "c", "d"], &request(Some("b"), 100), |s| s.to_string());
        assert_eq!(page.items, ["c", "d"]);
    }
}
