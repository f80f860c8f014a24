//! PutFunctionEventInvokeConfig, UpdateFunctionEventInvokeConfig,
//! GetFunctionEventInvokeConfig, DeleteFunctionEventInvokeConfig and
//! ListFunctionEventInvokeConfigs.

use lambdabox_model::arn::qualified_function_arn;
use lambdabox_model::event_invoke::{EventInvokeConfig, parse_event_age, parse_retry_attempts};
use lambdabox_model::{FunctionRef, Region};

use crate::plane::{blocking, now};
use crate::{ControlError, ControlPlane};

/// The settings as the client sent them; `None` leaves (Update) or clears (Put) one.
#[derive(Debug, Clone, Default)]
pub struct EventInvokeInput {
    pub maximum_retry_attempts: Option<i64>,
    pub maximum_event_age_in_seconds: Option<i64>,
    pub on_success: Option<String>,
    pub on_failure: Option<String>,
}

/// One qualifier's settings, with the ARN AWS reports them under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventInvokeView {
    pub function_arn: String,
    pub config: EventInvokeConfig,
}

/// Destinations are Lambda functions or SQS queues here (AWS also takes
/// SNS topics, EventBridge buses and S3 buckets).
fn destination(arn: Option<String>) -> Result<Option<String>, ControlError> {
    match arn.filter(|a| !a.is_empty()) {
        None => Ok(None),
        Some(a) if a.starts_with("arn:") && FunctionRef::parse(&a, "destination").is_ok() => Ok(Some(a)),
        Some(a) if is_queue_arn(&a) => Ok(Some(a)),
        Some(a) => Err(ControlError::UnsupportedDestination { arn: a }),
    }
}

/// `arn:aws:sqs:REGION:ACCOUNT:NAME`.
pub fn is_queue_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    parts.len() == 6 && parts[0] == "arn" && parts[2] == "sqs" && !parts[3].is_empty() && !parts[5].is_empty()
}

impl ControlPlane {
    async fn event_invoke_target(
        &self,
        region: &Region,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<(lambdabox_model::FunctionName, String, String), ControlError> {
        let view = self.resolve(region, function, qualifier, None).await?;
        let q = qualifier.unwrap_or("$LATEST").to_owned();
        let arn = qualified_function_arn(region, &self.config.account, view.config.name.as_str(), &q);
        Ok((view.config.name, q, arn))
    }

    pub async fn put_event_invoke_config(
        &self,
        region: &Region,
        function: &str,
        qualifier: Option<&str>,
        input: EventInvokeInput,
        merge: bool,
    ) -> Result<EventInvokeView, ControlError> {
        let (name, q, arn) = self.event_invoke_target(region, function, qualifier).await?;
        let (n, qq) = (name.clone(), q.clone());
        let current = blocking(&self.store, move |s| s.get_event_invoke_config(&n, &qq)).await?;
        let mut config = if merge { current.unwrap_or_default() } else { EventInvokeConfig::default() };
        if let Some(r) = input.maximum_retry_attempts {
            config.maximum_retry_attempts = Some(parse_retry_attempts(r)?);
        }
        if let Some(a) = input.maximum_event_age_in_seconds {
            config.maximum_event_age_in_seconds = Some(parse_event_age(a)?);
        }
        if input.on_success.is_some() || !merge {
            config.on_success = destination(input.on_success)?;
        }
        if input.on_failure.is_some() || !merge {
            config.on_failure = destination(input.on_failure)?;
        }
        config.last_modified = now();
        let stored = config.clone();
        blocking(&self.store, move |s| s.put_event_invoke_config(&name, &q, &stored)).await?;
        Ok(EventInvokeView { function_arn: arn, config })
    }

    pub async fn get_event_invoke_config(
        &self,
        region: &Region,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<EventInvokeView, ControlError> {
        let (name, q, arn) = self.event_invoke_target(region, function, qualifier).await?;
        match blocking(&self.store, move |s| s.get_event_invoke_config(&name, &q)).await? {
            Some(config) => Ok(EventInvokeView { function_arn: arn, config }),
            None => Err(ControlError::EventInvokeConfigNotFound { arn }),
        }
    }

    /// The settings that apply to an event for `qualifier` (defaults when none are set).
    pub async fn effective_event_invoke_config(
        &self,
        name: &lambdabox_model::FunctionName,
        qualifier: &str,
    ) -> Result<EventInvokeConfig, ControlError> {
        let (n, q) = (name.clone(), qualifier.to_owned());
        Ok(blocking(&self.store, move |s| s.get_event_invoke_config(&n, &q)).await?.unwrap_or_default())
    }

    pub async fn delete_event_invoke_config(
        &self,
        region: &Region,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<(), ControlError> {
        let (name, q, arn) = self.event_invoke_target(region, function, qualifier).await?;
        if blocking(&self.store, move |s| s.delete_event_invoke_config(&name, &q)).await? {
            Ok(())
        } else {
            Err(ControlError::EventInvokeConfigNotFound { arn })
        }
    }

    pub async fn list_event_invoke_configs(
        &self,
        region: &Region,
        function: &str,
    ) -> Result<Vec<EventInvokeView>, ControlError> {
        let record = self.load(region, function, None).await?;
        let name = record.latest.name.clone();
        let all = blocking(&self.store, move |s| s.list_event_invoke_configs(&name)).await?;
        Ok(all
            .into_iter()
            .map(|(q, config)| EventInvokeView {
                function_arn: qualified_function_arn(region, &self.config.account, record.latest.name.as_str(), &q),
                config,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use lambdabox_model::FunctionName;

    use super::*;
    use crate::test_support::*;

    const TARGET: &str = "arn:aws:lambda:us-east-1:000000000000:function:target";

    fn settings(
        retries: Option<i64>,
        age: Option<i64>,
        on_success: Option<&str>,
        on_failure: Option<&str>,
    ) -> EventInvokeInput {
        EventInvokeInput {
            maximum_retry_attempts: retries,
            maximum_event_age_in_seconds: age,
            on_success: on_success.map(Into::into),
            on_failure: on_failure.map(Into::into),
        }
    }

    #[tokio::test]
    async fn settings_are_bounded_and_destinations_are_functions() {
        let h = Harness::new();
        h.create("f").await;
        for (input, field, constraint) in [
            (settings(Some(-1), None, None, None), "maximumRetryAttempts", "greater than or equal to 0"),
            (settings(Some(3), None, None, None), "maximumRetryAttempts", "less than or equal to 2"),
            (settings(None, Some(59), None, None), "maximumEventAgeInSeconds", "greater than or equal to 60"),
            (settings(None, Some(21_601), None, None), "maximumEventAgeInSeconds", "less than or equal to 21600"),
        ] {
            let e = h.plane.put_event_invoke_config(&h.region, "f", None, input.clone(), false).await.unwrap_err();
            assert_validation(e, field, constraint);
            let e = h.plane.put_event_invoke_config(&h.region, "f", None, input, true).await.unwrap_err();
            assert_eq!(validation(e).field, field);
        }
        for arn in
            ["arn:aws:sns:us-east-1:000000000000:topic", "target", "arn:aws:lambda:us-east-1:000000000000:layer:l:1"]
        {
            let e = h
                .plane
                .put_event_invoke_config(&h.region, "f", None, settings(None, None, Some(arn), None), false)
                .await
                .unwrap_err();
            assert!(matches!(&e, ControlError::UnsupportedDestination { arn: a } if a == arn), "{e:?}");
            let e = h
                .plane
                .put_event_invoke_config(&h.region, "f", None, settings(None, None, None, Some(arn)), false)
                .await
                .unwrap_err();
            assert!(matches!(e, ControlError::UnsupportedDestination { .. }), "{e:?}");
        }
        let e = h.plane.get_event_invoke_config(&h.region, "f", None).await.unwrap_err();
        assert!(matches!(e, ControlError::EventInvokeConfigNotFound { .. }), "nothing was stored: {e:?}");

        let view = h
            .plane
            .put_event_invoke_config(
                &h.region,
                "f",
                None,
                settings(Some(0), Some(60), Some(TARGET), Some(&format!("{TARGET}:live"))),
                false,
            )
            .await
            .unwrap();
        assert_eq!(view.function_arn, "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST");
        let c = &view.config;
        assert_eq!((c.maximum_retry_attempts, c.maximum_event_age_in_seconds), (Some(0), Some(60)));
        assert_eq!(c.on_success.as_deref(), Some(TARGET));
        assert!(!c.last_modified.is_empty());
        assert_eq!(h.plane.get_event_invoke_config(&h.region, "f", None).await.unwrap(), view);
    }

    #[tokio::test]
    async fn put_replaces_and_update_merges() {
        let h = Harness::new();
        h.create("f").await;
        h.plane
            .put_event_invoke_config(
                &h.region,
                "f",
                None,
                settings(Some(1), Some(120), Some(TARGET), Some(TARGET)),
                false,
            )
            .await
            .unwrap();

        let merged = h
            .plane
            .put_event_invoke_config(&h.region, "f", None, settings(Some(2), None, None, None), true)
            .await
            .unwrap();
        let c = &merged.config;
        assert_eq!((c.maximum_retry_attempts, c.maximum_event_age_in_seconds), (Some(2), Some(120)));
        assert_eq!((c.on_success.as_deref(), c.on_failure.as_deref()), (Some(TARGET), Some(TARGET)));
        // An empty destination removes it on update.
        let merged = h
            .plane
            .put_event_invoke_config(&h.region, "f", None, settings(None, None, Some(""), None), true)
            .await
            .unwrap();
        assert_eq!((merged.config.on_success, merged.config.on_failure.as_deref()), (None, Some(TARGET)));

        let replaced = h
            .plane
            .put_event_invoke_config(&h.region, "f", None, settings(None, Some(300), None, None), false)
            .await
            .unwrap();
        let c = &replaced.config;
        assert_eq!((c.maximum_retry_attempts, c.maximum_event_age_in_seconds), (None, Some(300)));
        assert_eq!((c.on_success.as_deref(), c.on_failure.as_deref()), (None, None));
        // Update of a function without settings starts from the defaults.
        h.create("g").await;
        let fresh = h
            .plane
            .put_event_invoke_config(&h.region, "g", None, settings(Some(0), None, None, None), true)
            .await
            .unwrap();
        assert_eq!((fresh.config.maximum_retry_attempts, fresh.config.maximum_event_age_in_seconds), (Some(0), None));
    }

    #[tokio::test]
    async fn settings_are_kept_per_qualifier() {
        let h = Harness::new();
        h.create("f").await;
        h.publish_new("f", 10).await;
        let e = h
            .plane
            .put_event_invoke_config(&h.region, "f", Some("2"), settings(Some(0), None, None, None), false)
            .await
            .unwrap_err();
        assert!(matches!(e, ControlError::FunctionNotFound { .. }), "{e:?}");
        let e = h
            .plane
            .put_event_invoke_config(&h.region, "g", None, settings(Some(0), None, None, None), false)
            .await
            .unwrap_err();
        assert!(matches!(e, ControlError::FunctionNotFound { .. }), "{e:?}");

        let v1 = h
            .plane
            .put_event_invoke_config(&h.region, "f", Some("1"), settings(Some(0), None, None, None), false)
            .await
            .unwrap();
        assert_eq!(v1.function_arn, "arn:aws:lambda:us-east-1:000000000000:function:f:1");
        let e = h.plane.get_event_invoke_config(&h.region, "f", None).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "The function arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST doesn't have an EventInvokeConfig"
        );
        h.plane
            .put_event_invoke_config(&h.region, "f", None, settings(Some(1), None, None, None), false)
            .await
            .unwrap();

        let mut listed = h.plane.list_event_invoke_configs(&h.region, "f").await.unwrap();
        listed.sort_by(|a, b| a.function_arn.cmp(&b.function_arn));
        let arns: Vec<&str> = listed.iter().map(|v| v.function_arn.as_str()).collect();
        assert_eq!(
            arns,
            [
                "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
                "arn:aws:lambda:us-east-1:000000000000:function:f:1"
            ]
        );

        let name = FunctionName::parse("f").unwrap();
        assert_eq!(h.plane.effective_event_invoke_config(&name, "1").await.unwrap().retries(), 0);
        assert_eq!(h.plane.effective_event_invoke_config(&name, "live").await.unwrap().retries(), 2, "defaults");

        h.plane.delete_event_invoke_config(&h.region, "f", Some("1")).await.unwrap();
        let e = h.plane.delete_event_invoke_config(&h.region, "f", Some("1")).await.unwrap_err();
        assert!(matches!(e, ControlError::EventInvokeConfigNotFound { .. }), "{e:?}");
        assert_eq!(h.plane.list_event_invoke_configs(&h.region, "f").await.unwrap().len(), 1);
        assert_eq!(h.changes(), [], "event invoke settings announce nothing");
    }
}
