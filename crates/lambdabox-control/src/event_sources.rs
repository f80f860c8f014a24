//! CreateEventSourceMapping, UpdateEventSourceMapping, GetEventSourceMapping,
//! DeleteEventSourceMapping and ListEventSourceMappings: AWS's rules for
//! SQS mappings (the only source served). What a source is (does the queue
//! exist, is it FIFO, its visibility timeout) is asked of an
//! [`EventSourceCatalog`] the binary provides; the pollers learn of each
//! change through [`Change::EventSourceMappingChanged`].

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use lambdabox_model::event_source::{
    EventSourceMapping, MAX_BATCHING_WINDOW_SECONDS, MappingState, SQS_DEFAULT_BATCH_SIZE, check_filters,
    check_sqs_batching,
};
use lambdabox_model::{Region, ValidationError};

use crate::plane::blocking;
use crate::{Change, ControlError, ControlPlane};

/// What Lambda needs to know of an event source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    pub fifo: bool,
    /// The queue's visibility timeout, in seconds.
    pub visibility_timeout: u32,
}

/// Why a source cannot be mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceProblem {
    /// No such queue.
    QueueNotFound,
    /// An ARN of a service whose events are not polled here.
    Unsupported,
}

/// Looks up event sources (the binary answers from the SQS queues).
#[async_trait]
pub trait EventSourceCatalog: Send + Sync {
    async fn describe(&self, arn: &str) -> Result<SourceInfo, SourceProblem>;
}

/// A mapping's settings as the client sent them; `None` leaves a setting
/// as it is (Update) or takes AWS's default (Create).
#[derive(Debug, Clone, Default)]
pub struct MappingInput {
    pub event_source_arn: Option<String>,
    pub function_name: Option<String>,
    pub enabled: Option<bool>,
    pub batch_size: Option<i64>,
    pub maximum_batching_window_in_seconds: Option<i64>,
    /// `FilterCriteria.Filters[].Pattern`; `Some(empty)` clears them.
    pub filters: Option<Vec<String>>,
    pub function_response_types: Option<Vec<String>>,
    /// `ScalingConfig.MaximumConcurrency`; `Some(None)` clears it.
    pub maximum_concurrency: Option<Option<i64>>,
    pub tags: BTreeMap<String, String>,
    /// Members given that only streams or brokers take (`StartingPosition`,
    /// `ParallelizationFactor`, `Topics`, …), by name.
    pub stream_only: Vec<&'static str>,
}

/// A mapping and the state to report for the operation that returned it.
#[derive(Debug, Clone)]
pub struct MappingView {
    pub mapping: EventSourceMapping,
    pub state: MappingState,
    pub arn: String,
}

/// One page of ListEventSourceMappings.
#[derive(Debug, Clone)]
pub struct MappingPage {
    pub mappings: Vec<MappingView>,
    pub next_marker: Option<String>,
}

fn now_seconds() -> f64 {
    (chrono::Utc::now().timestamp_millis() as f64 / 1000.0).floor()
}

fn invalid(message: impl Into<String>) -> ControlError {
    ControlError::InvalidMappingParameter { message: message.into() }
}

fn in_range(v: i64, field: &str, min: i64, max: i64) -> Result<u32, ControlError> {
    if v < min {
        return Err(ValidationError::min_value(v, field, min).into());
    }
    if v > max {
        return Err(ValidationError::max_value(v, field, max).into());
    }
    Ok(v as u32)
}

impl ControlPlane {
    /// Answers what event sources are (without one, every source is refused).
    pub fn set_event_sources(&self, catalog: Arc<dyn EventSourceCatalog>) {
        *self.sources.write().unwrap_or_else(|p| p.into_inner()) = Some(catalog);
    }

    fn mapping_arn(&self, region: &str, uuid: &str) -> String {
        format!("arn:aws:lambda:{region}:{}:event-source-mapping:{uuid}", self.config.account)
    }

    fn mapping_view(&self, mapping: EventSourceMapping, state: Option<MappingState>) -> MappingView {
        let arn = self.mapping_arn(&mapping.region, &mapping.uuid);
        let state = state.unwrap_or_else(|| mapping.settled_state());
        MappingView { mapping, state, arn }
    }

    async fn describe_source(&self, arn: &str) -> Result<SourceInfo, ControlError> {
        let unsupported = || ControlError::UnsupportedEventSource { arn: arn.to_owned() };
        let service = arn.split(':').nth(2).unwrap_or_default();
        match service {
            "sqs" => {}
            "kinesis" | "dynamodb" | "kafka" | "mq" | "rds" => {
                return Err(ControlError::EventSourceNotServed { arn: arn.to_owned() });
            }
            _ => return Err(unsupported()),
        }
        let catalog = self.sources.read().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(catalog) = catalog else { return Err(unsupported()) };
        catalog.describe(arn).await.map_err(|p| match p {
            SourceProblem::QueueNotFound => ControlError::EventSourceQueueNotFound,
            SourceProblem::Unsupported => unsupported(),
        })
    }

    /// Applies `input` over `mapping` (defaults first for a new one) and checks the result.
    async fn apply(
        &self,
        region: &Region,
        mut mapping: EventSourceMapping,
        input: MappingInput,
    ) -> Result<EventSourceMapping, ControlError> {
        if let Some(member) = input.stream_only.first() {
            return Err(invalid(format!("Unsupported {member} for SQS event sources")));
        }
        if let Some(function) = input.function_name.as_deref() {
            let target = self.function_ref(region, function, "functionName")?;
            let qualifier = target.qualifier.as_ref().map(|q| q.to_string());
            let view = self.resolve(region, function, None, None).await?;
            mapping.function_name = view.config.name.to_string();
            mapping.function_arn = match &qualifier {
                Some(q) => {
                    self.resolve(region, function, Some(q), None).await?;
                    format!("{}:{q}", view.arn)
                }
                None => view.arn.clone(),
            };
            mapping.qualifier = qualifier;
        }
        if let Some(b) = input.batch_size {
            mapping.batch_size = in_range(b, "batchSize", 1, 10_000)?;
        }
        if let Some(w) = input.maximum_batching_window_in_seconds {
            mapping.maximum_batching_window_in_seconds =
                in_range(w, "maximumBatchingWindowInSeconds", 0, MAX_BATCHING_WINDOW_SECONDS as i64)?;
        }
        if let Some(filters) = input.filters {
            check_filters(&filters)?;
            mapping.filters = filters;
        }
        if let Some(types) = input.function_response_types {
            if let Some(bad) = types.iter().find(|t| *t != "ReportBatchItemFailures") {
                return Err(ValidationError::new(
                    format!("[{bad}]"),
                    "functionResponseTypes",
                    "[Member must satisfy enum value set: [ReportBatchItemFailures]]",
                )
                .into());
            }
            mapping.function_response_types = types;
        }
        if let Some(c) = input.maximum_concurrency {
            mapping.maximum_concurrency =
                c.map(|c| in_range(c, "scalingConfig.maximumConcurrency", 2, 1000)).transpose()?;
        }
        if let Some(e) = input.enabled {
            mapping.enabled = e;
        }
        let source = self.describe_source(&mapping.event_source_arn).await?;
        check_sqs_batching(mapping.batch_size, mapping.maximum_batching_window_in_seconds, source.fifo)
            .map_err(|e| invalid(e.to_string()))?;
        let function = self.resolve(region, &mapping.function_name, mapping.qualifier.as_deref(), None).await?;
        let timeout = function.config.timeout.get();
        if source.visibility_timeout < timeout {
            return Err(invalid(format!(
                "Queue visibility timeout: {} seconds is less than Function timeout: {timeout} seconds",
                source.visibility_timeout
            )));
        }
        mapping.last_modified = now_seconds();
        Ok(mapping)
    }

    pub async fn create_event_source_mapping(
        &self,
        region: &Region,
        mut input: MappingInput,
    ) -> Result<MappingView, ControlError> {
        let source = input.event_source_arn.take().filter(|s| !s.is_empty());
        let Some(source) = source else {
            return Err(invalid("Unrecognized event source. Please specify EventSourceArn"));
        };
        if input.function_name.is_none() {
            return Err(ValidationError::new("null", "functionName", "Member must not be null").into());
        }
        let tags = std::mem::take(&mut input.tags);
        crate::tags::validate_tags(&tags)?;
        let uuid = uuid::Uuid::new_v4().to_string();
        let blank = EventSourceMapping {
            uuid: uuid.clone(),
            region: region.to_string(),
            event_source_arn: source.clone(),
            function_name: String::new(),
            qualifier: None,
            function_arn: String::new(),
            batch_size: SQS_DEFAULT_BATCH_SIZE,
            maximum_batching_window_in_seconds: 0,
            filters: Vec::new(),
            function_response_types: Vec::new(),
            maximum_concurrency: None,
            enabled: true,
            last_modified: 0.0,
            state_transition_reason: "USER_INITIATED".into(),
            tags,
        };
        let mapping = self.apply(region, blank, input).await?;
        let _guard = self.mapping_lock.lock().await;
        let existing = blocking(&self.store, |s| s.list_event_source_mappings()).await?;
        if let Some(other) =
            existing.iter().find(|m| m.event_source_arn == source && m.function_arn == mapping.function_arn)
        {
            return Err(ControlError::MappingExists {
                source_arn: source,
                function: mapping.function_arn.clone(),
                uuid: other.uuid.clone(),
            });
        }
        let stored = mapping.clone();
        blocking(&self.store, move |s| s.put_event_source_mapping(&stored)).await?;
        self.publish(Change::EventSourceMappingChanged { uuid, function: mapping.function_name.clone() }).await;
        Ok(self.mapping_view(mapping, Some(MappingState::Creating)))
    }

    pub(crate) async fn stored_mapping(&self, region: &Region, uuid: &str) -> Result<EventSourceMapping, ControlError> {
        let key = uuid.to_owned();
        let found = blocking(&self.store, move |s| s.get_event_source_mapping(&key)).await?;
        found.filter(|m| m.region == region.as_str()).ok_or(ControlError::ResourceNotFound)
    }

    pub async fn get_event_source_mapping(&self, region: &Region, uuid: &str) -> Result<MappingView, ControlError> {
        Ok(self.mapping_view(self.stored_mapping(region, uuid).await?, None))
    }

    pub async fn update_event_source_mapping(
        &self,
        region: &Region,
        uuid: &str,
        input: MappingInput,
    ) -> Result<MappingView, ControlError> {
        let _guard = self.mapping_lock.lock().await;
        let current = self.stored_mapping(region, uuid).await?;
        let mapping = self.apply(region, current, input).await?;
        let stored = mapping.clone();
        blocking(&self.store, move |s| s.put_event_source_mapping(&stored)).await?;
        self.publish(Change::EventSourceMappingChanged {
            uuid: uuid.to_owned(),
            function: mapping.function_name.clone(),
        })
        .await;
        Ok(self.mapping_view(mapping, Some(MappingState::Updating)))
    }

    pub async fn delete_event_source_mapping(&self, region: &Region, uuid: &str) -> Result<MappingView, ControlError> {
        let _guard = self.mapping_lock.lock().await;
        let mapping = self.stored_mapping(region, uuid).await?;
        let key = uuid.to_owned();
        blocking(&self.store, move |s| s.delete_event_source_mapping(&key)).await?;
        self.publish(Change::EventSourceMappingChanged {
            uuid: uuid.to_owned(),
            function: mapping.function_name.clone(),
        })
        .await;
        Ok(self.mapping_view(mapping, Some(MappingState::Deleting)))
    }

    /// ListEventSourceMappings: by function (name or ARN, a qualified ARN
    /// lists that qualifier's) and/or source, `max_items` (1..10000, default
    /// 100) after `marker`.
    pub async fn list_event_source_mappings(
        &self,
        region: &Region,
        function: Option<&str>,
        source: Option<&str>,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<MappingPage, ControlError> {
        let max = match max_items {
            Some(m) => in_range(m, "maxItems", 1, 10_000)? as usize,
            None => 100,
        };
        let wanted = match function {
            Some(f) => {
                let target = self.function_ref(region, f, "functionName")?;
                Some((target.name.to_string(), target.qualifier.map(|q| q.to_string())))
            }
            None => None,
        };
        let all = blocking(&self.store, |s| s.list_event_source_mappings()).await?;
        let mut matching = all.into_iter().filter(|m| {
            m.region == region.as_str()
                && source.is_none_or(|s| m.event_source_arn == s)
                && wanted.as_ref().is_none_or(|(name, q)| {
                    m.function_name == *name && (q.is_none() || m.qualifier.as_deref() == q.as_deref())
                })
        });
        if let Some(marker) = marker {
            matching.by_ref().find(|m| m.uuid == marker);
        }
        let page: Vec<EventSourceMapping> = matching.by_ref().take(max).collect();
        let next_marker = matching.next().and(page.last().map(|m| m.uuid.clone()));
        Ok(MappingPage { mappings: page.into_iter().map(|m| self.mapping_view(m, None)).collect(), next_marker })
    }

    /// Every mapping of every region (the pollers' start-up).
    pub async fn all_event_source_mappings(&self) -> Result<Vec<EventSourceMapping>, ControlError> {
        Ok(blocking(&self.store, |s| s.list_event_source_mappings()).await?)
    }

    /// One mapping by UUID in any region (the pollers, after a change).
    pub async fn event_source_mapping(&self, uuid: &str) -> Result<Option<EventSourceMapping>, ControlError> {
        let key = uuid.to_owned();
        Ok(blocking(&self.store, move |s| s.get_event_source_mapping(&key)).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    struct Queues;

    #[async_trait]
    impl EventSourceCatalog for Queues {
        async fn describe(&self, arn: &str) -> Result<SourceInfo, SourceProblem> {
            match arn.rsplit(':').next() {
                Some("q") => Ok(SourceInfo { fifo: false, visibility_timeout: 30 }),
                Some("q.fifo") => Ok(SourceInfo { fifo: true, visibility_timeout: 30 }),
                Some("short") => Ok(SourceInfo { fifo: false, visibility_timeout: 1 }),
                _ => Err(SourceProblem::QueueNotFound),
            }
        }
    }

    const Q: &str = "arn:aws:sqs:us-east-1:000000000000:q";

    fn input(source: &str, function: &str) -> MappingInput {
        MappingInput {
            event_source_arn: Some(source.into()),
            function_name: Some(function.into()),
            ..Default::default()
        }
    }

    async fn harness() -> Harness {
        let h = Harness::new();
        h.plane.set_event_sources(Arc::new(Queues));
        h.create("f").await;
        h
    }

    #[tokio::test]
    async fn create_get_list_delete() {
        let h = harness().await;
        let (plane, region) = (&h.plane, || h.region.clone());
        let created = plane.create_event_source_mapping(&region(), input(Q, "f")).await.unwrap();
        assert_eq!(created.state, MappingState::Creating);
        assert_eq!(created.mapping.batch_size, 10);
        assert!(created.arn.ends_with(&format!(":event-source-mapping:{}", created.mapping.uuid)));
        let got = plane.get_event_source_mapping(&region(), &created.mapping.uuid).await.unwrap();
        assert_eq!(got.state, MappingState::Enabled);
        let page = plane.list_event_source_mappings(&region(), Some("f"), None, None, None).await.unwrap();
        assert_eq!(page.mappings.len(), 1);
        let again = plane.create_event_source_mapping(&region(), input(Q, "f")).await.unwrap_err();
        assert!(again.to_string().contains("already exists"), "{again}");
        let deleted = plane.delete_event_source_mapping(&region(), &created.mapping.uuid).await.unwrap();
        assert_eq!(deleted.state, MappingState::Deleting);
        assert!(matches!(
            plane.get_event_source_mapping(&region(), &created.mapping.uuid).await,
            Err(ControlError::ResourceNotFound)
        ));
    }

    #[tokio::test]
    async fn aws_rules_are_enforced() {
        let h = harness().await;
        let (plane, region) = (&h.plane, || h.region.clone());
        let mut big = input(Q, "f");
        big.batch_size = Some(100);
        let e = plane.create_event_source_mapping(&region(), big).await.unwrap_err();
        assert!(e.to_string().starts_with("Maximum batch window"), "{e}");
        let missing = plane
            .create_event_source_mapping(&region(), input("arn:aws:sqs:us-east-1:000000000000:nope", "f"))
            .await
            .unwrap_err();
        assert!(matches!(missing, ControlError::EventSourceQueueNotFound));
        let kinesis = plane
            .create_event_source_mapping(&region(), input("arn:aws:kinesis:us-east-1:000000000000:stream/s", "f"))
            .await
            .unwrap_err();
        assert!(matches!(kinesis, ControlError::EventSourceNotServed { .. }));
        let short = plane
            .create_event_source_mapping(&region(), input("arn:aws:sqs:us-east-1:000000000000:short", "f"))
            .await
            .unwrap_err();
        assert!(short.to_string().contains("is less than Function timeout"), "{short}");
        let mut bad_filter = input(Q, "f");
        bad_filter.filters = Some(vec!["{".into()]);
        let e = plane.create_event_source_mapping(&region(), bad_filter).await.unwrap_err();
        assert_eq!(e.to_string(), "Invalid filter pattern definition.");
        let no_function = plane.create_event_source_mapping(&region(), input(Q, "ghost")).await.unwrap_err();
        assert!(matches!(no_function, ControlError::FunctionNotFound { .. }));
    }

    #[tokio::test]
    async fn mappings_are_tagged_by_their_arn() {
        let h = harness().await;
        let mut i = input(Q, "f");
        i.tags = [("team".to_owned(), "a".to_owned())].into();
        let created = h.plane.create_event_source_mapping(&h.region, i).await.unwrap();
        let arn = created.arn.clone();
        h.plane.tag_resource(&h.region, &arn, [("env".to_owned(), "dev".to_owned())].into()).await.unwrap();
        let tags = h.plane.list_tags(&h.region, &arn).await.unwrap();
        assert_eq!(tags.len(), 2);
        h.plane.untag_resource(&h.region, &arn, vec!["team".into()]).await.unwrap();
        assert_eq!(h.plane.list_tags(&h.region, &arn).await.unwrap().keys().collect::<Vec<_>>(), ["env"]);
        let missing = arn.replace(&created.mapping.uuid, "00000000-0000-0000-0000-000000000000");
        assert!(matches!(h.plane.list_tags(&h.region, &missing).await, Err(ControlError::ResourceNotFound)));
    }

    #[tokio::test]
    async fn update_keeps_what_it_is_not_given() {
        let h = harness().await;
        let (plane, region) = (&h.plane, || h.region.clone());
        let mut i = input(Q, "f");
        i.batch_size = Some(5);
        let created = plane.create_event_source_mapping(&region(), i).await.unwrap();
        let uuid = created.mapping.uuid;
        let update = MappingInput { enabled: Some(false), ..Default::default() };
        let updated = plane.update_event_source_mapping(&region(), &uuid, update).await.unwrap();
        assert_eq!(updated.state, MappingState::Updating);
        assert_eq!(updated.mapping.batch_size, 5);
        let got = plane.get_event_source_mapping(&region(), &uuid).await.unwrap();
        assert_eq!(got.state, MappingState::Disabled);
    }
}
