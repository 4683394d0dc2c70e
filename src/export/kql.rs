//! KQL for Microsoft Sentinel: the `AWSCloudTrail`, `AzureActivity` and `GCPAuditLogs` tables
//! of the Sentinel data connectors, one `let` per cloud and their union.
//!
//! Column names are the Azure Monitor table reference's. De-duplication is the built-in
//! matcher's where the table allows: one `AwsEventId`; Azure records grouped by (CorrelationId,
//! resource id, operation) in lower case with the latest final record's status. The
//! `GCPAuditLogs` table keeps no operation id, so a GCP long-running operation's first and
//! last entries stay two rows (the export says so in a comment).

use super::{
    double_quoted as quoted, gcp_method_regex, names, title, Selection, AWS_DRY_RUN_CODES,
    AZURE_FAILURE, AZURE_INTERMEDIATE,
};
use crate::audit::rule::{AWS_EVENT_SOURCE, GCP_SERVICE_NAME};
use crate::model::Provider;
use std::fmt::Write;

fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| quoted(i))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn render(selection: &Selection) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "// {}", title(selection));
    let _ = writeln!(
        out,
        "// Microsoft Sentinel: AWSCloudTrail, AzureActivity and GCPAuditLogs. Set the time range in the query pane."
    );
    let _ = writeln!(
        out,
        "// {}",
        if selection.include_attempts {
            "Failed calls are reported too (Outcome == \"failure\")."
        } else {
            "Successful changes only (mirrorguard rule export --include-attempts adds failed calls)."
        }
    );
    let mut parts = Vec::new();
    if selection.has(Provider::Aws) {
        parts.push("aws");
        let _ = writeln!(out, "let aws = AWSCloudTrail");
        let _ = writeln!(
            out,
            "    | where EventSource == {} and EventName in ({})",
            quoted(AWS_EVENT_SOURCE),
            list(&names(Provider::Aws))
        );
        if !selection.include_attempts {
            let _ = writeln!(out, "    | where isempty(ErrorCode)");
        }
        let _ = writeln!(
            out,
            "    | summarize arg_min(TimeGenerated, *) by AwsEventId"
        );
        let _ = writeln!(out, "    | project TimeGenerated, Provider = \"aws\", Account = RecipientAccountId, Region = AWSRegion,");
        let _ = writeln!(out, "        Operation = EventName, Outcome = iff(isempty(ErrorCode), \"success\", \"failure\"),");
        let _ = writeln!(
            out,
            "        DryRun = ErrorCode in ({}), ErrorCode,",
            list(&AWS_DRY_RUN_CODES)
        );
        let _ = writeln!(out, "        Actor = iff(UserIdentityType == \"AssumedRole\" and isnotempty(SessionIssuerArn), SessionIssuerArn, UserIdentityArn), ActorSession = UserIdentityArn,");
        let _ = writeln!(out, "        SourceIp = SourceIpAddress, Resource = \"\", RecordIds = pack_array(AwsEventId);");
    }
    if selection.has(Provider::Azure) {
        parts.push("azure");
        let _ = writeln!(out, "let azure = AzureActivity");
        let _ = writeln!(
            out,
            "    | where OperationNameValue in~ ({})",
            list(&names(Provider::Azure))
        );
        // A record delivered twice: by EventDataId, or (exports without one) by all it says.
        let _ = writeln!(out, "    | extend Delivery = iff(isnotempty(EventDataId), EventDataId, strcat(CorrelationId, \"|\", tostring(TimeGenerated), \"|\", ActivityStatusValue, \"|\", tolower(_ResourceId), \"|\", tolower(OperationNameValue), \"|\", Caller))");
        let _ = writeln!(out, "    | summarize arg_min(TimeGenerated, *) by Delivery");
        let _ = writeln!(
            out,
            "    | extend Final = not(ActivityStatusValue in~ ({}))",
            list(&AZURE_INTERMEDIATE)
        );
        let _ = writeln!(
            out,
            "    | extend Failed = ActivityStatusValue in~ ({})",
            list(&AZURE_FAILURE)
        );
        let _ = writeln!(
            out,
            "    | extend FinalAt = iff(Final, TimeGenerated, datetime(1970-01-01))"
        );
        let _ = writeln!(out, "    | extend Change = strcat(tolower(CorrelationId), \"|\", tolower(_ResourceId), \"|\", tolower(OperationNameValue))");
        let _ = writeln!(out, "    | summarize arg_max(FinalAt, *), Started = min(TimeGenerated), AnyFinal = max(toint(Final)), AnyFailed = max(toint(Failed)),");
        let _ = writeln!(out, "        RecordIds = make_list(EventDataId) by Change");
        // The latest final record decides; without one, any failure does.
        let _ = writeln!(
            out,
            "    | extend Failed = iff(AnyFinal == 1, Failed, AnyFailed == 1)"
        );
        if !selection.include_attempts {
            let _ = writeln!(out, "    | where not(Failed)");
        }
        let _ = writeln!(out, "    | project TimeGenerated = Started, Provider = \"azure\", Account = SubscriptionId, Region = \"\",");
        let _ = writeln!(out, "        Operation = OperationNameValue, Outcome = iff(Failed, \"failure\", \"success\"), DryRun = false,");
        let _ = writeln!(out, "        ErrorCode = iff(Failed, ActivitySubstatusValue, \"\"), Actor = Caller, ActorSession = \"\",");
        let _ = writeln!(
            out,
            "        SourceIp = CallerIpAddress, Resource = _ResourceId, RecordIds;"
        );
    }
    if selection.has(Provider::Gcp) {
        parts.push("gcp");
        let _ = writeln!(
            out,
            "// GCPAuditLogs keeps no operation id (Azure Monitor table reference): a long-running operation's"
        );
        let _ = writeln!(
            out,
            "// first and last entries are two rows here, each with its own status."
        );
        let _ = writeln!(out, "let gcp = GCPAuditLogs");
        let _ = writeln!(
            out,
            "    | where ServiceName == {} and MethodName matches regex {}",
            quoted(GCP_SERVICE_NAME),
            quoted(&gcp_method_regex())
        );
        let _ = writeln!(
            out,
            "    | summarize arg_min(TimeGenerated, *) by ProjectId, Timestamp, InsertId"
        );
        let _ = writeln!(out, "    | extend StatusCode = toint(Status.code)");
        let _ = writeln!(
            out,
            "    | extend Failed = isnotnull(StatusCode) and StatusCode != 0"
        );
        if !selection.include_attempts {
            let _ = writeln!(out, "    | where not(Failed)");
        }
        let _ = writeln!(
            out,
            "    | project TimeGenerated, Provider = \"gcp\", Account = ProjectId, Region = \"\","
        );
        let _ = writeln!(out, "        Operation = MethodName, Outcome = iff(Failed, \"failure\", \"success\"), DryRun = false,");
        let _ = writeln!(out, "        ErrorCode = tostring(StatusCode), Actor = PrincipalEmail, ActorSession = \"\",");
        let _ = writeln!(out, "        SourceIp = tostring(RequestMetadata.callerIp), Resource = GCPResourceName, RecordIds = pack_array(InsertId);");
    }
    let _ = writeln!(out, "union {}", parts.join(", "));
    let _ = writeln!(out, "| sort by TimeGenerated asc");
    out
}
