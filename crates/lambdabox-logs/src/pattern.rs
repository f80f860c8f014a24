//! CloudWatch Logs filter patterns for unstructured events: terms, all of
//! which must appear (`ERROR Exception`); quoted phrases matched exactly,
//! spaces and punctuation included (`"Task timed out"`); `?term`s of which
//! at least one must appear (`?ERROR ?WARN`); and `-term`s that must not
//! (`ERROR -Exiting`). Matching is case-sensitive, as on AWS. JSON
//! (`{ $.x = 1 }`), space-delimited (`[ip, user, ...]`) and regular
//! expression (`%…%`) patterns are refused rather than misread.

use crate::LogsError;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterPattern {
    all: Vec<String>,
    any: Vec<String>,
    none: Vec<String>,
}

impl FilterPattern {
    pub fn parse(pattern: &str) -> Result<Self, LogsError> {
        let invalid = |reason| LogsError::InvalidPattern { pattern: pattern.to_owned(), reason };
        let trimmed = pattern.trim();
        if trimmed.starts_with('{') || trimmed.starts_with('[') {
            return Err(invalid("JSON and space-delimited filter patterns are not supported by Lambdabox."));
        }
        let mut parsed = Self::default();
        let mut chars = trimmed.chars().peekable();
        loop {
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            let Some(&first) = chars.peek() else { break };
            let bucket = match first {
                '?' => Some(&mut parsed.any),
                '-' => Some(&mut parsed.none),
                _ => None,
            };
            let bucket = match bucket {
                Some(bucket) => {
                    chars.next();
                    bucket
                }
                None => &mut parsed.all,
            };
            let term = if chars.next_if_eq(&'"').is_some() {
                let mut term = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => term.extend(chars.next()),
                        Some(c) => term.push(c),
                        None => return Err(invalid("A quoted term is not closed.")),
                    }
                }
                term
            } else {
                let mut term = String::new();
                while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                    term.push(c);
                }
                if term.len() > 1 && term.starts_with('%') && term.ends_with('%') {
                    return Err(invalid("Regular expression filter patterns are not supported by Lambdabox."));
                }
                term
            };
            if term.is_empty() && !matches!(first, '"') {
                return Err(invalid("A ? or - must be followed by a term."));
            }
            bucket.push(term);
        }
        Ok(parsed)
    }

    /// Whether an event's message matches.
    pub fn matches(&self, message: &str) -> bool {
        self.all.iter().all(|t| message.contains(t.as_str()))
            && (self.any.is_empty() || self.any.iter().any(|t| message.contains(t.as_str())))
            && !self.none.iter().any(|t| message.contains(t.as_str()))
    }

    /// Whether every event matches (an empty pattern).
    pub fn matches_all(&self) -> bool {
        self.none.is_empty() && self.any.is_empty() && self.all.iter().all(String::is_empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &str, cases: &[(&str, bool)]) {
        let p = FilterPattern::parse(pattern).unwrap();
        for (message, expected) in cases {
            assert_eq!(p.matches(message), *expected, "{pattern:?} on {message:?}");
        }
    }

    #[test]
    fn empty_patterns_match_everything() {
        check("", &[("anything", true), ("", true)]);
        check("   ", &[("anything", true)]);
        check("\"\"", &[("anything", true)]);
        assert!(FilterPattern::parse("").unwrap().matches_all());
        assert!(!FilterPattern::parse("x").unwrap().matches_all());
    }

    #[test]
    fn every_term_must_appear_case_sensitively() {
        check(
            "ERROR Exception",
            &[
                ("ERROR: Exception raised", true),
                ("Exception before ERROR", true),
                ("ERROR only", false),
                ("error exception", false),
            ],
        );
    }

    #[test]
    fn quoted_phrases_match_exactly() {
        check(
            "\"Task timed out\" \"RequestId: 1\"",
            &[
                ("2026 RequestId: 1 Task timed out after 3.00 seconds", true),
                ("Task  timed out RequestId: 1", false),
                ("Task timed out RequestId:1", false),
            ],
        );
        check("\"say \\\"hi\\\"\"", &[("they say \"hi\"", true), ("they say hi", false)]);
    }

    #[test]
    fn optional_and_excluded_terms() {
        check("?ERROR ?WARN", &[("WARN disk", true), ("ERROR disk", true), ("INFO disk", false)]);
        check("ERROR -Exiting", &[("ERROR retrying", true), ("ERROR Exiting", false)]);
        check("-DEBUG", &[("INFO x", true), ("DEBUG x", false)]);
        check("-\"not me\"", &[("not you", true), ("do not me", false)]);
    }

    #[test]
    fn refuses_what_it_cannot_match() {
        for pattern in ["{ $.level = \"ERROR\" }", "[ip, user]", "%ERR.*%", "\"open", "ERROR ?"] {
            let err = FilterPattern::parse(pattern).unwrap_err();
            assert_eq!(err.error_type(), "InvalidParameterException", "{pattern}");
        }
    }
}
