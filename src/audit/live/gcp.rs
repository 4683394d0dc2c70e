//! GCP Cloud Logging `entries.list` (google-cloud-logging-v2) per project.
//!
//! The server-side filter asks for the project's Admin Activity audit log, the Compute service,
//! the catalogue's method names (`:` is the query language's substring match, so every API
//! version prefix — `v1.`, `beta.`, `alpha.` — is included) and the window; every page through
//! `nextPageToken`. The catalogue then matches each entry's method exactly, as for files.

use super::{LogScope, Query, ScopeLog};
use crate::audit::rule::{CATALOGUE, GCP_SERVICE_NAME};
use crate::audit::sources::Format;
use crate::model::Provider;
use crate::providers::gcp::{backoff, build_credentials, classify, ListRetryPolicy};
use crate::providers::{deadline_passed, one_line, paginate, within, ListingError};
use futures::StreamExt;
use google_cloud_gax::options::RequestOptionsBuilder;
use google_cloud_gax::retry_policy::RetryPolicyExt;
use google_cloud_logging_v2::client::LoggingServiceV2;
use std::sync::atomic::{AtomicU64, Ordering};

/// The public Cloud Logging endpoint.
pub const PUBLIC_LOGGING_ENDPOINT: &str = "https://logging.googleapis.com";

const OPERATION: &str = "entries.list";

/// Entries per page asked for (the API's maximum is 1000).
const PAGE_SIZE: i32 = 1000;

/// Queries every project in `scopes`.
pub async fn fetch(query: Query<'_>, scopes: Vec<LogScope>) -> Vec<ScopeLog> {
    let targets = query.targets;
    let client = match within(targets.deadline_at, client(query)).await {
        Some(Ok(client)) => client,
        failed => {
            let error = match failed {
                Some(Err(error)) => error,
                _ => deadline_passed("the Cloud Logging client setup"),
            };
            return ScopeLog::all_failed(Provider::Gcp, &scopes, query.window, error);
        }
    };
    futures::stream::iter(scopes)
        .map(|scope| {
            let client = &client;
            async move { fetch_project(client, &scope, query).await }
        })
        .buffer_unordered(targets.tuning.concurrency.max(1))
        .collect()
        .await
}

/// The Cloud Logging client: the scan's credentials, retry policy (429 and 5xx too, as for
/// Compute), backoff and per-attempt timeout.
async fn client(query: Query<'_>) -> Result<LoggingServiceV2, ListingError> {
    let (settings, tuning) = (&query.targets.gcp, &query.targets.tuning);
    let credentials = build_credentials(&settings.auth)?;
    let backoff = backoff(tuning)?;
    LoggingServiceV2::builder()
        .with_endpoint(
            settings
                .logging_endpoint
                .as_deref()
                .unwrap_or(PUBLIC_LOGGING_ENDPOINT)
                .trim_end_matches('/'),
        )
        .with_credentials(credentials)
        .with_retry_policy(ListRetryPolicy.with_attempt_limit(tuning.max_attempts.max(1)))
        .with_backoff_policy(backoff)
        .with_attempt_timeout(tuning.timeout)
        .build()
        .await
        .map_err(|e| ListingError::failed(format!("ClientError: {}", one_line(&e.to_string()))))
}

/// The Logging query for one project's mirroring changes in the window.
pub fn filter(project: &str, query: Query<'_>) -> String {
    let methods = CATALOGUE
        .iter()
        .filter(|op| op.provider == Provider::Gcp)
        .map(|op| format!("\"{}\"", op.name))
        .collect::<Vec<_>>()
        .join(" OR ");
    format!(
        "logName=\"projects/{project}/logs/cloudaudit.googleapis.com%2Factivity\" AND protoPayload.serviceName=\"{GCP_SERVICE_NAME}\" AND protoPayload.methodName:({methods}) AND timestamp>=\"{}\" AND timestamp<\"{}\"",
        crate::timefmt::rfc3339(query.window.since_seconds()),
        crate::timefmt::rfc3339(query.window.until_seconds()),
    )
}

async fn fetch_project(client: &LoggingServiceV2, scope: &LogScope, query: Query<'_>) -> ScopeLog {
    let mut log = ScopeLog::new(Provider::Gcp, scope, query.window);
    let filter = filter(&scope.account, query);
    let requests = AtomicU64::new(0);
    let listing = paginate(OPERATION, query.targets.tuning.max_pages, |token| {
        requests.fetch_add(1, Ordering::Relaxed);
        let request = client
            .list_log_entries()
            .set_resource_names([format!("projects/{}", scope.account)])
            .set_filter(filter.clone())
            .set_order_by("timestamp asc")
            .set_page_size(PAGE_SIZE)
            .set_page_token(token.unwrap_or_default())
            // A read: safe to retry, which the client does not assume of a POST.
            .with_idempotency(true);
        async move {
            // The deadline cuts this page, not the project: earlier pages are kept.
            let Some(sent) = within(query.targets.deadline_at, request.send()).await else {
                return Err(deadline_passed("this project's Cloud Logging query"));
            };
            let page = sent.map_err(|e| classify(OPERATION, &e))?;
            let mut entries = Vec::with_capacity(page.entries.len());
            for entry in page.entries {
                entries.push(serde_json::to_value(&entry).ok());
            }
            Ok((entries, Some(page.next_page_token)))
        }
    })
    .await;
    log.row.requests = requests.load(Ordering::Relaxed);
    for entry in &listing.items {
        match entry {
            Some(value) => log.add_record(Format::GcpAudit, value),
            None => {
                log.row.records += 1;
                log.row.malformed += 1;
            }
        }
    }
    if let Some(error) = listing.error {
        log.fail(error);
    }
    log
}
