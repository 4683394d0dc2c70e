//! AWS VPC Traffic Mirroring through aws-sdk-ec2.
//!
//! One scope is account × region. For each enabled region (DescribeRegions, `AllRegions=true`)
//! the adapter lists every page of sessions, targets and filters, joins each session with its
//! target (resolved to the receiving ENI, NLB ARN or Gateway LB endpoint) and filter, and reports
//! targets and filters no session uses as staged infrastructure. The account comes from STS
//! GetCallerIdentity, which is also the identity the report shows.

use super::aws_xml::WholeXmlBody;
use super::{
    deadline_passed, error_chain, on_worker, paginate, within, Listing, ListingError, ScanTargets,
    Tuning,
};
use crate::model::{
    CoverageRow, CoverageStatus, FilterSummary, Identity, Inventory, Mirror, Organization,
    Provider, Scope, Source, StagedResource, Target,
};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sdk_ec2::config::SharedHttpClient;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{
    Tag, TrafficMirrorFilter, TrafficMirrorFilterRule, TrafficMirrorSession, TrafficMirrorTarget,
};
use futures::StreamExt;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

/// Where the AWS credentials come from.
#[derive(Debug, Clone)]
pub enum AwsAuth {
    /// The SDK's default chain (environment, profile, SSO, web identity, IMDS), optionally with
    /// a named profile.
    Environment { profile: Option<String> },
    /// Fixed keys and nothing else from the environment: the demo uses this so ambient
    /// credentials, profiles and endpoint variables can never leak into it.
    Static {
        access_key_id: String,
        secret_access_key: String,
    },
}

#[derive(Debug, Clone)]
pub struct AwsSettings {
    pub auth: AwsAuth,
    /// Overrides every AWS endpoint (as `AWS_ENDPOINT_URL` does).
    pub endpoint: Option<String>,
    /// Regions to scan; empty means every region enabled for the account.
    pub regions: Vec<String>,
    /// Scan every account of the caller's organisation (Organizations ListAccounts).
    pub organization: bool,
    /// The role assumed in every account but the caller's own (`--aws-role-name`).
    pub role: Option<MemberRole>,
    /// Accounts to scan (`--aws-accounts`); empty means the organisation's, or the caller's.
    pub accounts: Vec<String>,
    /// Accounts to leave out (`--aws-exclude-accounts`): reported `excluded`.
    pub exclude_accounts: Vec<String>,
}

/// The role mirrorguard assumes in member accounts.
#[derive(Debug, Clone)]
pub struct MemberRole {
    /// A role name, optionally with its path (`security/MirrorguardReadOnly`).
    pub name: String,
    /// The `sts:ExternalId` the role's trust policy asks for, if any.
    pub external_id: Option<String>,
}

/// The session name every AssumeRole carries, so CloudTrail in the member account says who
/// was there (`userIdentity.arn` ends in it).
pub const SESSION_NAME: &str = "mirrorguard-scan";

/// Error codes by which AWS refuses a caller (CONTRACTS §1: `denied`).
const DENIED_CODES: &[&str] = &[
    "UnauthorizedOperation",
    "AccessDenied",
    "AccessDeniedException",
    "AuthFailure",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "UnrecognizedClientException",
];

/// Regions DescribeRegions is asked in when no region is configured.
const DEFAULT_HOME_REGION: &str = "us-east-1";

/// Scans the caller's account, or, with `--aws-organization` or `--aws-accounts`, every
/// account reached through `--aws-role-name`: the caller's own with its own credentials, the
/// others through AssumeRole.
pub async fn scan(targets: &ScanTargets) -> Inventory {
    let settings = &targets.aws;
    let mut inventory = Inventory::default();
    let sdk_config = load_config(settings, &targets.tuning).await;
    let caller = match identify(targets, &sdk_config).await {
        Ok(caller) => caller,
        Err(error) => {
            inventory.coverage.push(account_row(None, error));
            targets.progress.finished_at_once(&inventory.coverage);
            return inventory;
        }
    };
    inventory.identities.push(Identity {
        provider: Provider::Aws,
        principal: caller.arn.clone(),
        account: Some(caller.account.clone()),
    });
    let run = AccountRun {
        targets,
        base: &sdk_config,
        caller: &caller,
        sts: sts_client(&sdk_config),
        work: Semaphore::new(targets.tuning.concurrency.max(1)),
    };
    let accounts_at_once = targets.tuning.concurrency.max(1);

    if !settings.organization {
        let mut accounts = if settings.accounts.is_empty() {
            vec![caller.account.clone()]
        } else {
            settings.accounts.clone()
        };
        accounts.sort();
        accounts.dedup();
        let results: Vec<Inventory> = futures::stream::iter(accounts)
            .map(|account| run.account(account))
            .buffer_unordered(accounts_at_once)
            .collect()
            .await;
        for result in results {
            inventory.extend(result);
        }
        return inventory;
    }

    // Accounts are scanned as their page of ListAccounts arrives, so the listing's chain of
    // pages (50 for 1,000 accounts) overlaps the scan instead of preceding it.
    let (found, to_scan) = futures::channel::mpsc::unbounded::<String>();
    let listing = list_organization(&run, found);
    let scanning = to_scan
        .map(|account| run.account(account))
        .buffer_unordered(accounts_at_once)
        .collect::<Vec<Inventory>>();
    let (organization, results) = tokio::join!(listing, scanning);
    targets.progress.finished_at_once(&organization.rows);
    inventory.coverage.extend(organization.rows);
    if let Some(members) = organization.members {
        let group = organization
            .id
            .clone()
            .unwrap_or_else(|| "organization".into());
        inventory.organizations.push(Organization {
            provider: Provider::Aws,
            id: organization.id,
            group_of: members.into_iter().map(|m| (m, group.clone())).collect(),
            complete: true,
        });
    }
    for result in results {
        inventory.extend(result);
    }
    inventory
}

/// Who the credentials belong to (STS GetCallerIdentity).
struct Caller {
    account: String,
    arn: String,
}

impl Caller {
    /// The partition the caller lives in (`aws`, `aws-cn`, `aws-us-gov`): role ARNs of member
    /// accounts are in the same one.
    fn partition(&self) -> &str {
        self.arn
            .strip_prefix("arn:")
            .and_then(|rest| rest.split(':').next())
            .filter(|partition| !partition.is_empty())
            .unwrap_or("aws")
    }
}

/// Resolves the credentials and asks STS whose they are.
async fn identify(targets: &ScanTargets, sdk_config: &SdkConfig) -> Result<Caller, ListingError> {
    let Some(credentials) = sdk_config.credentials_provider() else {
        return Err(ListingError::failed(
            "NoCredentials: no AWS credentials provider is configured",
        ));
    };
    let Some(credentials) = within(targets.deadline_at, credentials.provide_credentials()).await
    else {
        return Err(deadline_passed("the AWS credential chain"));
    };
    if let Err(error) = credentials {
        return Err(ListingError::failed(format!(
            "NoCredentials: no usable AWS credentials were found ({})",
            error_chain(&error)
        )));
    }
    let sts = sts_client(sdk_config);
    let Some(identity) = within(targets.deadline_at, sts.get_caller_identity().send()).await else {
        return Err(deadline_passed("GetCallerIdentity"));
    };
    let identity = identity.map_err(|error| classify("GetCallerIdentity", &error))?;
    Ok(Caller {
        account: identity.account().unwrap_or_default().to_string(),
        arn: identity.arn().unwrap_or_default().to_string(),
    })
}

fn sts_client(config: &SdkConfig) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(config)
            .interceptor(WholeXmlBody)
            .build(),
    )
}

/// What one run over several accounts shares: the caller's configuration (and so its one
/// connection pool) and the bound on work in flight across every account.
struct AccountRun<'a> {
    targets: &'a ScanTargets,
    base: &'a SdkConfig,
    caller: &'a Caller,
    /// The caller's STS client, shared by every member session (one client, not one per
    /// account: 10,000 of them were most of a large scan's memory).
    sts: aws_sdk_sts::Client,
    /// One permit per unit of work in flight (`--concurrency`): a scope's listings, an
    /// AssumeRole, a DescribeRegions. Fair, so accounts finish roughly in the order they began.
    work: Semaphore,
}

impl AccountRun<'_> {
    /// Runs `work` holding one permit, unless the deadline passes first.
    async fn bounded<F: std::future::Future>(&self, work: F) -> Option<F::Output> {
        within(self.targets.deadline_at, async {
            let _permit = self
                .work
                .acquire()
                .await
                .expect("the semaphore is never closed");
            work.await
        })
        .await
    }

    /// Every scope of one account, each ending in exactly one coverage row, each reported to
    /// the progress bar as it ends.
    async fn account(&self, account: String) -> Inventory {
        tracing::debug!(account = %account, "account started");
        let (targets, settings) = (self.targets, &self.targets.aws);
        let mut inventory = Inventory::default();
        let excluded_by_flag = settings
            .exclude_accounts
            .contains(&account)
            .then(|| "excluded by --aws-exclude-accounts".to_string());
        let excluded_by_entry = targets
            .exclusion(Provider::Aws, &account, None)
            .map(|exclusion| exclusion.detail.clone());
        if let Some(detail) = excluded_by_flag.or(excluded_by_entry) {
            inventory.coverage.push(CoverageRow {
                scope: account_scope(&account),
                status: CoverageStatus::Excluded,
                detail: Some(detail),
            });
            targets.progress.finished_at_once(&inventory.coverage);
            return inventory;
        }

        let config = if account == self.caller.account {
            self.base.clone()
        } else {
            let assumed = self
                .bounded(self.assume_role(&account))
                .await
                .unwrap_or_else(|| Err(deadline_passed("AssumeRole")));
            match assumed {
                Ok(config) => config,
                Err(error) => {
                    inventory.coverage.push(account_row(Some(&account), error));
                    targets.progress.finished_at_once(&inventory.coverage);
                    return inventory;
                }
            }
        };
        targets.aws_sessions.insert(&account, &config);

        let discovery = self
            .bounded(discover_regions(&config, &account, &settings.regions))
            .await
            .unwrap_or_else(|| Err(deadline_passed("DescribeRegions")));
        let regions = match discovery {
            Ok(regions) => regions,
            Err(error) => {
                inventory.coverage.push(account_row(Some(&account), error));
                targets.progress.finished_at_once(&inventory.coverage);
                return inventory;
            }
        };

        let mut to_scan = Vec::new();
        for (region, availability) in regions {
            if let Some(exclusion) = targets.exclusion(Provider::Aws, &account, Some(&region)) {
                inventory.coverage.push(CoverageRow {
                    scope: scope(&account, &region),
                    status: CoverageStatus::Excluded,
                    detail: Some(exclusion.detail.clone()),
                });
                continue;
            }
            match availability {
                RegionAvailability::Enabled => to_scan.push(region),
                RegionAvailability::NotOptedIn => inventory.coverage.push(CoverageRow {
                    scope: scope(&account, &region),
                    status: CoverageStatus::Disabled,
                    detail: Some(
                        "not-opted-in: opt-in region not enabled for this account".to_string(),
                    ),
                }),
                RegionAvailability::Unknown => inventory.coverage.push(CoverageRow {
                    scope: scope(&account, &region),
                    status: CoverageStatus::Failed,
                    detail: Some(
                        "UnknownRegion: DescribeRegions does not list this region for the account"
                            .to_string(),
                    ),
                }),
            }
        }

        if targets.discover_only {
            for region in to_scan {
                inventory
                    .coverage
                    .push(super::discovered(scope(&account, &region)));
            }
            targets.progress.finished_at_once(&inventory.coverage);
            return inventory;
        }
        // Excluded, not opted in, unknown: settled already.
        targets.progress.finished_at_once(&inventory.coverage);
        targets.progress.expect(to_scan.len());

        let max_pages = targets.tuning.max_pages;
        let results: Vec<Inventory> = futures::stream::iter(to_scan)
            .map(|region| {
                let (config, account) = (&config, &account);
                async move {
                    let work = {
                        let (config, account, region) =
                            (config.clone(), account.clone(), region.clone());
                        on_worker(
                            async move { scan_region(&config, &account, region, max_pages).await },
                        )
                    };
                    let result = match self.bounded(work).await {
                        Some(inventory) => inventory,
                        None => {
                            let mut cut_short = Inventory::default();
                            let error = deadline_passed("this region's listings");
                            cut_short.coverage.push(CoverageRow {
                                scope: scope(account, &region),
                                status: error.status,
                                detail: Some(error.detail),
                            });
                            cut_short
                        }
                    };
                    self.targets.progress.done(&result.coverage);
                    result
                }
            })
            .buffer_unordered(targets.tuning.per_account.max(1))
            .collect()
            .await;
        for result in results {
            inventory.extend(result);
        }
        inventory
    }

    /// The member account's configuration: the caller's, with the credentials of a session of
    /// `--aws-role-name` in that account. The session renews itself (a new AssumeRole shortly
    /// before STS's default hour ends), so a long scan or the live audit after it never runs
    /// on expired credentials.
    async fn assume_role(&self, account: &str) -> Result<SdkConfig, ListingError> {
        let Some(role) = &self.targets.aws.role else {
            return Err(ListingError::failed(format!(
                "NoRole: account {account} is not the caller's ({}); --aws-role-name names the role to assume in it",
                self.caller.account
            )));
        };
        let mut session = MemberRoleSession {
            sts: self.sts.clone(),
            role_arn: format!(
                "arn:{}:iam::{account}:role/{}",
                self.caller.partition(),
                role.name.trim_matches('/')
            ),
            external_id: role.external_id.clone(),
            current: tokio::sync::Mutex::new(None),
        };
        // The first session is asked for here, so a refused role is this account's row.
        let first = session.assume().await?;
        *session.current.get_mut() = Some(first);
        Ok(self
            .base
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(session))
            .build())
    }
}

/// The credentials of one member account: sessions of its role, each a new AssumeRole with
/// the caller's credentials. The current session is handed out until five minutes before it
/// expires; callers that ask at once share one renewal. The session holds its own cache rather
/// than trusting the SDK's identity cache to: measured, that cache let concurrent clients of
/// one account each assume the role again (600 AssumeRole calls for 99 accounts).
#[derive(Debug)]
struct MemberRoleSession {
    sts: aws_sdk_sts::Client,
    role_arn: String,
    external_id: Option<String>,
    current: tokio::sync::Mutex<Option<Credentials>>,
}

/// How long before its expiry a member session is renewed.
const RENEW_BEFORE: std::time::Duration = std::time::Duration::from_secs(300);

impl MemberRoleSession {
    async fn assume(&self) -> Result<Credentials, ListingError> {
        let output = self
            .sts
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(SESSION_NAME)
            .set_external_id(self.external_id.clone())
            .send()
            .await
            .map_err(|error| classify(&format!("AssumeRole {}", self.role_arn), &error))?;
        let Some(session) = output.credentials() else {
            return Err(ListingError::failed(format!(
                "MalformedResponse: AssumeRole {} answered without credentials",
                self.role_arn
            )));
        };
        let expiry = std::time::SystemTime::try_from(*session.expiration()).ok();
        Ok(Credentials::new(
            session.access_key_id(),
            session.secret_access_key(),
            Some(session.session_token().to_string()),
            expiry,
            "mirrorguard-assume-role",
        ))
    }
}

impl ProvideCredentials for MemberRoleSession {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            let mut current = self.current.lock().await;
            let fresh = |credentials: &Credentials| {
                credentials
                    .expiry()
                    .is_none_or(|expiry| expiry > std::time::SystemTime::now() + RENEW_BEFORE)
            };
            if let Some(credentials) = current.as_ref().filter(|c| fresh(c)) {
                return Ok(credentials.clone());
            }
            let renewed = self.assume().await.map_err(|error| {
                aws_credential_types::provider::error::CredentialsError::provider_error(
                    error.detail,
                )
            })?;
            *current = Some(renewed.clone());
            Ok(renewed)
        })
    }
}

/// The organisation as ListAccounts described it.
struct OrganizationListing {
    /// `o-…`, read from the accounts' ARNs.
    id: Option<String>,
    /// Every account listed, whatever its state; `None` when the listing did not complete
    /// (then nobody can be said to be outside the organisation).
    members: Option<BTreeSet<String>>,
    /// Accounts not scanned: suspended or closing (`disabled`), named by `--aws-accounts`
    /// but not members (`failed`), and the listing's own failure.
    rows: Vec<CoverageRow>,
}

/// Lists the organisation's accounts (every page) and hands each active one selected by
/// `--aws-accounts` to `found` as soon as its page arrives.
async fn list_organization(
    run: &AccountRun<'_>,
    found: futures::channel::mpsc::UnboundedSender<String>,
) -> OrganizationListing {
    let (targets, settings) = (run.targets, &run.targets.aws);
    let wanted: BTreeSet<&str> = settings.accounts.iter().map(String::as_str).collect();
    let organizations = aws_sdk_organizations::Client::new(run.base);
    // Filled page by page while the pages are fetched; a lock because each page's future
    // borrows it anew.
    let progress = Mutex::new((
        BTreeSet::<String>::new(),
        OrganizationListing {
            id: None,
            members: None,
            rows: Vec::new(),
        },
    ));
    let listed = paginate("ListAccounts", targets.tuning.max_pages, |token| {
        let request = organizations
            .list_accounts()
            .max_results(20)
            .set_next_token(token);
        let (found, progress, wanted) = (&found, &progress, &wanted);
        async move {
            // No permit: the listing is one chain with one page in flight, and a page queued
            // behind the scopes of the accounts already found would starve the discovery of
            // the rest (the permits are handed out first come, first served).
            let output = within(targets.deadline_at, request.send())
                .await
                .ok_or_else(|| deadline_passed("ListAccounts"))?
                .map_err(|e| classify("ListAccounts", &e))?;
            let mut progress = progress.lock().expect("no panic while holding the lock");
            let (members, listing) = &mut *progress;
            for member in output.accounts() {
                let Some(id) = member.id() else { continue };
                // A page served twice (a looping paginator, stopped after this page) must not
                // scan its accounts twice.
                if !members.insert(id.to_string()) {
                    continue;
                }
                if listing.id.is_none() {
                    listing.id = member.arn().and_then(organization_of_account_arn);
                }
                if !wanted.is_empty() && !wanted.contains(id) {
                    continue;
                }
                match inactive_state(member) {
                    None => {
                        // The receiver outlives the listing: both run to the end in one join.
                        let _ = found.unbounded_send(id.to_string());
                    }
                    Some(state) => listing.rows.push(CoverageRow {
                        scope: account_scope(id),
                        status: CoverageStatus::Disabled,
                        detail: Some(format!(
                            "{state}: the account is {} in the organisation; nothing to scan",
                            state.to_ascii_lowercase().replace('_', " ")
                        )),
                    }),
                }
            }
            Ok((Vec::<()>::new(), output.next_token().map(str::to_string)))
        }
    })
    .await;
    let (members, mut listing) = progress
        .into_inner()
        .expect("no panic while holding the lock");
    match listed.error {
        None => {
            for account in wanted.iter().filter(|a| !members.contains(**a)) {
                if settings.exclude_accounts.iter().any(|e| e == *account) {
                    // Excluded is what the user said last; run.account reports it so.
                    let _ = found.unbounded_send(account.to_string());
                    continue;
                }
                listing.rows.push(CoverageRow {
                    scope: account_scope(account),
                    status: CoverageStatus::Failed,
                    detail: Some(format!(
                        "NotInOrganization: --aws-accounts names {account}, which ListAccounts does not list; not scanned"
                    )),
                });
            }
            listing.members = Some(members);
        }
        Some(error) => {
            // Still scan what was asked for (the caller's own account when nothing was): the
            // listing's failure is a gap of its own, not a reason to scan nothing.
            let mut fallback: BTreeSet<&str> = wanted.clone();
            if wanted.is_empty() {
                fallback.insert(run.caller.account.as_str());
            }
            let fallback: Vec<&str> = fallback
                .into_iter()
                .filter(|a| !members.contains(*a))
                .collect();
            let scanned_anyway = match fallback.as_slice() {
                [] => String::new(),
                accounts => format!("; also scanned: {}", accounts.join(", ")),
            };
            listing.rows.push(account_row(
                None,
                ListingError {
                    status: error.status,
                    detail: format!(
                        "{}; the accounts on pages not read are unknown{scanned_anyway}",
                        error.detail
                    ),
                },
            ));
            for account in fallback {
                let _ = found.unbounded_send(account.to_string());
            }
        }
    }
    listing
}

/// `ACTIVE` accounts are scanned; any other state (`SUSPENDED`, `PENDING_CLOSURE`, `CLOSED`,
/// `PENDING_ACTIVATION`) is why not. The newer `State` field wins over the deprecated
/// `Status`.
fn inactive_state(account: &aws_sdk_organizations::types::Account) -> Option<String> {
    let state = account
        .state()
        .map(|s| s.as_str().to_string())
        .or_else(|| account.status().map(|s| s.as_str().to_string()))?;
    (state != "ACTIVE").then_some(state)
}

/// `arn:aws:organizations::MGMT:account/o-abc/ACCOUNT` → `o-abc`.
fn organization_of_account_arn(arn: &str) -> Option<String> {
    let resource = arn.rsplit_once(":account/")?.1;
    let id = resource.split('/').next()?;
    id.starts_with("o-").then(|| id.to_string())
}

/// The assumed-role configuration of every account a run reached, kept so the live audit
/// reads CloudTrail with the sessions the inventory used instead of assuming every role again.
#[derive(Clone, Default)]
pub struct AccountSessions(Arc<Mutex<HashMap<String, SdkConfig>>>);

impl AccountSessions {
    fn insert(&self, account: &str, config: &SdkConfig) {
        self.0
            .lock()
            .expect("no panic while holding the lock")
            .insert(account.to_string(), config.clone());
    }

    /// The configuration a run used for `account`, if it reached it.
    pub(crate) fn get(&self, account: &str) -> Option<SdkConfig> {
        self.0
            .lock()
            .expect("no panic while holding the lock")
            .get(account)
            .cloned()
    }
}

impl std::fmt::Debug for AccountSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let accounts = self.0.lock().map(|m| m.len()).unwrap_or_default();
        write!(f, "AccountSessions({accounts} accounts)")
    }
}

/// One HTTPS client for every AWS client of the run, so all regions share one connection pool
/// and one TLS setup (the SDK would otherwise build both again for each regional client).
/// Proxies come from `HTTPS_PROXY` / `NO_PROXY` and roots from the system store, as with the
/// SDK's own default client.
pub(crate) fn shared_http_client() -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, runtime_components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = runtime_components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

pub(crate) async fn load_config(settings: &AwsSettings, tuning: &Tuning) -> SdkConfig {
    // Standard: exponential backoff with jitter between attempts, and a retry quota per
    // partition (each account × region for EC2), so a throttled scope backs off and a broken one
    // stops retrying. Not adaptive: a scope makes three calls, too few for the adaptive client
    // rate limiter to learn a rate, and its floor after a throttle (0.5 calls/s) made one
    // throttled region cost 20 s (measured), forty times a healthy one across a large scan.
    let retry = RetryConfig::standard()
        .with_max_attempts(tuning.max_attempts.max(1))
        .with_initial_backoff(tuning.initial_backoff);
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(tuning.timeout)
        .operation_attempt_timeout(tuning.timeout)
        .build();
    match &settings.auth {
        AwsAuth::Environment { profile } => {
            let mut loader = aws_config::defaults(BehaviorVersion::latest())
                .http_client(shared_http_client())
                .retry_config(retry)
                .timeout_config(timeouts);
            if let Some(profile) = profile {
                loader = loader.profile_name(profile);
            }
            if let Some(endpoint) = &settings.endpoint {
                loader = loader.endpoint_url(endpoint);
            }
            let config = loader.load().await;
            if config.region().is_some() {
                config
            } else {
                config
                    .into_builder()
                    .region(Region::new(DEFAULT_HOME_REGION))
                    .build()
            }
        }
        AwsAuth::Static {
            access_key_id,
            secret_access_key,
        } => {
            let credentials = Credentials::new(
                access_key_id,
                secret_access_key,
                None,
                None,
                "mirrorguard-static",
            );
            let mut builder = SdkConfig::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new(DEFAULT_HOME_REGION))
                .http_client(shared_http_client())
                .credentials_provider(SharedCredentialsProvider::new(credentials))
                .retry_config(retry)
                .timeout_config(timeouts);
            if let Some(endpoint) = &settings.endpoint {
                builder = builder.endpoint_url(endpoint);
            }
            builder.build()
        }
    }
}

enum RegionAvailability {
    Enabled,
    NotOptedIn,
    /// Asked for by the user but not listed for the account.
    Unknown,
}

/// The regions to scan and whether each is enabled. With an explicit region list the list is
/// still checked against DescribeRegions (so a not-opted-in region is `disabled`, not a gap);
/// if that check itself fails, the requested regions are scanned anyway.
async fn discover_regions(
    config: &SdkConfig,
    account: &str,
    requested: &[String],
) -> Result<Vec<(String, RegionAvailability)>, ListingError> {
    let mut requested: Vec<&String> = requested.iter().collect();
    requested.sort();
    requested.dedup();
    let home = config
        .region()
        .map(|r| r.as_ref().to_string())
        .unwrap_or_else(|| DEFAULT_HOME_REGION.to_string());
    let ec2 = ec2_client(config, account, &home);
    let listed = match ec2.describe_regions().all_regions(true).send().await {
        Ok(output) => output
            .regions()
            .iter()
            .filter_map(|r| {
                let name = r.region_name()?.to_string();
                let enabled = !matches!(r.opt_in_status(), Some("not-opted-in"));
                Some((name, enabled))
            })
            .collect::<BTreeMap<_, _>>(),
        Err(_) if !requested.is_empty() => {
            // The requested regions are still worth scanning: each ends in its own status (a
            // region not enabled answers AuthFailure, a gap), so going ahead hides nothing.
            return Ok(requested
                .into_iter()
                .map(|r| (r.clone(), RegionAvailability::Enabled))
                .collect());
        }
        Err(error) => return Err(classify("DescribeRegions", &error)),
    };
    let availability = |enabled: bool| {
        if enabled {
            RegionAvailability::Enabled
        } else {
            RegionAvailability::NotOptedIn
        }
    };
    if requested.is_empty() {
        return Ok(listed
            .into_iter()
            .map(|(name, enabled)| (name, availability(enabled)))
            .collect());
    }
    Ok(requested
        .into_iter()
        .map(|region| match listed.get(region) {
            Some(&enabled) => (region.clone(), availability(enabled)),
            None => (region.clone(), RegionAvailability::Unknown),
        })
        .collect())
}

/// An EC2 client for `region` that refuses cut-off bodies. EC2 throttles each account in
/// each region on its own, so each account × region gets its own retry partition: its own
/// retry quota, instead of the SDK's default of one per region for the whole
/// process, where one throttled account would slow every other account's calls.
fn ec2_client(config: &SdkConfig, account: &str, region: &str) -> aws_sdk_ec2::Client {
    let builder = aws_sdk_ec2::config::Builder::from(config)
        .interceptor(WholeXmlBody)
        .region(Region::new(region.to_string()))
        .retry_partition(scope_retry_partition("ec2", account, region));
    aws_sdk_ec2::Client::from_conf(builder.build())
}

/// Lists one region's sessions, targets and filters and joins them into mirrors.
async fn scan_region(
    config: &SdkConfig,
    account: &str,
    region: String,
    max_pages: usize,
) -> Inventory {
    let ec2 = ec2_client(config, account, &region);

    let sessions = paginate("DescribeTrafficMirrorSessions", max_pages, |token| {
        let request = ec2
            .describe_traffic_mirror_sessions()
            .max_results(1000)
            .set_next_token(token);
        async move {
            let output = request
                .send()
                .await
                .map_err(|e| classify("DescribeTrafficMirrorSessions", &e))?;
            Ok((
                output.traffic_mirror_sessions().to_vec(),
                output.next_token().map(str::to_string),
            ))
        }
    });
    let targets = paginate("DescribeTrafficMirrorTargets", max_pages, |token| {
        let request = ec2
            .describe_traffic_mirror_targets()
            .max_results(1000)
            .set_next_token(token);
        async move {
            let output = request
                .send()
                .await
                .map_err(|e| classify("DescribeTrafficMirrorTargets", &e))?;
            Ok((
                output.traffic_mirror_targets().to_vec(),
                output.next_token().map(str::to_string),
            ))
        }
    });
    let filters = paginate("DescribeTrafficMirrorFilters", max_pages, |token| {
        let request = ec2
            .describe_traffic_mirror_filters()
            .max_results(1000)
            .set_next_token(token);
        async move {
            let output = request
                .send()
                .await
                .map_err(|e| classify("DescribeTrafficMirrorFilters", &e))?;
            Ok((
                output.traffic_mirror_filters().to_vec(),
                output.next_token().map(str::to_string),
            ))
        }
    });
    let (sessions, targets, filters) = tokio::join!(sessions, targets, filters);
    join_region(account, &region, sessions, targets, filters)
}

/// Joins the three listings of one region into mirrors, staged resources and one coverage row.
fn join_region(
    account: &str,
    region: &str,
    sessions: Listing<TrafficMirrorSession>,
    targets: Listing<TrafficMirrorTarget>,
    filters: Listing<TrafficMirrorFilter>,
) -> Inventory {
    let target_by_id: HashMap<&str, &TrafficMirrorTarget> = targets
        .items
        .iter()
        .filter_map(|t| Some((t.traffic_mirror_target_id()?, t)))
        .collect();
    let filter_by_id: HashMap<&str, &TrafficMirrorFilter> = filters
        .items
        .iter()
        .filter_map(|f| Some((f.traffic_mirror_filter_id()?, f)))
        .collect();

    let mut inventory = Inventory::default();
    let mut seen_sessions = HashSet::new();
    for session in &sessions.items {
        let Some(id) = session.traffic_mirror_session_id() else {
            continue;
        };
        // A looping paginator may hand the same page back; a session is one mirror.
        if !seen_sessions.insert(id) {
            continue;
        }
        let target_id = session.traffic_mirror_target_id().unwrap_or_default();
        let filter_id = session.traffic_mirror_filter_id();
        let filter = filter_id.and_then(|f| filter_by_id.get(f).copied());
        let tags = tag_map(session.tags());
        inventory.mirrors.push(Mirror {
            provider: Provider::Aws,
            account: session.owner_id().unwrap_or(account).to_string(),
            region: Some(region.to_string()),
            id: id.to_string(),
            kind: "traffic-mirror-session".to_string(),
            name: tags.get("Name").cloned(),
            enabled: true,
            sources: vec![Source {
                kind: "network-interface".to_string(),
                id: session
                    .network_interface_id()
                    .unwrap_or_default()
                    .to_string(),
                direction: filter.and_then(mirrored_direction),
            }],
            target: match target_by_id.get(target_id) {
                Some(target) => resolve_target(target),
                None => Target {
                    kind: "unresolved".to_string(),
                    id: target_id.to_string(),
                    owner: None,
                    mirror_target_id: Some(target_id.to_string()),
                    port: None,
                    description: None,
                },
            },
            filter: Some(summarize_filter(filter_id, filter, session.packet_length())),
            description: session.description().map(str::to_string),
            tags,
            vni: session.virtual_network_id().map(i64::from),
            priority: session.session_number().map(i64::from),
            network: None,
        });
    }

    // Unused targets and filters can only be named when every session was seen.
    if sessions.error.is_none() {
        let used_targets: HashSet<&str> = sessions
            .items
            .iter()
            .filter_map(|s| s.traffic_mirror_target_id())
            .collect();
        let used_filters: HashSet<&str> = sessions
            .items
            .iter()
            .filter_map(|s| s.traffic_mirror_filter_id())
            .collect();
        for (id, target) in &target_by_id {
            if !used_targets.contains(id) {
                inventory.staged.push(StagedResource {
                    provider: Provider::Aws,
                    account: account.to_string(),
                    region: Some(region.to_string()),
                    kind: "traffic-mirror-target".to_string(),
                    id: id.to_string(),
                    target: Some(resolve_target(target)),
                    description: target.description().map(str::to_string),
                    tags: tag_map(target.tags()),
                });
            }
        }
        for (id, filter) in &filter_by_id {
            if !used_filters.contains(id) {
                inventory.staged.push(StagedResource {
                    provider: Provider::Aws,
                    account: account.to_string(),
                    region: Some(region.to_string()),
                    kind: "traffic-mirror-filter".to_string(),
                    id: id.to_string(),
                    target: None,
                    description: filter.description().map(str::to_string),
                    tags: tag_map(filter.tags()),
                });
            }
        }
    }

    let error = [sessions.error, targets.error, filters.error]
        .into_iter()
        .flatten()
        .reduce(ListingError::worst);
    inventory.coverage.push(match error {
        None => CoverageRow {
            scope: scope(account, region),
            status: CoverageStatus::Scanned,
            detail: None,
        },
        Some(error) => CoverageRow {
            scope: scope(account, region),
            status: error.status,
            detail: Some(error.detail),
        },
    });
    inventory
}

/// The resource that actually receives the copies, with the account that owns it.
fn resolve_target(target: &TrafficMirrorTarget) -> Target {
    let mirror_target_id = target.traffic_mirror_target_id().map(str::to_string);
    let (kind, id) = if let Some(eni) = target.network_interface_id() {
        ("network-interface", eni)
    } else if let Some(arn) = target.network_load_balancer_arn() {
        ("network-load-balancer", arn)
    } else if let Some(vpce) = target.gateway_load_balancer_endpoint_id() {
        ("gateway-load-balancer-endpoint", vpce)
    } else {
        (
            "unresolved",
            target.traffic_mirror_target_id().unwrap_or_default(),
        )
    };
    Target {
        kind: kind.to_string(),
        id: id.to_string(),
        owner: target.owner_id().map(str::to_string),
        mirror_target_id,
        port: None,
        description: target.description().map(str::to_string),
    }
}

fn mirrored_direction(filter: &TrafficMirrorFilter) -> Option<String> {
    let accepts = |rules: &[TrafficMirrorFilterRule]| {
        rules
            .iter()
            .any(|r| r.rule_action().map(|a| a.as_str()) == Some("accept"))
    };
    match (
        accepts(filter.ingress_filter_rules()),
        accepts(filter.egress_filter_rules()),
    ) {
        (true, true) => Some("both".to_string()),
        (true, false) => Some("ingress".to_string()),
        (false, true) => Some("egress".to_string()),
        (false, false) => None,
    }
}

fn summarize_filter(
    filter_id: Option<&str>,
    filter: Option<&TrafficMirrorFilter>,
    packet_length: Option<i32>,
) -> FilterSummary {
    let mut summary = FilterSummary {
        id: filter_id.map(str::to_string),
        packet_length: packet_length.map(i64::from),
        resolved: filter.is_some(),
        ..FilterSummary::default()
    };
    let Some(filter) = filter else {
        return summary;
    };
    let mut rules: Vec<&TrafficMirrorFilterRule> = filter
        .ingress_filter_rules()
        .iter()
        .chain(filter.egress_filter_rules())
        .collect();
    rules.sort_by_key(|r| {
        (
            r.traffic_direction().map(|d| d.as_str().to_string()),
            r.rule_number(),
        )
    });
    for rule in rules {
        let text = describe_rule(rule);
        match rule.rule_action().map(|a| a.as_str()) {
            Some("accept") => summary.accept.push(text),
            _ => summary.reject.push(text),
        }
    }
    summary.network_services = filter
        .network_services()
        .iter()
        .map(|s| s.as_str().to_string())
        .collect();
    summary.copies_nothing = summary.accept.is_empty() && summary.network_services.is_empty();
    summary
}

/// `ingress #100 tcp 10.0.0.0/8 -> 0.0.0.0/0:443`
fn describe_rule(rule: &TrafficMirrorFilterRule) -> String {
    let direction = rule.traffic_direction().map(|d| d.as_str()).unwrap_or("?");
    let protocol = match rule.protocol() {
        None | Some(0) => "all".to_string(),
        Some(1) => "icmp".to_string(),
        Some(6) => "tcp".to_string(),
        Some(17) => "udp".to_string(),
        Some(other) => format!("proto-{other}"),
    };
    let ports = |range: Option<&aws_sdk_ec2::types::TrafficMirrorPortRange>| match range {
        Some(r) if r.from_port() == r.to_port() => {
            format!(":{}", r.from_port().unwrap_or_default())
        }
        Some(r) => format!(
            ":{}-{}",
            r.from_port().unwrap_or_default(),
            r.to_port().unwrap_or_default()
        ),
        None => String::new(),
    };
    format!(
        "{direction} #{} {protocol} {}{} -> {}{}",
        rule.rule_number().unwrap_or_default(),
        rule.source_cidr_block().unwrap_or("?"),
        ports(rule.source_port_range()),
        rule.destination_cidr_block().unwrap_or("?"),
        ports(rule.destination_port_range()),
    )
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

fn scope(account: &str, region: &str) -> Scope {
    Scope {
        provider: Provider::Aws,
        account: Some(account.to_string()),
        region: Some(region.to_string()),
    }
}

fn account_scope(account: &str) -> Scope {
    Scope {
        provider: Provider::Aws,
        account: Some(account.to_string()),
        region: None,
    }
}

fn account_row(account: Option<&str>, error: ListingError) -> CoverageRow {
    CoverageRow {
        scope: Scope {
            provider: Provider::Aws,
            account: account.map(str::to_string),
            region: None,
        },
        status: error.status,
        detail: Some(error.detail),
    }
}

/// A retry partition of its own for one service in one account × region (AWS throttles each
/// apart): its own retry quota. Built `custom`, so the bucket and limiter
/// belong to the clients of that scope and go with them, instead of living for the whole
/// process in the SDK's static map (170,000 entries at 10,000 accounts).
pub(crate) fn scope_retry_partition(
    service: &str,
    account: &str,
    region: &str,
) -> aws_sdk_ec2::config::retry::RetryPartition {
    aws_sdk_ec2::config::retry::RetryPartition::custom(format!("{service}-{account}-{region}"))
        .build()
}

/// Turns an SDK error into a coverage status and a detail that starts with AWS's own code.
pub(crate) fn classify<E, R>(operation: &str, error: &SdkError<E, R>) -> ListingError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match error {
        SdkError::ServiceError(service) => {
            let err = service.err();
            let code = err.code().unwrap_or("UnknownError");
            let message = err.message().unwrap_or("no message");
            let status = if DENIED_CODES.contains(&code) {
                CoverageStatus::Denied
            } else {
                CoverageStatus::Failed
            };
            ListingError {
                status,
                detail: format!("{code}: {message} ({operation})"),
            }
        }
        SdkError::TimeoutError(_) => ListingError::failed(format!(
            "Timeout: {operation} got no answer within the per-call timeout"
        )),
        SdkError::DispatchFailure(failure) => {
            let kind = if failure.is_timeout() {
                "Timeout"
            } else if failure.is_io() {
                "ConnectionError"
            } else {
                "DispatchFailure"
            };
            ListingError::failed(format!("{kind}: {operation}: {}", error_chain(error)))
        }
        SdkError::ResponseError(_) => ListingError::failed(format!(
            "MalformedResponse: {operation}: {}",
            error_chain(error)
        )),
        _ => ListingError::failed(format!("{operation}: {}", error_chain(error))),
    }
}
