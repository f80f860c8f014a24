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

/// Destinations must be Lambda functions here.
fn destination(arn: Option<String>) -> Result<Option<String>, ControlError> {
    match arn.filter(|a| !a.is_empty()) {
        None => Ok(None),
        Some(a) if a.starts_with("arn:") && FunctionRef::parse(&a, "destination").is_ok() => Ok(Some(a)),
        Some(a) => Err(ControlError::UnsupportedDestination { arn: a }),
    }
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
