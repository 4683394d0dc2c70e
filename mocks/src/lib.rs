//! A mock cloud for mirrorguard's tests and demo. It serves, on one loopback port, the APIs the
//! real provider SDKs call, in each provider's actual wire format, driven by a declarative
//! [`World`] with injectable faults. Production code never links a fake provider: it is pointed
//! at this server through the same endpoint overrides users have.
//!
//! | Provider | Routes | Module |
//! |---|---|---|
//! | AWS EC2 + STS GetCallerIdentity, AssumeRole (Query API) | `POST /` (form body, no `X-Amz-Target`) | [`aws`] |
//! | AWS CloudTrail LookupEvents (awsJson 1.1) | `POST /` with `X-Amz-Target: CloudTrail_20131101.LookupEvents` | [`cloudtrail`] |
//! | AWS Organizations ListAccounts (awsJson 1.1) | `POST /` with `X-Amz-Target: AWSOrganizationsV20161128.ListAccounts` | [`organizations`] |
//! | Azure token (Entra ID v2) | `POST /{tenant}/oauth2/v2.0/token` | [`azure`] |
//! | Azure Resource Manager | `GET /subscriptions`, `GET /subscriptions/{sub}/providers/Microsoft.Network/{virtualNetworkTaps,networkInterfaces}` | [`azure`] |
//! | Azure Activity Log | `GET /subscriptions/{sub}/providers/Microsoft.Insights/eventtypes/management/values` | [`activity_log`] (auth, faults: [`azure`]) |
//! | GCP OAuth token (ADC `token_uri`) | `POST /token` | [`gcp`] |
//! | GCP Compute | `GET /compute/v1/projects/{project}/aggregated/{packetMirrorings,firewallPolicies}` | [`gcp`] |
//! | GCP Cloud Logging | `POST /v2/entries:list` | [`logging`] |
//! | GCP Resource Manager v3 search | `GET /v3/projects:search`, `GET /v3/folders:search` | [`resourcemanager`] |
//! | GCE metadata (always "not on GCE") | `GET /computeMetadata/v1/{*rest}` | [`gcp`] |
//!
//! The routes do not collide, so one base URL serves as every provider's endpoint override.
//! The audit APIs serve the world's events ([`World::aws_events`] and its siblings), so one
//! world file describes both what exists and how it came to be. [`World::synthetic`] generates
//! organisation-sized worlds with a deterministic fault mix for benchmarks.

pub mod activity_log;
pub mod aws;
mod aws_json;
pub mod azure;
pub mod cloudtrail;
pub mod gcp;
pub mod logging;
pub mod organizations;
pub mod resourcemanager;
pub mod synthetic;
mod wire;
pub mod world;

pub use synthetic::{FaultMix, InjectedFault};
pub use world::{FaultKind, World};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

/// One request as the mock saw it, for tests that assert on what the client sent.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    pub service: String,
    pub action: String,
    pub account: String,
    pub region: String,
    pub params: Vec<(String, String)>,
}

/// Shared state behind the HTTP handlers.
pub struct MockState {
    pub world: World,
    /// The AWS lookups every request makes, indexed once.
    pub(crate) aws: aws::AwsIndex,
    /// Sessions STS AssumeRole handed out, by their access key id.
    pub(crate) assumed: RwLock<HashMap<String, aws::AssumedSession>>,
    /// Matching requests seen so far, per provider and index into that provider's `faults`
    /// (for `throttled N times`); each provider numbers its faults from 0.
    fault_hits: Mutex<HashMap<(&'static str, usize), u32>>,
    requests: Mutex<Vec<RequestRecord>>,
    /// CloudTrail's per (account, region) token buckets: tokens left and when they were counted.
    buckets: Mutex<HashMap<(String, String), (f64, Instant)>>,
    /// Requests the CloudTrail limiter refused (not fault-injected throttling).
    rate_limited: AtomicUsize,
}

/// How many requests a CloudTrail bucket holds: the small burst LookupEvents tolerates.
const BUCKET_CAPACITY: f64 = 2.0;

impl MockState {
    fn new(world: World) -> Self {
        MockState {
            aws: aws::AwsIndex::new(&world),
            assumed: RwLock::new(HashMap::new()),
            world,
            fault_hits: Mutex::new(HashMap::new()),
            requests: Mutex::new(Vec::new()),
            buckets: Mutex::new(HashMap::new()),
            rate_limited: AtomicUsize::new(0),
        }
    }

    /// Takes a token from the (account, region) bucket, refilled at `settings.cloudtrail_rate`
    /// per second on a monotonic clock; `false` (and counted) when the bucket is empty.
    fn take_token(&self, account: &str, region: &str) -> bool {
        let rate = self.world.settings.cloudtrail_rate;
        if rate <= 0.0 {
            return true;
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("rate limiter lock");
        let (tokens, counted) = buckets
            .entry((account.to_string(), region.to_string()))
            .or_insert((BUCKET_CAPACITY, now));
        *tokens =
            (*tokens + now.duration_since(*counted).as_secs_f64() * rate).min(BUCKET_CAPACITY);
        *counted = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            self.rate_limited.fetch_add(1, Ordering::Relaxed);
            false
        }
    }

    /// Counts a hit on `provider`'s fault `index` and returns how many hits it had before
    /// this one.
    fn hit(&self, provider: &'static str, index: usize) -> u32 {
        let mut hits = self.fault_hits.lock().expect("fault counter lock");
        let entry = hits.entry((provider, index)).or_insert(0);
        let before = *entry;
        *entry += 1;
        before
    }

    fn record(&self, record: RequestRecord) {
        self.requests.lock().expect("request log lock").push(record);
    }
}

/// A running mock cloud. Dropping it stops the server.
///
/// | Method | What it gives |
/// |---|---|
/// | [`start`](Self::start), [`start_on`](Self::start_on) | a server on an ephemeral (or given) loopback port |
/// | [`endpoint`](Self::endpoint), [`addr`](Self::addr) | the base URL every endpoint override points at |
/// | [`world`](Self::world) | the world served; [`World::aws_events`], [`World::azure_events`] and [`World::gcp_events`] count the audit events it holds |
/// | [`requests`](Self::requests) | every request seen, as [`RequestRecord`]s (`service`/`action`: `cloudtrail`/`LookupEvents`, `organizations`/`ListAccounts`, `sts`/`AssumeRole` (its `account` the role's), `monitor`/`activityLogs`, `logging`/`entries.list`, `resourcemanager`/`projects.search` and `folders.search`, besides the inventory calls) |
/// | [`rate_limited`](Self::rate_limited) | LookupEvents requests the CloudTrail rate limiter refused |
pub struct MockCloud {
    addr: SocketAddr,
    state: Arc<MockState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl MockCloud {
    /// Starts the mock on an ephemeral loopback port inside the current tokio runtime.
    pub async fn start(world: World) -> std::io::Result<MockCloud> {
        Self::start_on(world, 0).await
    }

    /// Starts the mock on `127.0.0.1:port` (0 picks a free port).
    pub async fn start_on(world: World, port: u16) -> std::io::Result<MockCloud> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(MockState::new(world));
        use axum::routing::{get, post};
        let app = axum::Router::new()
            .route("/", post(aws::handle_query))
            .route("/{tenant}/oauth2/v2.0/token", post(azure::token))
            .route("/subscriptions", get(azure::subscriptions))
            .route(
                "/subscriptions/{subscription}/providers/Microsoft.Network/virtualNetworkTaps",
                get(azure::virtual_network_taps),
            )
            .route(
                "/subscriptions/{subscription}/providers/Microsoft.Network/networkInterfaces",
                get(azure::network_interfaces),
            )
            .route("/token", post(gcp::token))
            .route(
                "/compute/v1/projects/{project}/aggregated/packetMirrorings",
                get(gcp::packet_mirrorings),
            )
            .route(
                "/compute/v1/projects/{project}/aggregated/firewallPolicies",
                get(gcp::firewall_policies),
            )
            .route(
                "/subscriptions/{subscription}/providers/Microsoft.Insights/eventtypes/management/values",
                get(azure::activity_logs),
            )
            .route("/v2/entries:list", post(logging::entries_list))
            .route("/v3/projects:search", get(resourcemanager::search_projects))
            .route("/v3/folders:search", get(resourcemanager::search_folders))
            .route("/computeMetadata/v1/{*rest}", get(gcp::metadata))
            .with_state(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(MockCloud {
            addr,
            state,
            shutdown: Some(tx),
        })
    }

    /// The base URL every provider endpoint override should point at.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The world this mock serves.
    pub fn world(&self) -> &World {
        &self.state.world
    }

    /// How many CloudTrail LookupEvents requests the rate limiter refused with
    /// `ThrottlingException` (fault-injected throttling is not counted).
    pub fn rate_limited(&self) -> usize {
        self.state.rate_limited.load(Ordering::Relaxed)
    }

    /// Every request served so far, in arrival order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.state
            .requests
            .lock()
            .expect("request log lock")
            .clone()
    }
}

impl Drop for MockCloud {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
