//! Provider adapters: each turns one cloud's live API into the neutral [`Inventory`]. This
//! module holds what they share: the scan settings, the provider error that becomes a coverage
//! row, and the pagination guard every listing goes through.
//!
//! Invariant: an adapter never returns an empty result for a scope it could not list; it
//! returns a [`CoverageRow`] saying why, and keeps whatever it did see.

pub mod aws;
mod aws_xml;
pub mod azure;
pub mod gcp;
mod gcp_hierarchy;

use crate::model::{CoverageStatus, Inventory, Provider};
use std::collections::HashSet;
use std::future::Future;
use std::time::{Duration, Instant};

/// Units of work in flight at once by default (a scope's listings, an AssumeRole, a
/// DescribeRegions): every region of an AWS account at once (about 34 today, with room to
/// grow), each its own throttling bucket, so one account's scan is one wave of calls. Below
/// the region count, the last regions wait a whole wave (the benchmark shows ~2×).
pub const DEFAULT_CONCURRENCY: usize = 64;

/// Scopes of one account (subscription, project) listed at once by default: an organisation
/// scan spreads its concurrency over at least two accounts instead of spending it all on one.
pub const DEFAULT_PER_ACCOUNT: usize = 32;

/// Knobs shared by every provider adapter.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// Per attempt of one API call.
    pub timeout: Duration,
    /// Attempts per API call, the first included.
    pub max_attempts: u32,
    /// First retry delay; later ones back off exponentially with jitter.
    pub initial_backoff: Duration,
    /// Pages per listing before the scope is declared `failed` (a runaway paginator).
    pub max_pages: usize,
    /// Units of work in flight at once, across every account.
    pub concurrency: usize,
    /// Scopes of one account (subscription, project) listed at once.
    pub per_account: usize,
    /// Bound on the whole run: scopes unfinished by then are `failed`, and the report is still
    /// written.
    pub deadline: Option<Duration>,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            timeout: Duration::from_secs(30),
            max_attempts: 5,
            initial_backoff: Duration::from_secs(1),
            max_pages: 1000,
            concurrency: DEFAULT_CONCURRENCY,
            per_account: DEFAULT_PER_ACCOUNT,
            deadline: None,
        }
    }
}

/// Everything a scan of the live providers needs, free of CLI types.
#[derive(Debug, Clone)]
pub struct ScanTargets {
    pub providers: Vec<Provider>,
    pub aws: aws::AwsSettings,
    pub azure: azure::AzureSettings,
    pub gcp: gcp::GcpSettings,
    pub tuning: Tuning,
    /// Scopes acknowledged as out of reach: reported as `excluded`, not listed.
    pub exclusions: Vec<ScopeExclusion>,
    /// When the run must end (from `Tuning::deadline`, measured from the start of the run).
    pub deadline_at: Option<Instant>,
    /// Stop after finding the scopes (credentials, accounts, regions, subscriptions,
    /// projects): each reachable scope is a `scanned` row with nothing listed. The live audit
    /// sources use this to query exactly the scopes a scan would list, without listing them.
    pub discover_only: bool,
    /// The AWS accounts reached and the sessions they were reached with, shared by the
    /// inventory and the live audit of one run.
    pub aws_sessions: aws::AccountSessions,
    /// The progress bar (disabled unless stderr is a terminal).
    pub progress: crate::progress::Progress,
}

/// The coverage row of a scope found by a discover-only run: reachable, nothing listed yet.
pub(crate) fn discovered(scope: crate::model::Scope) -> crate::model::CoverageRow {
    crate::model::CoverageRow {
        scope,
        status: CoverageStatus::Scanned,
        detail: None,
    }
}

/// An unexpired `[[exclusions]]` entry, reduced to what an adapter needs.
#[derive(Debug, Clone)]
pub struct ScopeExclusion {
    pub provider: Provider,
    pub account: String,
    /// `None` excludes the whole account.
    pub region: Option<String>,
    /// Which entry, ticket and owner acknowledged it.
    pub detail: String,
}

impl ScanTargets {
    /// The exclusion that covers a scope, if any.
    pub fn exclusion(
        &self,
        provider: Provider,
        account: &str,
        region: Option<&str>,
    ) -> Option<&ScopeExclusion> {
        self.exclusions.iter().find(|e| {
            e.provider == provider
                && e.account.eq_ignore_ascii_case(account)
                && (e.region.is_none() || e.region.as_deref() == region)
        })
    }
}

/// Runs `work` unless the run's deadline passes first (`None`: it did).
pub async fn within<F: Future>(deadline: Option<Instant>, work: F) -> Option<F::Output> {
    match deadline {
        None => Some(work.await),
        Some(at) => tokio::time::timeout_at(at.into(), work).await.ok(),
    }
}

/// Runs `work` as a task of its own on the runtime's worker threads, so the scopes of a large
/// scan are parsed on every core instead of all on the one task that drives the scan. The task
/// is aborted if this future is dropped (the deadline passed), and a panic in it is resumed
/// here, as if it had run inline.
pub async fn on_worker<F>(work: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);
    impl<T> Drop for AbortOnDrop<T> {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let mut task = AbortOnDrop(tokio::spawn(work));
    match (&mut task.0).await {
        Ok(output) => output,
        Err(error) => match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            // Cancelled: only by the abort above, which runs after this future is gone.
            Err(error) => unreachable!("a scope task was cancelled while awaited: {error}"),
        },
    }
}

/// The coverage detail of a scope the deadline cut short.
pub fn deadline_passed(what: &str) -> ListingError {
    ListingError::failed(format!(
        "Deadline: the run's --deadline passed before {what} finished"
    ))
}

/// Scans every selected provider and returns the merged, sorted inventory.
pub async fn scan(targets: &ScanTargets) -> Inventory {
    let wanted = |provider| targets.providers.contains(&provider);
    // The clouds are independent: list them at the same time, each under its own concurrency.
    let (aws, azure, gcp) = tokio::join!(
        async {
            match wanted(Provider::Aws) {
                true => aws::scan(targets).await,
                false => Inventory::default(),
            }
        },
        // The AWS adapter reports each scope as it finishes; Azure and GCP, a few calls per
        // subscription or project, report theirs when the cloud is done.
        async {
            match wanted(Provider::Azure) {
                true => {
                    let inventory = azure::scan(targets).await;
                    targets.progress.finished_at_once(&inventory.coverage);
                    inventory
                }
                false => Inventory::default(),
            }
        },
        async {
            match wanted(Provider::Gcp) {
                true => {
                    let inventory = gcp::scan(targets).await;
                    targets.progress.finished_at_once(&inventory.coverage);
                    inventory
                }
                false => Inventory::default(),
            }
        },
    );
    let mut inventory = Inventory::default();
    inventory.extend(aws);
    inventory.extend(azure);
    inventory.extend(gcp);
    inventory.sort();
    inventory
}

/// An error and its sources on one line: SDK errors put the useful part at the bottom.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Provider messages can span lines and run long; a coverage detail is one line of at most
/// 300 characters.
pub(crate) fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 300 {
        let cut: String = flat.chars().take(300).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

/// Why a listing did not complete: becomes the scope's coverage status and detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingError {
    /// `Denied` or `Failed`.
    pub status: CoverageStatus,
    /// The provider's own error code first, then what mirrorguard was doing.
    pub detail: String,
}

impl ListingError {
    pub fn failed(detail: impl Into<String>) -> Self {
        ListingError {
            status: CoverageStatus::Failed,
            detail: detail.into(),
        }
    }

    /// The worse of two errors: `failed` outranks `denied` (CONTRACTS §1).
    pub fn worst(self, other: ListingError) -> ListingError {
        if other.status > self.status {
            other
        } else {
            self
        }
    }
}

/// The items a listing saw, and the error that stopped it early, if any. A partial listing
/// keeps what it saw.
pub struct Listing<T> {
    pub items: Vec<T>,
    pub error: Option<ListingError>,
}

/// Drains a paginator that follows continuation links by itself (the Azure SDK's `into_stream`)
/// with the same two guards as [`paginate`]: a link seen before, or more than `max_pages`
/// pages, stops the listing as `failed` instead of looping or ending silently. Dropping the
/// stream early stops it from fetching further pages.
pub async fn paginate_stream<T, S>(operation: &str, max_pages: usize, pages: S) -> Listing<T>
where
    S: futures::Stream<Item = Result<(Vec<T>, Option<String>), ListingError>>,
{
    use futures::StreamExt;
    let mut pages = std::pin::pin!(pages);
    let mut items = Vec::new();
    let mut seen_links = HashSet::new();
    let mut page = 0;
    while let Some(result) = pages.next().await {
        page += 1;
        let (page_items, next) = match result {
            Ok(page) => page,
            Err(error) => {
                return Listing {
                    items,
                    error: Some(error),
                }
            }
        };
        items.extend(page_items);
        let Some(next) = next.filter(|link| !link.is_empty()) else {
            return Listing { items, error: None };
        };
        if !seen_links.insert(next) {
            return Listing {
                items,
                error: Some(ListingError::failed(format!(
                    "PaginationLoop: {operation} returned a continuation link it had already returned (after {page} pages); listing stopped"
                ))),
            };
        }
        if page >= max_pages {
            return Listing {
                items,
                error: Some(ListingError::failed(format!(
                    "PageCap: {operation} still had more pages after {max_pages}; listing stopped"
                ))),
            };
        }
    }
    Listing { items, error: None }
}

/// Follows continuation tokens until the provider says there are no more pages, guarding
/// against the two ways a paginator runs away: a token it has already seen (which the AWS
/// paginator would end silently) and more than `max_pages` pages.
pub async fn paginate<T, F, Fut>(operation: &str, max_pages: usize, mut fetch: F) -> Listing<T>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), ListingError>>,
{
    let mut items = Vec::new();
    let mut seen_tokens = HashSet::new();
    let mut token: Option<String> = None;
    for page in 1..=max_pages {
        match fetch(token.take()).await {
            Err(error) => {
                return Listing {
                    items,
                    error: Some(error),
                }
            }
            Ok((page_items, next)) => {
                items.extend(page_items);
                match next.filter(|t| !t.is_empty()) {
                    None => return Listing { items, error: None },
                    Some(next) if !seen_tokens.insert(next.clone()) => {
                        return Listing {
                            items,
                            error: Some(ListingError::failed(format!(
                                "PaginationLoop: {operation} returned a continuation token it had already returned (after {page} pages); listing stopped"
                            ))),
                        }
                    }
                    Some(next) => token = Some(next),
                }
            }
        }
    }
    Listing {
        items,
        error: Some(ListingError::failed(format!(
            "PageCap: {operation} still had more pages after {max_pages}; listing stopped"
        ))),
    }
}
