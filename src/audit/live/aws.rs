//! CloudTrail event history through aws-sdk-cloudtrail LookupEvents.
//!
//! LookupEvents takes one lookup attribute per call, so each region is asked once per
//! catalogued AWS event name, every page, over the window (management events, 90 days). It
//! allows 2 requests per second per account and region; mirrorguard paces itself below that
//! ([`DEFAULT_CLOUDTRAIL_RATE`](super::DEFAULT_CLOUDTRAIL_RATE), burst 1) in the HTTP
//! connector, so retries are paced too, rather than hammering and relying on
//! `ThrottlingException` retries. A region's calls run one after another (the pace, not the
//! latency, bounds them); regions run at once.

use super::{LogScope, Query, ScopeLog};
use crate::audit::rule::CATALOGUE;
use crate::audit::sources::Format;
use crate::model::Provider;
use crate::providers::aws::{classify, scope_retry_partition};
use crate::providers::{deadline_passed, paginate, within};
use aws_config::timeout::TimeoutConfig;
use aws_config::Region;
use aws_sdk_cloudtrail::error::SdkError;
use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use futures::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// LookupEvents' own page limit.
const PAGE_SIZE: i32 = 50;

/// Queries every region in `scopes`, each account with the session its discovery used (the
/// caller's own credentials, or the role assumed in it).
pub async fn fetch(query: Query<'_>, scopes: Vec<LogScope>) -> Vec<ScopeLog> {
    let targets = query.targets;
    futures::stream::iter(scopes)
        .map(|scope| {
            async move {
                // The account's own session; without one (its discovery never finished), the
                // caller's credentials would read the caller's CloudTrail under this scope.
                let Some(sdk_config) = targets.aws_sessions.get(&scope.account) else {
                    let mut log = ScopeLog::new(Provider::Aws, &scope, query.window);
                    log.fail(crate::providers::ListingError::failed(
                        "NoSession: the account's credentials were not established by the discovery",
                    ));
                    return log;
                };
                let Some(http) = sdk_config.http_client() else {
                    let mut log = ScopeLog::new(Provider::Aws, &scope, query.window);
                    log.fail(crate::providers::ListingError::failed(
                        "ClientError: no HTTP client for CloudTrail",
                    ));
                    return log;
                };
                let region = scope.region.clone().unwrap_or_default();
                let pace = Pace::per_second(query.cloudtrail_rate);
                // Each attempt starts with its turn at the pace, so the attempt's timeout
                // allows for that wait on top of `--timeout`.
                let timeouts = TimeoutConfig::builder()
                    .connect_timeout(targets.tuning.timeout)
                    .operation_attempt_timeout(targets.tuning.timeout + pace.interval)
                    .build();
                let paced = PacedHttpClient {
                    inner: http,
                    pace: Arc::new(pace),
                };
                let client = aws_sdk_cloudtrail::Client::from_conf(
                    aws_sdk_cloudtrail::config::Builder::from(&sdk_config)
                        .region(Region::new(region.clone()))
                        .retry_partition(scope_retry_partition(
                            "cloudtrail",
                            &scope.account,
                            &region,
                        ))
                        .http_client(SharedHttpClient::new(paced))
                        .timeout_config(timeouts)
                        .build(),
                );
                fetch_region(&client, &scope, query).await
            }
        })
        .buffer_unordered(targets.tuning.concurrency.max(1))
        .collect()
        .await
}

/// Every catalogued event name in one region, one after another, every page.
async fn fetch_region(
    client: &aws_sdk_cloudtrail::Client,
    scope: &LogScope,
    query: Query<'_>,
) -> ScopeLog {
    const OPERATION: &str = "LookupEvents";
    let mut log = ScopeLog::new(Provider::Aws, scope, query.window);
    // EndTime is inclusive: a record at exactly `until` comes back and is windowed out with
    // the rest (asking one second less would lose the records inside that second).
    let start = DateTime::from_secs(query.window.since_seconds().unix_timestamp());
    let end = DateTime::from_secs(query.window.until_seconds().unix_timestamp());
    let requests = AtomicU64::new(0);
    for operation in CATALOGUE.iter().filter(|op| op.provider == Provider::Aws) {
        let attribute = match LookupAttribute::builder()
            .attribute_key(LookupAttributeKey::EventName)
            .attribute_value(operation.name)
            .build()
        {
            Ok(attribute) => attribute,
            Err(error) => {
                log.fail(crate::providers::ListingError::failed(format!(
                    "ClientError: {OPERATION}: {error}"
                )));
                return log;
            }
        };
        let listing = paginate(OPERATION, query.targets.tuning.max_pages, |token| {
            let request = client
                .lookup_events()
                .lookup_attributes(attribute.clone())
                .start_time(start)
                .end_time(end)
                .max_results(PAGE_SIZE)
                .set_next_token(token);
            requests.fetch_add(1, Ordering::Relaxed);
            async move {
                // The deadline cuts this call, not the scope: what earlier pages held is kept.
                let Some(sent) = within(query.targets.deadline_at, request.send()).await else {
                    return Err(deadline_passed("this region's LookupEvents"));
                };
                let output = sent.map_err(|e| {
                    let mut error = match &e {
                        // awsJson reports a 200 whose body does not parse as a service error
                        // with neither code nor message.
                        SdkError::ServiceError(service)
                            if service.raw().status().is_success() =>
                        {
                            crate::providers::ListingError::failed(format!(
                                "MalformedResponse: {OPERATION} answered 200 with a body that is not the documented JSON"
                            ))
                        }
                        _ => classify(OPERATION, &e),
                    };
                    error.detail = format!("{} for {}", error.detail, operation.name);
                    error
                })?;
                let records: Vec<Option<String>> = output
                    .events()
                    .iter()
                    .map(|event| event.cloud_trail_event().map(str::to_string))
                    .collect();
                Ok((records, output.next_token().map(str::to_string)))
            }
        })
        .await;
        for record in &listing.items {
            match record
                .as_deref()
                .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
            {
                Some(value) => log.add_record(Format::Cloudtrail, &value),
                None => {
                    log.row.records += 1;
                    log.row.malformed += 1;
                }
            }
        }
        if let Some(error) = listing.error {
            // A page cap, a pagination loop or a bad page may be this name's alone: the other
            // names are still asked. A refusal, the deadline, or a service that stopped
            // answering (5xx, throttling or timeouts past the retries) holds for every name,
            // and asking ten more would only cost ten more rounds of retries.
            let name_only = ["PageCap", "PaginationLoop", "MalformedResponse"]
                .iter()
                .any(|code| error.detail.starts_with(code));
            let stop = !name_only;
            log.fail(error);
            if stop {
                break;
            }
        }
    }
    log.row.requests = requests.load(Ordering::Relaxed);
    log
}

/// A minimum interval between requests: a token bucket of size 1, so at most `rate` requests
/// start per second, the first at once.
#[derive(Debug)]
pub struct Pace {
    pub interval: Duration,
    next: tokio::sync::Mutex<Option<Instant>>,
}

impl Pace {
    pub fn per_second(rate: f64) -> Pace {
        let interval = if rate.is_finite() && rate > 0.0 {
            Duration::from_secs_f64(1.0 / rate)
        } else {
            Duration::ZERO
        };
        Pace {
            interval,
            next: tokio::sync::Mutex::new(None),
        }
    }

    /// Waits for this request's turn. The lock is held while waiting, so requests leave in
    /// arrival order, one interval apart.
    pub async fn wait(&self) {
        let mut next = self.next.lock().await;
        if let Some(at) = *next {
            tokio::time::sleep_until(at).await;
        }
        *next = Some(Instant::now() + self.interval);
    }
}

/// Wraps the shared HTTP client so every attempt to send waits for its [`Pace`] first.
#[derive(Debug)]
struct PacedHttpClient {
    inner: SharedHttpClient,
    pace: Arc<Pace>,
}

impl HttpClient for PacedHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(PacedConnector {
            inner: self.inner.http_connector(settings, components),
            pace: self.pace.clone(),
        })
    }
}

/// The connector [`PacedHttpClient`] hands the SDK: the shared one, behind the pace.
#[derive(Debug)]
struct PacedConnector {
    inner: SharedHttpConnector,
    pace: Arc<Pace>,
}

impl HttpConnector for PacedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let (inner, pace) = (self.inner.clone(), self.pace.clone());
        HttpConnectorFuture::new(async move {
            pace.wait().await;
            inner.call(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Only lower bounds are asserted: a slow machine makes the gaps longer, never shorter.
    #[tokio::test]
    async fn pace_spaces_requests_by_at_least_the_interval() {
        let pace = Pace::per_second(40.0);
        let start = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..4 {
            pace.wait().await;
            starts.push(Instant::now() - start);
        }
        for pair in starts.windows(2) {
            assert!(pair[1] - pair[0] >= Duration::from_millis(25), "{starts:?}");
        }
    }
}
