//! IAM's input constraints, as botocore's model of IAM states them
//! (required members, lengths, patterns, ranges and enums), checked before
//! anything is authorized or stored, and reported as IAM reports them:
//! `1 validation error detected: Value 'x' at 'roleName' failed to satisfy
//! constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`.
//! Lengths are counted in UTF-16 units and patterns are matched against the
//! whole value, as IAM (Java) does.

use lambdabox_aws::query::QueryParams;

use crate::error::IamError;

/// A string member's constraints.
#[derive(Debug)]
pub(crate) struct Rule {
    min: usize,
    max: Option<usize>,
    pattern: Option<Pattern>,
}

/// A regular expression of IAM's model and a matcher for it.
#[derive(Debug)]
struct Pattern {
    text: &'static str,
    matches: fn(&str) -> bool,
}

const fn rule(min: usize, max: usize, text: &'static str, matches: fn(&str) -> bool) -> Rule {
    Rule { min, max: Some(max), pattern: Some(Pattern { text, matches }) }
}

const NAME: &str = r"[\w+=,.@-]+";

/// `userNameType` (a name being created or attached to).
pub(crate) const USER_NAME: Rule = rule(1, 64, NAME, is_name);
/// `existingUserNameType` (a name being read or deleted).
pub(crate) const EXISTING_USER_NAME: Rule = rule(1, 128, NAME, is_name);
pub(crate) const ROLE_NAME: Rule = rule(1, 64, NAME, is_name);
pub(crate) const POLICY_NAME: Rule = rule(1, 128, NAME, is_name);
/// `pathType` (a user's or role's path).
pub(crate) const PATH: Rule = rule(1, 512, r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)", is_path);
/// `pathPrefixType` (`ListUsers`, `ListRoles`).
pub(crate) const PATH_PREFIX: Rule = rule(1, 512, r"\u002F[\u0021-\u007F]*", is_path_prefix);
/// `policyPathType` (a managed policy's path, and prefixes of them).
pub(crate) const POLICY_PATH: Rule = rule(1, 512, r"((/[A-Za-z0-9\.,\+@=_-]+)*)/", is_policy_path);
/// `policyDocumentType` (every policy document, trust policies included).
pub(crate) const POLICY_DOCUMENT: Rule =
    rule(1, 131_072, r"[\u0009\u000A\u000D\u0020-\u00FF]+", |s| !s.is_empty() && s.chars().all(is_document_char));
pub(crate) const ROLE_DESCRIPTION: Rule =
    rule(0, 1000, r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*", |s| s.chars().all(is_description_char));
pub(crate) const POLICY_DESCRIPTION: Rule = Rule { min: 0, max: Some(1000), pattern: None };
/// `arnType`.
pub(crate) const ARN: Rule = Rule { min: 20, max: Some(2048), pattern: None };
pub(crate) const ACCESS_KEY_ID: Rule = rule(16, 128, r"[\w]+", |s| !s.is_empty() && s.chars().all(is_word));
pub(crate) const VERSION_ID: Rule = Rule {
    min: 0,
    max: None,
    pattern: Some(Pattern { text: r"v[1-9][0-9]*(\.[A-Za-z0-9-]*)?", matches: is_version_id }),
};
const MARKER: Rule =
    rule(1, 320, r"[\u0020-\u00FF]+", |s| !s.is_empty() && s.chars().all(|c| ('\u{20}'..='\u{ff}').contains(&c)));
const TAG_KEY: Rule = rule(1, 128, r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+", |s| !s.is_empty() && s.chars().all(is_tag_char));
const TAG_VALUE: Rule = rule(0, 256, r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*", |s| s.chars().all(is_tag_char));

/// IAM's quota of tags per user, role or policy (`tagListType`'s maximum).
const MAX_TAGS: usize = 50;

/// A page request: `Marker` and `MaxItems` (IAM's default is 100).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageRequest {
    pub marker: Option<String>,
    pub max_items: usize,
}

/// The parameters of one request, read member by member; every broken
/// constraint is recorded and [`Input::finish`] reports them all.
#[derive(Debug)]
pub(crate) struct Input<'p> {
    params: &'p QueryParams,
    errors: Vec<String>,
    invalid: Option<String>,
}

impl<'p> Input<'p> {
    pub fn new(params: &'p QueryParams) -> Self {
        Self { params, errors: Vec::new(), invalid: None }
    }

    /// A required string member (`""` when missing; the error is recorded).
    pub fn required(&mut self, name: &str, rule: &Rule) -> &'p str {
        self.optional(name, rule).unwrap_or_else(|| {
            self.errors.push(format!(
                "Value null at '{}' failed to satisfy constraint: Member must not be null",
                member(name)
            ));
            ""
        })
    }

    /// An optional string member.
    pub fn optional(&mut self, name: &str, rule: &Rule) -> Option<&'p str> {
        let value = self.params.get(name)?;
        self.check(&member(name), value, rule);
        Some(value)
    }

    fn check(&mut self, member: &str, value: &str, rule: &Rule) {
        let len = value.encode_utf16().count();
        let mut fail = |what: String| {
            self.errors.push(format!("Value '{value}' at '{member}' failed to satisfy constraint: Member must {what}"))
        };
        if len < rule.min {
            fail(format!("have length greater than or equal to {}", rule.min));
        }
        if let Some(max) = rule.max
            && len > max
        {
            fail(format!("have length less than or equal to {max}"));
        }
        if let Some(pattern) = &rule.pattern
            && !(pattern.matches)(value)
        {
            fail(format!("satisfy regular expression pattern: {}", pattern.text));
        }
    }

    /// An optional integer member within `min..=max`.
    pub fn integer(&mut self, name: &str, min: i64, max: i64) -> Option<i64> {
        let text = self.params.get(name)?;
        let member = member(name);
        let Ok(value) = text.trim().parse::<i64>() else {
            self.errors
                .push(format!("Value '{text}' at '{member}' failed to satisfy constraint: Member must be a number"));
            return None;
        };
        if value < min {
            self.errors.push(format!(
                "Value '{value}' at '{member}' failed to satisfy constraint: Member must have value greater than or equal to {min}"
            ));
        }
        if value > max {
            self.errors.push(format!(
                "Value '{value}' at '{member}' failed to satisfy constraint: Member must have value less than or equal to {max}"
            ));
        }
        Some(value)
    }

    /// An optional boolean member (`true`/`false`).
    pub fn boolean(&mut self, name: &str) -> Option<bool> {
        let text = self.params.get(name)?;
        match text {
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                self.errors.push(format!(
                    "Value '{text}' at '{}' failed to satisfy constraint: Member must be a boolean",
                    member(name)
                ));
                None
            }
        }
    }

    /// A string member of an enum (`None` when missing; `required` records that).
    pub fn enumeration(&mut self, name: &str, allowed: &[&str], required: bool) -> Option<&'p str> {
        let Some(value) = self.params.get(name) else {
            if required {
                self.errors.push(format!(
                    "Value null at '{}' failed to satisfy constraint: Member must not be null",
                    member(name)
                ));
            }
            return None;
        };
        if !allowed.contains(&value) {
            self.errors.push(format!(
                "Value '{value}' at '{}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                member(name),
                allowed.join(", ")
            ));
        }
        Some(value)
    }

    /// `Tags.member.N.Key`/`.Value`: at most 50, each key and value as
    /// `Tag` constrains them, keys unique regardless of case.
    pub fn tags(&mut self) -> Vec<(String, String)> {
        let mut tags = Vec::new();
        for n in 1.. {
            let key = self.params.get(&format!("Tags.member.{n}.Key"));
            let value = self.params.get(&format!("Tags.member.{n}.Value"));
            if key.is_none() && value.is_none() {
                break;
            }
            for (field, text, rule) in [("key", key, &TAG_KEY), ("value", value, &TAG_VALUE)] {
                let member = format!("tags.{n}.member.{field}");
                match text {
                    Some(text) => self.check(&member, text, rule),
                    None => self.errors.push(format!(
                        "Value null at '{member}' failed to satisfy constraint: Member must not be null"
                    )),
                }
            }
            tags.push((key.unwrap_or_default().to_owned(), value.unwrap_or_default().to_owned()));
        }
        if tags.len() > MAX_TAGS {
            self.errors.push(format!(
                "Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to {MAX_TAGS}"
            ));
        }
        let mut keys: Vec<String> = tags.iter().map(|(k, _)| k.to_lowercase()).collect();
        keys.sort_unstable();
        if keys.windows(2).any(|w| w[0] == w[1]) {
            self.invalid("Duplicate tag keys found. Please note that Tag keys are case insensitive.");
        }
        tags
    }

    /// `Marker` and `MaxItems` (1–1000, 100 when not given).
    pub fn page(&mut self) -> PageRequest {
        let marker = self.optional("Marker", &MARKER).map(str::to_owned);
        let max_items = self.integer("MaxItems", 1, 1000).and_then(|n| usize::try_from(n).ok()).unwrap_or(100);
        PageRequest { marker, max_items }
    }

    /// Records an `InvalidInput` refusal (reported if the input is otherwise valid).
    pub fn invalid(&mut self, message: impl Into<String>) {
        self.invalid.get_or_insert_with(|| message.into());
    }

    /// Whether a managed policy ARN is one IAM accepts (`arn:PARTITION:iam::ACCOUNT|aws:policy/…`),
    /// recording IAM's `InvalidInput` otherwise.
    pub fn policy_arn(&mut self, arn: &str) {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let ok = matches!(parts.as_slice(), ["arn", partition, "iam", "", account, resource]
            if !partition.is_empty() && !account.is_empty() && resource.starts_with("policy/"));
        if !ok && !arn.is_empty() {
            self.invalid(format!("ARN {arn} is not valid."));
        }
    }

    /// Every broken constraint as one `ValidationError`, else an
    /// `InvalidInput` refusal, else nothing.
    pub fn finish(self) -> Result<(), IamError> {
        if !self.errors.is_empty() {
            return Err(IamError::Validation(self.errors));
        }
        match self.invalid {
            Some(message) => Err(IamError::InvalidInput(message)),
            None => Ok(()),
        }
    }
}

/// A member's name as IAM's messages write it (`UserName` → `userName`).
fn member(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map(|first| first.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

/// Java's `\w` (ASCII, as IAM's patterns are compiled).
fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| is_word(c) || "+=,.@-".contains(c))
}

fn is_path(s: &str) -> bool {
    s == "/"
        || (s.len() >= 3 && s.starts_with('/') && s.ends_with('/') && s.bytes().all(|b| (0x21..=0x7e).contains(&b)))
}

fn is_path_prefix(s: &str) -> bool {
    s.starts_with('/') && s.bytes().all(|b| (0x21..=0x7f).contains(&b))
}

fn is_policy_path(s: &str) -> bool {
    let Some(inner) = s.strip_suffix('/') else { return false };
    inner.is_empty()
        || inner.strip_prefix('/').is_some_and(|segments| {
            segments
                .split('/')
                .all(|seg| !seg.is_empty() && seg.chars().all(|c| c.is_ascii_alphanumeric() || ".,+@=_-".contains(c)))
        })
}

fn is_document_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}')
}

fn is_description_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a1}'..='\u{ff}')
}

fn is_version_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('v') else { return false };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (number, suffix) = rest.split_at(digits);
    let number_ok = number.bytes().next().is_some_and(|b| b != b'0');
    let suffix_ok = suffix.is_empty()
        || suffix.strip_prefix('.').is_some_and(|s| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    number_ok && suffix_ok
}

/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]`: letters, separators, numbers and a few marks.
fn is_tag_char(c: char) -> bool {
    let separator = matches!(
        c,
        ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    );
    c.is_alphabetic() || c.is_numeric() || separator || "_.:/=+-@".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(body: &str) -> QueryParams {
        QueryParams::parse("", body.as_bytes())
    }

    fn errors(body: &str, read: impl FnOnce(&mut Input<'_>)) -> String {
        let params = input(body);
        let mut input = Input::new(&params);
        read(&mut input);
        input.finish().map(|()| String::new()).unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn missing_members_are_null() {
        let message = errors("", |i| {
            i.required("RoleName", &ROLE_NAME);
            i.required("AssumeRolePolicyDocument", &POLICY_DOCUMENT);
        });
        assert_eq!(
            message,
            "2 validation errors detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null; \
             Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn names_lengths_and_patterns() {
        let message = errors("RoleName=bad%2Fname", |i| {
            i.required("RoleName", &ROLE_NAME);
        });
        assert_eq!(
            message,
            r"1 validation error detected: Value 'bad/name' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+"
        );
        let long = "a".repeat(65);
        let message = errors(&format!("UserName={long}"), |i| {
            i.required("UserName", &USER_NAME);
        });
        assert_eq!(
            message,
            format!(
                "1 validation error detected: Value '{long}' at 'userName' failed to satisfy constraint: Member must have length less than or equal to 64"
            )
        );
        assert_eq!(
            errors(&format!("UserName={long}"), |i| {
                i.required("UserName", &EXISTING_USER_NAME);
            }),
            ""
        );
        let message = errors("UserName=", |i| {
            i.required("UserName", &USER_NAME);
        });
        assert!(message.starts_with("2 validation errors detected: Value '' at 'userName' failed to satisfy constraint: Member must have length greater than or equal to 1; "), "{message}");
    }

    #[test]
    fn ranges_and_enums() {
        let message = errors("MaxSessionDuration=100&Status=Gone", |i| {
            i.integer("MaxSessionDuration", 3600, 43200);
            i.enumeration("Status", &["Active", "Inactive", "Expired"], true);
        });
        assert_eq!(
            message,
            "2 validation errors detected: Value '100' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600; \
             Value 'Gone' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive, Expired]"
        );
    }

    #[test]
    fn patterns_match_the_whole_value() {
        assert!(is_name("a.b@c+d=e,f-g_h9"));
        assert!(!is_name("a b") && !is_name("") && !is_name("é"));
        assert!(is_path("/") && is_path("/a/b/") && is_path("/a//"));
        assert!(!is_path("//") && !is_path("/a") && !is_path("a/") && !is_path("/a b/"));
        assert!(is_path_prefix("/") && is_path_prefix("/a/b") && !is_path_prefix("a"));
        assert!(is_policy_path("/") && is_policy_path("/a/b-c/") && !is_policy_path("//") && !is_policy_path("/a"));
        assert!(is_version_id("v1") && is_version_id("v12") && is_version_id("v2.x-1"));
        assert!(!is_version_id("v0") && !is_version_id("1") && !is_version_id("v") && !is_version_id("v1x"));
        assert!((POLICY_DOCUMENT.pattern.as_ref().unwrap().matches)("{\"a\":\"é\"}\n"));
        assert!(!(POLICY_DOCUMENT.pattern.as_ref().unwrap().matches)("{\"a\":\"€\"}"));
        assert!(is_tag_char('é') && is_tag_char(' ') && is_tag_char('7') && !is_tag_char('!') && !is_tag_char('\t'));
    }

    #[test]
    fn tags_are_checked_and_unique() {
        let params = input("Tags.member.1.Key=team&Tags.member.1.Value=a+b&Tags.member.2.Key=env&Tags.member.2.Value=");
        let mut i = Input::new(&params);
        assert_eq!(i.tags(), [("team".to_owned(), "a b".to_owned()), ("env".to_owned(), String::new())]);
        assert!(i.finish().is_ok());
        let message = errors("Tags.member.1.Key=a!&Tags.member.1.Value=x", |i| drop(i.tags()));
        assert!(message.contains("Value 'a!' at 'tags.1.member.key' failed to satisfy constraint"), "{message}");
        let message = errors("Tags.member.1.Key=a", |i| drop(i.tags()));
        assert!(message.contains("Value null at 'tags.1.member.value'"), "{message}");
        let message =
            errors("Tags.member.1.Key=Env&Tags.member.1.Value=x&Tags.member.2.Key=env&Tags.member.2.Value=y", |i| {
                drop(i.tags())
            });
        assert_eq!(message, "Duplicate tag keys found. Please note that Tag keys are case insensitive.");
    }

    #[test]
    fn pages_and_policy_arns() {
        let params = input("MaxItems=2&Marker=bob");
        let mut i = Input::new(&params);
        assert_eq!(i.page(), PageRequest { marker: Some("bob".into()), max_items: 2 });
        i.policy_arn("arn:aws:iam::aws:policy/AdministratorAccess");
        i.policy_arn("arn:aws:iam::123456789012:policy/team/p");
        assert!(i.finish().is_ok());
        let message = errors("", |i| i.policy_arn("arn:aws:iam::123456789012:role/r"));
        assert_eq!(message, "ARN arn:aws:iam::123456789012:role/r is not valid.");
        assert!(errors("MaxItems=0", |i| drop(i.page())).contains("greater than or equal to 1"));
    }
}
