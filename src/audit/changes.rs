//! One change, one event: collapsing the log records of a change into a single [`AuditEvent`].
//!
//! Records collapse in two steps. The same record delivered twice (one CloudTrail `eventID`,
//! GCP `insertId`, Azure `eventDataId`) counts once. The records of one change then become one
//! event: the first and last entries of a GCP long-running operation (`operation.id`), the
//! Started and Succeeded/Failed records of one Azure operation (correlationId, resource id,
//! operation name — not the correlationId alone, which a whole ARM deployment shares). The
//! event takes its time from the earliest record and its outcome from the final one; a change
//! whose final record is not in the input keeps the outcome of the records it has (a Started
//! record counts as a success: the request was accepted, and a security tool must not assume
//! it later failed).

use super::rule::{self, Lifecycle};
use super::{seed, AuditEvent, AuditVerdict, Observed, Outcome, Phase};
use crate::model::Provider;
use std::collections::{BTreeMap, HashSet};

/// The events the corrected rule reports: catalogue matches, de-duplicated and grouped.
/// `created` resolves `tmt-…` ids ([`created_mirror_targets`], from every record read, the
/// window aside: a target made last month is still what a session made today points at).
pub fn corrected(calls: &[&Observed], created: &BTreeMap<&str, &str>) -> Vec<AuditEvent> {
    let mut groups: Vec<Vec<&Observed>> = Vec::new();
    let mut group_of: BTreeMap<(Provider, String), usize> = BTreeMap::new();
    let mut seen_records = HashSet::new();
    for &call in calls {
        if rule::for_call(call).is_none() {
            continue;
        }
        // The same record delivered twice: by its own id, or, in exports that have none
        // (Azure diagnostic settings), by everything it says.
        let identity = match &call.record_id {
            // A GCP insertId is unique per project and timestamp only.
            Some(id) if call.provider == Provider::Gcp => format!(
                "{}|{:?}|{id}",
                call.account.as_deref().unwrap_or_default(),
                call.time
            ),
            Some(id) => id.clone(),
            None => format!(
                "{:?}|{:?}|{:?}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
                call.change_id,
                call.time,
                call.account,
                call.operation.to_lowercase(),
                call.resource.as_deref().map(str::to_lowercase),
                call.target,
                call.actor,
                call.actor_session,
                call.source_ip,
                call.phase,
                call.outcome,
                call.error_code
            ),
        };
        if !seen_records.insert((call.provider, identity)) {
            continue;
        }
        match &call.change_id {
            Some(change) => {
                let key = (call.provider, change_key(call.provider, change));
                match group_of.get(&key) {
                    Some(&index) => groups[index].push(call),
                    None => {
                        group_of.insert(key, groups.len());
                        groups.push(vec![call]);
                    }
                }
            }
            None => groups.push(vec![call]),
        }
    }
    let mut events: Vec<AuditEvent> = groups
        .into_iter()
        .filter_map(|group| event_of(group, created))
        .collect();
    sort(&mut events);
    events
}

/// The events the original rule raises: one per record it fires on, no de-duplication and no
/// outcome gate, exactly as the Chronicle rule behaves.
pub fn seed(calls: &[&Observed], created: &BTreeMap<&str, &str>) -> Vec<AuditEvent> {
    let mut events: Vec<AuditEvent> = calls
        .iter()
        .copied()
        .filter(|call| seed::fires(call))
        .filter_map(|call| {
            let mut event = event_of(vec![call], created)?;
            event.rule = seed::RULE_ID;
            Some(event)
        })
        .collect();
    sort(&mut events);
    events
}

/// Azure ids and names compare case-insensitively; exports differ in case for one change.
pub fn change_key(provider: Provider, change: &str) -> String {
    match provider {
        Provider::Azure => change.to_lowercase(),
        _ => change.to_string(),
    }
}

/// `tmt-…` → the resource it sends to, from every successful CreateTrafficMirrorTarget.
pub fn created_mirror_targets(calls: &[Observed]) -> BTreeMap<&str, &str> {
    calls
        .iter()
        .filter(|c| c.outcome == Outcome::Success)
        .filter_map(|c| Some((c.created_mirror_target.as_deref()?, c.target.as_deref()?)))
        .collect()
}

fn event_of(mut records: Vec<&Observed>, created: &BTreeMap<&str, &str>) -> Option<AuditEvent> {
    // Earliest first; records without a time keep their input order after those with one.
    records.sort_by_key(|r| (r.time.is_none(), r.time));
    let first = *records.first()?;
    let last = records
        .iter()
        .rev()
        .find(|r| r.phase == Phase::Final)
        .copied()
        .unwrap_or_else(|| records[records.len() - 1]);
    let pick = |field: fn(&Observed) -> Option<&String>| -> Option<String> {
        std::iter::once(last)
            .chain(records.iter().copied())
            .find_map(|r| field(r).cloned())
    };
    let operation = rule::for_call(first);
    let lifecycle = match operation {
        Some(op)
            if op.provider == Provider::Azure
                && op.lifecycle == Lifecycle::Create
                && op.name.ends_with("/write")
                && last.updated_existing =>
        {
            Lifecycle::Modify
        }
        Some(op) => op.lifecycle,
        None => lifecycle_from_name(&first.operation),
    };
    let outcome = if records.iter().any(|r| r.phase == Phase::Final) {
        last.outcome
    } else {
        records
            .iter()
            .map(|r| r.outcome)
            .max()
            .unwrap_or(Outcome::Success)
    };
    let base = operation.map_or(crate::posture::Severity::High, |op| op.severity);
    let severity = if outcome == Outcome::Failure {
        base.lowered()
    } else {
        base
    };
    let target = pick(|r| r.target.as_ref());
    let target_resolved = target
        .as_deref()
        .and_then(|t| created.get(t))
        .filter(|resolved| Some(**resolved) != target.as_deref())
        .map(|resolved| resolved.to_string());
    Some(AuditEvent {
        time: first.time,
        provider: first.provider,
        account: pick(|r| r.account.as_ref()),
        region: pick(|r| r.region.as_ref()),
        operation: first.operation.clone(),
        lifecycle,
        outcome,
        dry_run: records.iter().any(|r| r.dry_run),
        error_code: if outcome == Outcome::Failure {
            pick(|r| r.error_code.as_ref())
        } else {
            None
        },
        actor: pick(|r| r.actor.as_ref()),
        actor_session: pick(|r| r.actor_session.as_ref()),
        source_ip: pick(|r| r.source_ip.as_ref()),
        invoked_by: pick(|r| r.invoked_by.as_ref()),
        resource: pick(|r| r.resource.as_ref()),
        target,
        target_resolved,
        verdict: AuditVerdict::Unsanctioned,
        sanctioned_by: None,
        verdict_reason: String::new(),
        rule: operation.map_or(seed::RULE_ID, |op| op.id),
        severity,
        records: records.len(),
        record_ids: {
            let mut ids: Vec<String> = records.iter().filter_map(|r| r.record_id.clone()).collect();
            ids.dedup();
            ids
        },
        location: first.location.clone(),
    })
}

/// For the original rule's hits outside the catalogue: the verb the name starts its action
/// with (`patchPacketMirroringRule` → modify).
fn lifecycle_from_name(name: &str) -> Lifecycle {
    let action = name
        .rsplit(['.', '/'])
        .next()
        .unwrap_or(name)
        .to_lowercase();
    let last = name.to_lowercase();
    if ["create", "insert", "add"]
        .iter()
        .any(|v| action.starts_with(v))
        || last.ends_with("/write")
    {
        Lifecycle::Create
    } else if ["delete", "remove"].iter().any(|v| action.starts_with(v))
        || last.ends_with("/delete")
    {
        Lifecycle::Delete
    } else {
        Lifecycle::Modify
    }
}

/// Time order (undated last), then where the record was: deterministic whatever the threads.
fn sort(events: &mut [AuditEvent]) {
    events.sort_by(|a, b| {
        (a.time.is_none(), a.time, &a.location).cmp(&(b.time.is_none(), b.time, &b.location))
    });
}
