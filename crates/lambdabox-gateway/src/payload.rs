//! The payload format an HTTP API integration sends its function (`1.0`,
//! `2.0`): validated by the apigatewayv2 API, used by the front door.

/// The payload format of an integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadVersion {
    V1,
    V2,
}

impl PayloadVersion {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "1.0" => Some(Self::V1),
            "2.0" => Some(Self::V2),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "1.0",
            Self::V2 => "2.0",
        }
    }
}
