//! The Azure Activity Log (management events) per subscription, through azure_core.
//!
//! `GET /subscriptions/{sub}/providers/Microsoft.Insights/eventtypes/management/values`
//! (api-version 2015-04-01) with the time range and `resourceProvider eq 'Microsoft.Network'` as
//! the server-side `$filter` (the only shapes the API accepts), every page through the absolute
//! `nextLink`; operation names are matched client-side by the catalogue.
//!
//! The generated crate for this API, azure_mgmt_monitor 0.21 (feature
//! `package-preview-2023-09`), does not compile (its models derive `Default` over types that
//! have none), so the call goes through azure_core 0.21's pipeline directly: the same retry
//! policy (429 with `Retry-After`, 5xx), transport, proxy and CA handling as the inventory's
//! generated clients. The records are kept as raw JSON, so nothing the typed model would drop
//! or reject (an unknown `level`) is lost before the mapper reads it.

use super::{LogScope, Query, ScopeLog};
use crate::audit::sources::Format;
use crate::model::Provider;
use crate::providers::azure::{classify, credential, http_client, PUBLIC_ARM_ENDPOINT};
use crate::providers::{deadline_passed, one_line, paginate, within, ListingError};
use azure_core::auth::TokenCredential;
use azure_core::{ExponentialRetryOptions, RetryOptions, TransportOptions};
use futures::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const OPERATION: &str = "ActivityLogs.List";
const API_VERSION: &str = "2015-04-01";

/// One page of `eventtypes/management/values`.
#[derive(serde::Deserialize)]
struct Page {
    value: Vec<serde_json::Value>,
    #[serde(rename = "nextLink", default)]
    next_link: Option<String>,
}

/// Queries every subscription in `scopes`.
pub async fn fetch(query: Query<'_>, scopes: Vec<LogScope>) -> Vec<ScopeLog> {
    let targets = query.targets;
    let client = match Client::new(query) {
        Ok(client) => client,
        Err(error) => return ScopeLog::all_failed(Provider::Azure, &scopes, query.window, error),
    };
    futures::stream::iter(scopes)
        .map(|scope| {
            let client = &client;
            async move { client.fetch(&scope, query).await }
        })
        .buffer_unordered(targets.tuning.concurrency.max(1))
        .collect()
        .await
}

/// What every subscription's query shares: the endpoint, the credential and its scope, and the
/// pipeline (retry policy, transport).
struct Client {
    endpoint: url::Url,
    scope: String,
    credential: Arc<dyn TokenCredential>,
    pipeline: azure_core::Pipeline,
}

impl Client {
    fn new(query: Query<'_>) -> Result<Client, ListingError> {
        let (settings, tuning) = (&query.targets.azure, &query.targets.tuning);
        let endpoint_text = settings
            .endpoint
            .as_deref()
            .unwrap_or(PUBLIC_ARM_ENDPOINT)
            .trim_end_matches('/')
            .to_string();
        let endpoint = url::Url::parse(&endpoint_text)
            .map_err(|e| ListingError::failed(format!("InvalidEndpoint: {endpoint_text}: {e}")))?;
        let http = http_client(tuning)?;
        let credential = credential(&settings.auth, http.clone())?;
        let retry = RetryOptions::exponential(
            ExponentialRetryOptions::default()
                .max_retries(tuning.max_attempts.saturating_sub(1))
                .initial_delay(tuning.initial_backoff)
                .max_total_elapsed(tuning.timeout * tuning.max_attempts.max(1)),
        );
        let options = azure_core::ClientOptions::new(TransportOptions::new(http)).retry(retry);
        let pipeline = azure_core::Pipeline::new(
            Some(env!("CARGO_PKG_NAME")),
            Some(env!("CARGO_PKG_VERSION")),
            options,
            Vec::new(),
            Vec::new(),
        );
        Ok(Client {
            scope: format!("{endpoint_text}/.default"),
            endpoint,
            credential,
            pipeline,
        })
    }

    /// The first page's URL: the subscription, the API version and the filter.
    fn first_page(&self, subscription: &str, query: Query<'_>) -> Result<url::Url, ListingError> {
        let mut url = self
            .endpoint
            .join(&format!(
                "/subscriptions/{subscription}/providers/Microsoft.Insights/eventtypes/management/values"
            ))
            .map_err(|e| ListingError::failed(format!("InvalidEndpoint: {e}")))?;
        // Whole seconds, as the API documents them; `le` is inclusive, and a record at exactly
        // `until` is windowed out afterwards with the rest.
        url.query_pairs_mut()
            .append_pair("api-version", API_VERSION)
            .append_pair(
                "$filter",
                &format!(
                    "eventTimestamp ge '{}' and eventTimestamp le '{}' and resourceProvider eq 'Microsoft.Network'",
                    crate::timefmt::rfc3339(query.window.since_seconds()),
                    crate::timefmt::rfc3339(query.window.until_seconds()),
                ),
            );
        Ok(url)
    }

    async fn fetch(&self, scope: &LogScope, query: Query<'_>) -> ScopeLog {
        let mut log = ScopeLog::new(Provider::Azure, scope, query.window);
        let first = match self.first_page(&scope.account, query) {
            Ok(url) => url,
            Err(error) => {
                log.fail(error);
                return log;
            }
        };
        let requests = AtomicU64::new(0);
        let listing = paginate(OPERATION, query.targets.tuning.max_pages, |link| {
            requests.fetch_add(1, Ordering::Relaxed);
            let url = match link {
                None => Ok(first.clone()),
                Some(link) => self.next_page(&link),
            };
            async move {
                // The deadline cuts this page, not the subscription: earlier pages are kept.
                match within(query.targets.deadline_at, self.page(url?)).await {
                    Some(page) => page,
                    None => Err(deadline_passed("this subscription's Activity Log query")),
                }
            }
        })
        .await;
        log.row.requests = requests.load(Ordering::Relaxed);
        for record in &listing.items {
            if record.is_object() {
                log.add_record(Format::AzureActivity, record);
            } else {
                log.row.records += 1;
                log.row.malformed += 1;
            }
        }
        if let Some(error) = listing.error {
            log.fail(error);
        }
        log
    }

    /// The URL a `nextLink` names: absolute (a relative one is taken against the endpoint), and
    /// on the endpoint's own scheme, host and port — the bearer token goes with it, so a link
    /// elsewhere is a malformed answer, never followed.
    fn next_page(&self, link: &str) -> Result<url::Url, ListingError> {
        let url = self.endpoint.join(link).map_err(|e| {
            ListingError::failed(format!(
                "MalformedResponse: {OPERATION} returned a nextLink that is not a URL ({e})"
            ))
        })?;
        if url.scheme() != self.endpoint.scheme()
            || url.host_str() != self.endpoint.host_str()
            || url.port_or_known_default() != self.endpoint.port_or_known_default()
        {
            return Err(ListingError::failed(format!(
                "MalformedResponse: {OPERATION} returned a nextLink to another host ({}); not followed",
                one_line(url.host_str().unwrap_or("no host"))
            )));
        }
        Ok(url)
    }

    async fn page(
        &self,
        url: url::Url,
    ) -> Result<(Vec<serde_json::Value>, Option<String>), ListingError> {
        let token = self
            .credential
            .get_token(&[self.scope.as_str()])
            .await
            .map_err(|e| {
                ListingError::failed(format!(
                    "NoCredentials: {OPERATION}: {}",
                    one_line(&e.to_string())
                ))
            })?;
        let mut request = azure_core::Request::new(url, azure_core::Method::Get);
        request.insert_header(
            azure_core::headers::AUTHORIZATION,
            format!("Bearer {}", token.token.secret()),
        );
        let response = self
            .pipeline
            .send(&azure_core::Context::new(), &mut request)
            .await
            .map_err(|e| classify(OPERATION, &e))?;
        let status = u16::from(response.status());
        if status != 200 {
            return Err(ListingError::failed(format!(
                "HTTP{status}: {OPERATION} answered HTTP {status}"
            )));
        }
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| classify(OPERATION, &e))?;
        let page: Page = serde_json::from_slice(&body).map_err(|e| {
            ListingError::failed(format!(
                "MalformedResponse: {OPERATION} returned a body that is not the documented JSON ({e})"
            ))
        })?;
        Ok((page.value, page.next_link))
    }
}
