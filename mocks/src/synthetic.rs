//! Organisation-sized AWS worlds for benchmarks and fault tests, built in code rather than
//! TOML (a 1,000-account world would be a 10 MB file). [`World::synthetic`] makes an
//! organisation whose management account is the first account, every account holding the
//! role [`SYNTHETIC_ROLE`] trusting the management account, `regions` enabled regions named
//! `bench-region-N` (the EC2 mock accepts any region an account lists), and a fault mix placed
//! deterministically: the same arguments always give the same world, so a test can compare a
//! scan's coverage with [`World::injected_faults`] scope by scope.

use crate::wire::{fnv64, mix};
use crate::world::{
    AwsAccount, AwsFilter, AwsFilterRule, AwsOrganization, AwsRole, AwsSession, AwsTarget, Fault,
    FaultKind, Settings, World,
};
use std::collections::{BTreeMap, HashSet};

/// The role every synthetic account holds.
pub const SYNTHETIC_ROLE: &str = "MirrorguardReadOnly";
/// The synthetic organisation's id.
pub const SYNTHETIC_ORGANIZATION: &str = "o-mgsynth001";
/// Items per page in synthetic worlds: EC2's maximum, so listings cost what a real scan's do
/// (ListAccounts still pages by its own maximum of 20).
pub const SYNTHETIC_PAGE_SIZE: usize = 1000;

/// Which share of a synthetic world fails how. The per-scope fractions (`denied` …
/// `malformed`) are of the account × region scopes that can be reached (those of accounts
/// whose role can be assumed); `assume_denied` is of the member accounts (the management
/// account is scanned with its own credentials). Each share is rounded to a whole number of
/// scopes, clamped to 0..=1, and taken in field order until the scopes run out, so an
/// over-full mix degrades instead of failing.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FaultMix {
    /// EC2 `UnauthorizedOperation` (403) on every call of the scope.
    pub denied: f64,
    /// EC2 `RequestLimitExceeded` (503) on the scope's first 2 calls, then success.
    pub throttled: f64,
    /// HTTP 500 `InternalError` on every call of the scope.
    pub failing: f64,
    /// No answer at all.
    pub hanging: f64,
    /// HTTP 200 with a truncated body.
    pub malformed: f64,
    /// The account's role trusts nobody: AssumeRole answers `AccessDenied`.
    pub assume_denied: f64,
}

/// The organisation-scale issue's fault mix (the benchmark's and the tests'): 10% of scopes
/// denied, 10% throttled twice, 5% failing, 5% hanging, 2% malformed, 5% of member accounts
/// whose AssumeRole is refused.
pub const ISSUE_MIX: FaultMix = FaultMix {
    denied: 0.10,
    throttled: 0.10,
    failing: 0.05,
    hanging: 0.05,
    malformed: 0.02,
    assume_denied: 0.05,
};

/// One fault a world injects where a scan will meet it: `region` is `None` for an account whose
/// role cannot be assumed (the whole account is out of reach, `kind` is `Denied`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InjectedFault {
    pub account: String,
    pub region: Option<String>,
    pub kind: FaultKind,
}

/// The id of synthetic account `n` (0 is the management account): 12 digits.
pub fn synthetic_account(n: usize) -> String {
    format!("{:012}", 100_000_000_000u64 + n as u64)
}

/// The name of synthetic region `n`.
pub fn synthetic_region(n: usize) -> String {
    format!("bench-region-{n}")
}

/// A well-spread, stable rank for `key`, so fault placement does not follow id order.
fn rank(seed: u64, key: &str) -> u64 {
    mix(fnv64(seed, key.as_bytes()))
}

/// `total × fraction`, rounded, clamped to what is `left`.
fn share(total: usize, fraction: f64, left: usize) -> usize {
    let fraction = if fraction.is_finite() {
        fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    ((total as f64 * fraction).round() as usize).min(left)
}

impl World {
    /// An organisation of `accounts` accounts × `regions` regions with `mirrors_per_region`
    /// traffic-mirror sessions (each with its own network-interface target and filter) per
    /// scope, the fault mix `faults`, and `latency_ms` added to every AWS call (EC2, STS,
    /// CloudTrail, Organizations) by a leading catch-all `slow` fault (0: none).
    ///
    /// The management account ([`synthetic_account`]`(0)`) has no `access_key`, so any key
    /// signs as it; member accounts are reached only through AssumeRole of
    /// [`SYNTHETIC_ROLE`]. Scope faults name account and region but no action, so they hit
    /// every call of the scope (the Describe calls and LookupEvents) and none of the account's
    /// calls signed for other regions (AssumeRole, GetCallerIdentity, DescribeRegions from the
    /// client's home region). `settings.page_size` is [`SYNTHETIC_PAGE_SIZE`].
    pub fn synthetic(
        accounts: usize,
        regions: usize,
        mirrors_per_region: usize,
        faults: FaultMix,
        latency_ms: u64,
    ) -> World {
        let ids: Vec<String> = (0..accounts).map(synthetic_account).collect();
        let region_names: Vec<String> = (0..regions).map(synthetic_region).collect();
        let management = ids.first().cloned();

        // Accounts whose role cannot be assumed, chosen among the members by rank.
        let mut members: Vec<(u64, usize)> = (1..accounts)
            .map(|n| (rank(7, &format!("assume/{}", ids[n])), n))
            .collect();
        members.sort_unstable();
        let unassumable = share(members.len(), faults.assume_denied, members.len());
        let assume_denied: HashSet<usize> =
            members[..unassumable].iter().map(|&(_, n)| n).collect();

        let mut world = World {
            settings: Settings {
                page_size: SYNTHETIC_PAGE_SIZE,
                ..Settings::default()
            },
            ..World::default()
        };
        let aws = &mut world.aws;
        aws.organization = management.as_ref().map(|id| AwsOrganization {
            id: SYNTHETIC_ORGANIZATION.to_string(),
            management_account: id.clone(),
        });
        for (n, id) in ids.iter().enumerate() {
            let mut account = AwsAccount::new(id.clone(), region_names.clone());
            account.name = Some(format!("synthetic-{n}"));
            account.roles = vec![AwsRole {
                name: SYNTHETIC_ROLE.to_string(),
                trusted: if assume_denied.contains(&n) {
                    Vec::new()
                } else {
                    management.iter().cloned().collect()
                },
                external_id: None,
            }];
            aws.accounts.push(account);
        }

        let capacity = accounts * regions * mirrors_per_region;
        aws.sessions.reserve(capacity);
        aws.targets.reserve(capacity);
        aws.filters.reserve(capacity);
        let mut serial = 0u64;
        for id in &ids {
            for region in &region_names {
                for _ in 0..mirrors_per_region {
                    aws.sessions.push(AwsSession {
                        account: id.clone(),
                        region: region.clone(),
                        id: format!("tms-{serial:017x}"),
                        target: format!("tmt-{serial:017x}"),
                        filter: format!("tmf-{serial:017x}"),
                        source: format!("eni-0{serial:016x}"),
                        session_number: 1,
                        vni: None,
                        packet_length: None,
                        description: None,
                        tags: BTreeMap::new(),
                        created_at: None,
                        created_by: None,
                    });
                    aws.targets.push(AwsTarget {
                        account: id.clone(),
                        region: region.clone(),
                        id: format!("tmt-{serial:017x}"),
                        target_type: "network-interface".to_string(),
                        resource: format!("eni-1{serial:016x}"),
                        owner: None,
                        description: None,
                        tags: BTreeMap::new(),
                    });
                    aws.filters.push(AwsFilter {
                        account: id.clone(),
                        region: region.clone(),
                        id: format!("tmf-{serial:017x}"),
                        description: None,
                        tags: BTreeMap::new(),
                        network_services: Vec::new(),
                        rules: vec![AwsFilterRule {
                            direction: "ingress".to_string(),
                            number: 100,
                            action: "accept".to_string(),
                            protocol: None,
                            source_cidr: "0.0.0.0/0".to_string(),
                            destination_cidr: "0.0.0.0/0".to_string(),
                            source_ports: None,
                            destination_ports: None,
                        }],
                    });
                    serial += 1;
                }
            }
        }

        if latency_ms > 0 {
            // First, so every answer (faulty ones too) takes the latency.
            aws.faults.push(Fault {
                account: None,
                region: None,
                action: None,
                kind: FaultKind::Slow,
                times: None,
                ms: Some(latency_ms),
            });
        }
        let mut scopes: Vec<(u64, usize, usize)> = Vec::new();
        for (a, id) in ids.iter().enumerate() {
            if assume_denied.contains(&a) {
                continue;
            }
            for (r, region) in region_names.iter().enumerate() {
                scopes.push((rank(8, &format!("scope/{id}/{region}")), a, r));
            }
        }
        scopes.sort_unstable();
        let total = scopes.len();
        let mut next = 0;
        for (fraction, kind) in [
            (faults.denied, FaultKind::Denied),
            (faults.throttled, FaultKind::Throttled),
            (faults.failing, FaultKind::Failing),
            (faults.hanging, FaultKind::Hang),
            (faults.malformed, FaultKind::Malformed),
        ] {
            let count = share(total, fraction, total - next);
            for &(_, a, r) in &scopes[next..next + count] {
                aws.faults.push(Fault {
                    account: Some(ids[a].clone()),
                    region: Some(region_names[r].clone()),
                    action: None,
                    kind,
                    times: (kind == FaultKind::Throttled).then_some(2),
                    ms: None,
                });
            }
            next += count;
        }
        world
    }

    /// The faults a scan of this world meets, sorted by account and region (account-wide
    /// ones first): every `aws.faults` entry naming both an account and a region (`slow`
    /// excepted: it delays, it does not fail), and, in an organisation, every member account
    /// other than the management account none of whose roles trusts the management account
    /// (`region` `None`, `Denied`). Describes hand-written worlds as well as synthetic ones.
    pub fn injected_faults(&self) -> Vec<InjectedFault> {
        let aws = &self.aws;
        let mut injected: Vec<InjectedFault> = Vec::new();
        if let Some(org) = &aws.organization {
            for account in &aws.accounts {
                let reachable = account
                    .roles
                    .iter()
                    .any(|r| r.trusted.contains(&org.management_account));
                if account.id != org.management_account
                    && !account.outside_organization
                    && !reachable
                {
                    injected.push(InjectedFault {
                        account: account.id.clone(),
                        region: None,
                        kind: FaultKind::Denied,
                    });
                }
            }
        }
        for fault in &aws.faults {
            if let (Some(account), Some(region), false) =
                (&fault.account, &fault.region, fault.kind == FaultKind::Slow)
            {
                injected.push(InjectedFault {
                    account: account.clone(),
                    region: Some(region.clone()),
                    kind: fault.kind,
                });
            }
        }
        injected.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
        injected
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::organizations::test_world::{
        assume_role, list_accounts, query, role_arn, xml_value,
    };
    use crate::MockCloud;
    use std::collections::HashMap;
    use std::time::{Duration, Instant};

    use super::ISSUE_MIX;

    fn count(injected: &[InjectedFault], kind: FaultKind, account_wide: bool) -> usize {
        injected
            .iter()
            .filter(|f| f.kind == kind && f.region.is_none() == account_wide)
            .count()
    }

    #[test]
    fn the_same_arguments_give_the_same_world_with_the_mix_it_describes() {
        let world = World::synthetic(50, 4, 2, ISSUE_MIX, 25);
        let again = World::synthetic(50, 4, 2, ISSUE_MIX, 25);
        let injected = world.injected_faults();
        assert_eq!(injected, again.injected_faults());
        assert_eq!(format!("{:?}", world.aws), format!("{:?}", again.aws));

        let aws = &world.aws;
        let org = aws.organization.as_ref().unwrap();
        assert_eq!(org.management_account, synthetic_account(0));
        assert_eq!(aws.accounts[0].id, "100000000000");
        assert_eq!(aws.accounts.len(), 50);
        assert_eq!(aws.accounts[3].regions[2], "bench-region-2");
        assert_eq!(
            (aws.sessions.len(), aws.targets.len(), aws.filters.len()),
            (400, 400, 400)
        );
        let ids: HashSet<&str> = aws.sessions.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids.len(), 400);
        assert_eq!(world.settings.page_size, SYNTHETIC_PAGE_SIZE);
        // The latency fault comes first and applies everywhere.
        let slow = &aws.faults[0];
        assert_eq!(
            (
                slow.kind,
                slow.ms,
                &slow.account,
                &slow.region,
                &slow.action
            ),
            (FaultKind::Slow, Some(25), &None, &None, &None)
        );

        // 49 members × 5% = 2.45 → 2 unassumable accounts; (50 - 2) × 4 = 192 reachable scopes.
        assert_eq!(count(&injected, FaultKind::Denied, true), 2);
        for (kind, expected) in [
            (FaultKind::Denied, 19),    // 19.2
            (FaultKind::Throttled, 19), // 19.2
            (FaultKind::Failing, 10),   // 9.6
            (FaultKind::Hang, 10),      // 9.6
            (FaultKind::Malformed, 4),  // 3.84
        ] {
            assert_eq!(count(&injected, kind, false), expected, "{kind:?}");
        }
        let unassumable: HashSet<&str> = injected
            .iter()
            .filter(|f| f.region.is_none())
            .map(|f| f.account.as_str())
            .collect();
        assert!(!unassumable.contains(org.management_account.as_str()));
        for account in &aws.accounts {
            let trusted = &account.roles[0].trusted;
            assert_eq!(account.roles[0].name, SYNTHETIC_ROLE);
            assert_eq!(
                trusted.is_empty(),
                unassumable.contains(account.id.as_str())
            );
        }
        // Scope faults are only where a scan can meet them, one per scope at most.
        let mut scopes = HashSet::new();
        for fault in injected.iter().filter(|f| f.region.is_some()) {
            assert!(!unassumable.contains(fault.account.as_str()));
            assert!(scopes.insert((&fault.account, &fault.region)));
        }
        assert!(aws
            .faults
            .iter()
            .filter(|f| f.kind == FaultKind::Throttled)
            .all(|f| f.times == Some(2)));

        // Another mix places faults differently; an over-full one runs out of scopes.
        let other = World::synthetic(
            50,
            4,
            2,
            FaultMix {
                denied: 0.2,
                ..ISSUE_MIX
            },
            25,
        );
        assert_ne!(other.injected_faults(), injected);
        let full = FaultMix {
            denied: 1.0,
            throttled: 1.0,
            failing: f64::NAN,
            ..FaultMix::default()
        };
        let full = World::synthetic(3, 2, 0, full, 0).injected_faults();
        assert_eq!(full.len(), 6);
        assert!(full.iter().all(|f| f.kind == FaultKind::Denied));
        assert!(World::synthetic(0, 0, 0, ISSUE_MIX, 0)
            .injected_faults()
            .is_empty());
    }

    /// What a scope's DescribeTrafficMirrorSessions shows, as the fault it reveals.
    async fn observed(mock: &MockCloud, key: &str, region: &str) -> Option<FaultKind> {
        let mut throttled = false;
        for _ in 0..4 {
            let call = query(
                mock,
                key,
                region,
                "ec2",
                "Action=DescribeTrafficMirrorSessions&Version=2016-11-15",
            );
            let Ok(reply) = tokio::time::timeout(Duration::from_millis(300), call).await else {
                return Some(FaultKind::Hang);
            };
            match (reply.status, xml_value(&reply.body, "Code")) {
                (503, Some("RequestLimitExceeded")) => throttled = true,
                (403, Some("UnauthorizedOperation")) => return Some(FaultKind::Denied),
                (500, Some("InternalError")) => return Some(FaultKind::Failing),
                (200, _)
                    if !reply
                        .body
                        .ends_with("</DescribeTrafficMirrorSessionsResponse>") =>
                {
                    return Some(FaultKind::Malformed)
                }
                (200, _) => {
                    assert!(reply.body.contains("<trafficMirrorSessionId>tms-"));
                    return throttled.then_some(FaultKind::Throttled);
                }
                other => panic!("unexpected answer {other:?}: {}", reply.body),
            }
        }
        panic!("throttling did not recover");
    }

    #[tokio::test]
    async fn the_mock_answers_every_scope_as_injected() {
        let mix = FaultMix {
            denied: 0.2,
            throttled: 0.2,
            failing: 0.15,
            hanging: 0.1,
            malformed: 0.1,
            assume_denied: 0.3,
        };
        let world = World::synthetic(8, 3, 1, mix, 0);
        let mut expected: HashMap<(String, Option<String>), FaultKind> = HashMap::new();
        for fault in world.injected_faults() {
            expected.insert((fault.account, fault.region), fault.kind);
        }
        // 7 members × 30% → 2 accounts; 6 × 3 = 18 scopes: 4 + 4 + 3 + 2 + 2 faulty.
        assert_eq!(expected.len(), 2 + 15);
        assert_eq!(crate::organizations::test_world::ROLE, SYNTHETIC_ROLE);
        let mock = MockCloud::start(world).await.unwrap();
        let mut seen = HashMap::new();
        for n in 0..8 {
            let account = synthetic_account(n);
            let key = if n == 0 {
                // The management account answers to any key.
                "AKIDBENCH".to_string()
            } else {
                // The shared test helpers assume the same role name.
                let reply = assume_role(&mock, "AKIDBENCH", &role_arn(&account), "").await;
                if reply.status == 403 {
                    assert_eq!(xml_value(&reply.body, "Code"), Some("AccessDenied"));
                    seen.insert((account.clone(), None), FaultKind::Denied);
                    continue;
                }
                assert_eq!(reply.status, 200, "{}", reply.body);
                xml_value(&reply.body, "AccessKeyId").unwrap().to_string()
            };
            for r in 0..3 {
                let region = synthetic_region(r);
                if let Some(kind) = observed(&mock, &key, &region).await {
                    seen.insert((account.clone(), Some(region)), kind);
                }
            }
        }
        assert_eq!(seen, expected);
    }

    #[tokio::test]
    async fn a_thousand_accounts_build_fast_and_list_in_pages_of_twenty() {
        let started = Instant::now();
        let world = World::synthetic(1000, 17, 1, ISSUE_MIX, 50);
        let built = started.elapsed();
        let copy = world.clone();
        let started = Instant::now();
        let state = crate::MockState::new(copy);
        let indexed = started.elapsed();
        eprintln!("synthetic 1000 × 17 × 1: built in {built:?}, indexed in {indexed:?}");
        assert_eq!(state.world.aws.sessions.len(), 17_000);
        // Generous for a debug build on a busy machine; a release build takes milliseconds.
        assert!(
            built + indexed < Duration::from_secs(5),
            "{built:?} + {indexed:?}"
        );

        let mut world = world;
        world.aws.faults.clear();
        let mock = MockCloud::start(world).await.unwrap();
        let mut body = serde_json::json!({});
        let mut ids = Vec::new();
        for _ in 0..60 {
            let page = list_accounts(&mock, "AKIDBENCH", &body.to_string())
                .await
                .json();
            let accounts = page["Accounts"].as_array().unwrap();
            assert!(accounts.len() <= 20);
            ids.extend(
                accounts
                    .iter()
                    .map(|a| a["Id"].as_str().unwrap().to_string()),
            );
            match page.get("NextToken") {
                Some(token) => body["NextToken"] = token.clone(),
                None => break,
            }
        }
        let expected: Vec<String> = (0..1000).map(synthetic_account).collect();
        assert_eq!(ids, expected);
        assert_eq!(mock.requests().len(), 50);
    }

    /// `cargo test -p mirrorguard-mocks --release -- --ignored --nocapture request_cost`:
    /// the mean time of a DescribeTrafficMirrorSessions round trip (a fresh connection each)
    /// in a one-account world and in a 1,000 × 17 one.
    #[tokio::test]
    #[ignore]
    async fn request_cost_does_not_grow_with_the_world() {
        let mut means = Vec::new();
        for accounts in [1, 1000] {
            let mock = MockCloud::start(World::synthetic(accounts, 17, 1, FaultMix::default(), 0))
                .await
                .unwrap();
            let last = synthetic_account(accounts - 1);
            let key = if accounts == 1 {
                "AKIDBENCH".to_string()
            } else {
                let reply = assume_role(&mock, "AKIDBENCH", &role_arn(&last), "").await;
                xml_value(&reply.body, "AccessKeyId").unwrap().to_string()
            };
            let region = synthetic_region(16);
            for _ in 0..50 {
                observed(&mock, &key, &region).await;
            }
            let n = 2000;
            let started = Instant::now();
            for _ in 0..n {
                assert_eq!(observed(&mock, &key, &region).await, None);
            }
            let mean = started.elapsed() / n;
            eprintln!("{accounts} accounts × 17 regions: {mean:?} per request");
            means.push(mean);
        }
        assert!(
            means[1] < means[0] * 2 + Duration::from_micros(200),
            "{means:?}"
        );
    }
}
