//! The sanction rule (CONTRACTS §3): was a change made by someone the allowlist trusts?
//!
//! A change is sanctioned by a `[[principals]]` entry that was not expired when the change was
//! made, names the change's provider and actor (the AWS role, or the exact session), admits
//! its account, and — when the record names a destination — only if that destination is
//! approved by a `[[targets]]` entry (deletes need no approved destination: removing a mirror
//! is never exfiltration). A record of a call that always names its destination (catalogue
//! `names_destination`) but arrived without one is not sanctioned by an actor's approval: the
//! destination is unknown, not absent. An `[[engagements]]` window sanctions any change by its
//! actor inside `[starts, ends)`; an engagement restricted to `targets` sanctions only changes
//! whose record names one of them (a record that names no destination cannot be shown to stay
//! inside the engagement, so it is not sanctioned by it). Everything else is unsanctioned.

use super::rule::{self, Lifecycle};
use super::{AuditEvent, AuditVerdict};
use crate::allowlist::{glob_matches, normalize_target, Allowlist, EntryRef, Verdict};
use crate::model::{Provider, Target};
use time::OffsetDateTime;

/// Decides every event in place. `now` stands in for the time of an undated record.
pub fn apply(events: &mut [AuditEvent], allowlist: &Allowlist, now: OffsetDateTime) {
    for event in events {
        let (verdict, by, reason) = decide(event, allowlist, now);
        event.verdict = verdict;
        event.sanctioned_by = by;
        event.verdict_reason = reason;
    }
}

fn decide(
    event: &AuditEvent,
    allowlist: &Allowlist,
    now: OffsetDateTime,
) -> (AuditVerdict, Option<EntryRef>, String) {
    let at = event.time.unwrap_or(now);
    let Some(actor) = event.actor.as_deref() else {
        return (
            AuditVerdict::Unsanctioned,
            None,
            "the record names no actor".to_string(),
        );
    };
    let actors: Vec<String> = std::iter::once(actor)
        .chain(event.actor_session.as_deref())
        .map(str::to_lowercase)
        .collect();
    let actor_matches = |pattern: &str| actors.iter().any(|a| glob_matches(pattern, a));

    let mut refused_for_target = None;
    let mut refused_without_destination = None;
    let destination_expected = names_destination(event);
    for entry in &allowlist.principals {
        if entry.provider != event.provider || !actor_matches(&entry.actor.normalized) {
            continue;
        }
        if entry
            .meta
            .expires
            .as_ref()
            .is_some_and(|e| e.has_passed(at))
        {
            continue;
        }
        if let (Some(accounts), Some(account)) = (&entry.accounts, &event.account) {
            let account = match event.provider {
                Provider::Azure => account.to_lowercase(),
                _ => account.clone(),
            };
            if !accounts.contains(&account) {
                continue;
            }
        } else if entry.accounts.is_some() {
            continue;
        }
        if event.lifecycle != Lifecycle::Delete {
            if let Some(target) = &event.target {
                if !target_approved(event, target, allowlist, at) {
                    refused_for_target.get_or_insert(entry.meta.reference.clone());
                    continue;
                }
            } else if destination_expected {
                refused_without_destination.get_or_insert(entry.meta.reference.clone());
                continue;
            }
        }
        let reason = match (&event.target, event.lifecycle) {
            (Some(_), Lifecycle::Create | Lifecycle::Modify) => format!(
                "actor approved by {} and destination approved",
                entry.meta.reference
            ),
            (None, Lifecycle::Create | Lifecycle::Modify) => format!(
                "actor approved by {}; the record names no destination (target: unknown)",
                entry.meta.reference
            ),
            (_, Lifecycle::Delete) => {
                format!("a delete by an actor approved by {}", entry.meta.reference)
            }
        };
        return (AuditVerdict::Sanctioned, Some((&entry.meta).into()), reason);
    }

    for entry in &allowlist.engagements {
        if entry.provider.is_some_and(|p| p != event.provider)
            || !actor_matches(&entry.actor.normalized)
        {
            continue;
        }
        if at < entry.starts || at >= entry.ends {
            continue;
        }
        if let Some(targets) = &entry.targets {
            let named = event
                .target
                .iter()
                .chain(event.target_resolved.iter())
                .any(|t| {
                    let t = normalize_target(event.provider, t);
                    targets.iter().any(|p| {
                        glob_matches(&p.normalized, &t)
                            || glob_matches(&p.normalized, &t.to_lowercase())
                    })
                });
            if !named {
                continue;
            }
        }
        return (
            AuditVerdict::Sanctioned,
            Some((&entry.meta).into()),
            format!("inside the engagement window of {}", entry.meta.reference),
        );
    }

    let reason = match (refused_for_target, refused_without_destination) {
        (Some(reference), _) => format!(
            "the actor is approved by {reference}, but the destination {} is not approved",
            event.target.as_deref().unwrap_or("")
        ),
        (None, Some(reference)) => format!(
            "the actor is approved by {reference}, but this record of {} lacks the destination the call always names (cut down on the way, e.g. a UDM event), so it cannot be checked",
            event.operation
        ),
        (None, None) => "no [[principals]] or [[engagements]] entry covers this actor".to_string(),
    };
    (AuditVerdict::Unsanctioned, None, reason)
}

/// Whether the call the event records always names its destination (the original rule's
/// events are looked up by name).
fn names_destination(event: &AuditEvent) -> bool {
    let operation = rule::by_id(event.rule).or_else(|| match event.provider {
        Provider::Aws => rule::aws(rule::AWS_EVENT_SOURCE, &event.operation),
        Provider::Gcp => rule::gcp(None, &event.operation),
        Provider::Azure => rule::azure(&event.operation),
        Provider::Network => None,
    });
    operation.is_some_and(|op| op.names_destination)
}

/// Whether a `[[targets]]` entry valid at `at` approves the destination the record names, for
/// the change's own account and region (an AWS `tmt-…` by itself or by what it resolves to).
pub fn target_approved(
    event: &AuditEvent,
    target: &str,
    allowlist: &Allowlist,
    at: OffsetDateTime,
) -> bool {
    let destination = Target {
        kind: String::new(),
        id: event
            .target_resolved
            .clone()
            .unwrap_or_else(|| target.to_string()),
        owner: None,
        mirror_target_id: Some(target.to_string()),
        port: None,
        description: None,
    };
    let account = event.account.as_deref().unwrap_or("");
    let verdict = allowlist.verdict_for(
        |entry| {
            entry.provider == event.provider
                && entry.names(&destination, event.provider)
                && entry.admits_scope(account, event.region.as_deref())
        },
        at,
    );
    matches!(verdict, Verdict::Approved(_))
}
