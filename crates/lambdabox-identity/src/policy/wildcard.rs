//! IAM's wildcards: `*` matches any run of characters (none included), `?`
//! any one. Actions compare without regard to case; resources and ARN
//! conditions match each of an ARN's six colon-separated parts on its own,
//! as AWS documents for `ArnLike` and the `Resource` element.

/// Whether `text` matches `pattern`, with `*` and `?`.
pub fn matches(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        // A `*` in the pattern is always a wildcard, even against a `*` in
        // the text (found by the policy fuzz target: a Deny on `bucket/*`
        // must apply to a key named `*secret`).
        if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Whether `text` matches `pattern` without regard to ASCII case.
pub fn matches_ignore_case(pattern: &str, text: &str) -> bool {
    matches(&pattern.to_ascii_lowercase(), &text.to_ascii_lowercase())
}

/// Whether an ARN matches an ARN pattern, part by part (`arn`, partition,
/// service, region, account, resource; the resource may hold colons). A
/// pattern that is not an ARN (`*`) matches as a plain wildcard.
pub fn arn_matches(pattern: &str, arn: &str) -> bool {
    let parts = |s: &str| -> Option<Vec<String>> {
        let v: Vec<&str> = s.splitn(6, ':').collect();
        (v.len() == 6).then(|| v.into_iter().map(str::to_owned).collect())
    };
    match (parts(pattern), parts(arn)) {
        (Some(p), Some(a)) => p.iter().zip(&a).all(|(p, a)| matches(p, a)),
        _ => matches(pattern, arn),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_question_marks() {
        assert!(matches("*", ""));
        assert!(matches("s3:Get*", "s3:GetObject"));
        assert!(!matches("s3:Get*", "s3:PutObject"));
        assert!(matches("a?c", "abc"));
        assert!(!matches("a?c", "ac"));
        assert!(matches("*a*b*", "xxaxxbxx"));
        assert!(!matches("*a*b", "xxaxxbxx"));
        assert!(matches_ignore_case("lambda:invoke*", "lambda:InvokeFunction"));
        assert!(matches("*", "*a"));
        assert!(matches("bucket/*", "bucket/*secret"));
        assert!(matches("lambda:*", "lambda:*Function"));
        assert!(!matches("lambda:invoke*", "lambda:InvokeFunction"));
    }

    #[test]
    fn arns_match_part_by_part() {
        let f = "arn:aws:lambda:us-east-1:123456789012:function:f:prod";
        assert!(arn_matches("arn:aws:lambda:*:*:function:f*", f));
        assert!(arn_matches("arn:aws:lambda:us-east-1:123456789012:function:f:*", f));
        assert!(!arn_matches("arn:aws:lambda:us-east-1:123456789012:function:f", f));
        assert!(arn_matches("*", f));
        assert!(arn_matches("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b.txt"));
        assert!(!arn_matches("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket2/a"));
        // A star in the region does not reach into the account.
        assert!(!arn_matches("arn:aws:lambda:*:function:f", f));
    }
}
