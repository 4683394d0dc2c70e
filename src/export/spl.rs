//! SPL for Splunk: one search per cloud, appended.
//!
//! Source types are the Splunk add-ons' (named, since Splunk has no single standard):
//! `aws:cloudtrail` (Splunk Add-on for AWS); `mscs:azure:eventhub` (Splunk Add-on for
//! Microsoft Cloud Services, the Activity Log streamed through an Event Hub: each record under
//! `body.`); `google:gcp:pubsub:message` (Splunk Add-on for Google Cloud Platform, a log sink
//! through Pub/Sub: each entry under `data.`). The assumption is printed in the export's header.
//! One change one row, as the built-in matcher counts them: `dedup eventID` for CloudTrail; Azure
//! records and GCP entries grouped into changes by `stats … by change`, which also absorbs a
//! record delivered twice (a `dedup` would drop records that lack the field).

use super::{
    double_quoted as quoted, gcp_method_regex, names, title, Selection, AWS_DRY_RUN_CODES,
    AZURE_FAILURE, AZURE_INTERMEDIATE,
};
use crate::audit::rule::{AWS_EVENT_SOURCE, GCP_SERVICE_NAME};
use crate::model::Provider;
use std::fmt::Write;

pub const AWS_SOURCETYPE: &str = "aws:cloudtrail";
pub const AZURE_SOURCETYPE: &str = "mscs:azure:eventhub";
pub const GCP_SOURCETYPE: &str = "google:gcp:pubsub:message";

/// `field IN ("a", "b")` (Splunk's IN compares case-insensitively, as its `=` does).
fn among(field: &str, values: &[&str]) -> String {
    format!(
        "{field} IN ({})",
        values
            .iter()
            .map(|v| quoted(v))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

pub fn render(selection: &Selection) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "``` {} ```", title(selection));
    let _ = writeln!(
        out,
        "``` Source types (an assumption: set yours): {AWS_SOURCETYPE} (Splunk Add-on for AWS), {AZURE_SOURCETYPE} (Splunk Add-on for Microsoft Cloud Services, Activity Log through an Event Hub), {GCP_SOURCETYPE} (Splunk Add-on for Google Cloud Platform, audit-log sink through Pub/Sub) ```"
    );
    let mut searches = Vec::new();
    if selection.has(Provider::Aws) {
        let mut s = format!(
            "sourcetype={AWS_SOURCETYPE} eventSource={} {}",
            quoted(AWS_EVENT_SOURCE),
            among("eventName", &names(Provider::Aws))
        );
        // Splunk's = is case-insensitive; the catalogue's AWS names are exact.
        let _ = write!(
            s,
            "\n| where {}",
            names(Provider::Aws)
                .iter()
                .map(|n| format!("eventName=={}", quoted(n)))
                .collect::<Vec<_>>()
                .join(" OR ")
        );
        if !selection.include_attempts {
            s.push_str("\n| where isnull(errorCode) OR errorCode==\"\"");
        }
        let _ = write!(
            s,
            "\n| dedup eventID\n| eval provider=\"aws\", account=recipientAccountId, region=awsRegion, operation=eventName, outcome=if(isnull(errorCode) OR errorCode==\"\", \"success\", \"failure\"), dry_run=if({}, \"true\", \"false\"), error_code=errorCode, actor=coalesce('userIdentity.sessionContext.sessionIssuer.arn', 'userIdentity.arn'), actor_session='userIdentity.arn', source_ip=sourceIPAddress, record_ids=eventID",
            AWS_DRY_RUN_CODES
                .iter()
                .map(|c| format!("errorCode=={}", quoted(c)))
                .collect::<Vec<_>>()
                .join(" OR ")
        );
        searches.push(s);
    }
    if selection.has(Provider::Azure) {
        let mut s = format!(
            "sourcetype={AZURE_SOURCETYPE} {}",
            among("body.operationName", &names(Provider::Azure))
        );
        let _ = write!(
            s,
            "\n| eval status=coalesce('body.resultType', 'body.status.value'), final=if({}, 0, 1), failed=if({}, 1, 0)",
            AZURE_INTERMEDIATE
                .iter()
                .map(|v| format!("lower(status)=={}", quoted(&v.to_lowercase())))
                .collect::<Vec<_>>()
                .join(" OR "),
            AZURE_FAILURE
                .iter()
                .map(|v| format!("lower(status)=={}", quoted(&v.to_lowercase())))
                .collect::<Vec<_>>()
                .join(" OR ")
        );
        s.push_str("\n| eval change=lower('body.correlationId'.\"|\".'body.resourceId'.\"|\".'body.operationName'), final_failed=if(final==1, failed, null())");
        // latest() skips events without the field: the latest final record's status decides.
        s.push_str("\n| stats min(_time) AS _time, max(final) AS any_final, max(failed) AS any_failed, latest(final_failed) AS last_final_failed, first('body.operationName') AS operation, first('body.resourceId') AS resource, first('body.callerIpAddress') AS source_ip, first('body.caller') AS actor, values('body.eventDataId') AS record_ids by change");
        s.push_str("\n| eval failed=if(any_final==1, last_final_failed, any_failed)");
        if !selection.include_attempts {
            s.push_str("\n| where failed==0");
        }
        s.push_str("\n| eval provider=\"azure\", outcome=if(failed==1, \"failure\", \"success\"), dry_run=\"false\"");
        searches.push(s);
    }
    if selection.has(Provider::Gcp) {
        let mut s = format!(
            "sourcetype={GCP_SOURCETYPE} \"data.protoPayload.serviceName\"={}",
            quoted(GCP_SERVICE_NAME)
        );
        let _ = write!(
            s,
            "\n| regex \"data.protoPayload.methodName\"={}",
            quoted(&gcp_method_regex())
        );
        s.push_str("\n| eval code=coalesce('data.protoPayload.status.code', 0), failed=if(code!=0 AND code!=\"0\", 1, 0), final=if('data.operation.first'==\"true\" AND NOT 'data.operation.last'==\"true\", 0, 1), project=coalesce('data.resource.labels.project_id', replace('data.logName', \"/logs/.*$\", \"\")), change=if(isnotnull('data.operation.id'), project.\"|\".'data.operation.id', project.\"|\".'data.timestamp'.\"|\".'data.insertId'), final_failed=if(final==1, failed, null())");
        s.push_str("\n| stats min(_time) AS _time, max(final) AS any_final, max(failed) AS any_failed, latest(final_failed) AS last_final_failed, first('data.protoPayload.methodName') AS operation, first(project) AS account, first('data.protoPayload.resourceName') AS resource, first('data.protoPayload.authenticationInfo.principalEmail') AS actor, first('data.protoPayload.requestMetadata.callerIp') AS source_ip, values('data.insertId') AS record_ids by change");
        s.push_str("\n| eval failed=if(any_final==1, last_final_failed, any_failed)");
        if !selection.include_attempts {
            s.push_str("\n| where failed==0");
        }
        s.push_str("\n| eval provider=\"gcp\", outcome=if(failed==1, \"failure\", \"success\"), dry_run=\"false\"");
        searches.push(s);
    }
    let fields = "| table _time provider account region operation outcome dry_run error_code actor actor_session source_ip resource record_ids";
    let mut iter = searches.into_iter();
    if let Some(first) = iter.next() {
        let _ = writeln!(out, "{first}");
        for search in iter {
            let _ = writeln!(out, "| append [search {}]", search.replace('\n', " "));
        }
    }
    let _ = writeln!(out, "{fields}");
    let _ = writeln!(out, "| sort 0 _time");
    out
}
