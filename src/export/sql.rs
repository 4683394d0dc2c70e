//! SQL exports: Amazon Athena (Trino SQL) over the CloudTrail table, and BigQuery over a Cloud
//! Logging sink of GCP's Admin Activity audit log.
//!
//! Both return one row per change with the built-in matcher's de-duplication: Athena keeps one
//! delivery of each `eventid`; BigQuery keeps one delivery of each `insertId` (unique per
//! project and timestamp only) and folds a long-running operation's entries (`operation.id`)
//! into one change whose outcome is its last final entry's. Window functions and plain
//! aggregates only, so each query also parses and runs where the tests transpile it (DuckDB).

use super::{names, operations, single_quoted as quoted, title, Selection, AWS_DRY_RUN_CODES};
use crate::audit::rule::{Operation, AWS_EVENT_SOURCE, GCP_SERVICE_NAME};
use crate::model::Provider;
use std::fmt::Write;

/// The table name the Athena export reads (the Athena documentation's).
pub const ATHENA_TABLE: &str = "cloudtrail_logs";
/// The table the BigQuery export reads: a sink's partitioned Admin Activity table.
pub const BIGQUERY_TABLE: &str = "`PROJECT.DATASET.cloudaudit_googleapis_com_activity`";

fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| quoted(i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `CASE column WHEN 'name' THEN 'value' … END` over the provider's operations.
fn case_of(
    column: &str,
    provider: Provider,
    value: impl Fn(&Operation) -> &'static str,
    indent: &str,
) -> String {
    let mut out = format!("CASE {column}\n");
    for op in operations(provider) {
        let _ = writeln!(
            out,
            "{indent}  WHEN {} THEN {}",
            quoted(op.name),
            quoted(value(op))
        );
    }
    let _ = write!(out, "{indent}END");
    out
}

fn header(out: &mut String, selection: &Selection, lines: &[&str]) {
    let _ = writeln!(out, "-- {}", title(selection));
    for line in lines {
        let _ = writeln!(out, "-- {line}");
    }
    let _ = writeln!(
        out,
        "-- {}",
        if selection.include_attempts {
            "Failed calls are reported too (outcome = 'failure'): refused calls and DryRun probes are attempts, not changes."
        } else {
            "Successful changes only; `mirrorguard rule export --include-attempts` adds refused calls and DryRun probes."
        }
    );
}

/// The Athena (Trino SQL) query over the CloudTrail table.
pub fn athena(selection: &Selection) -> String {
    let mut out = String::new();
    header(
        &mut out,
        selection,
        &[
            "Amazon Athena (Trino SQL) over the CloudTrail table of the Athena documentation",
            "(\"Querying AWS CloudTrail logs\": CREATE EXTERNAL TABLE cloudtrail_logs, CloudTrail SerDe).",
            "Replace cloudtrail_logs with your table, and bound the scan by a partition or eventtime.",
            "One row per change: a record delivered twice (the same eventid) counts once.",
        ],
    );
    let failed = "COALESCE(errorcode, '') <> ''";
    let _ = writeln!(out, "WITH matched AS (");
    let _ = writeln!(out, "  SELECT");
    for column in [
        "eventtime",
        "eventid",
        "eventname",
        "recipientaccountid",
        "awsregion",
        "useridentity.arn AS actor_session",
        // An assumed-role session is its role (CONTRACTS §4).
        "CASE WHEN useridentity.type = 'AssumedRole' THEN COALESCE(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn) ELSE useridentity.arn END AS actor",
        "sourceipaddress",
        "errorcode",
    ] {
        let _ = writeln!(out, "    {column},");
    }
    let _ = writeln!(
        out,
        "    ROW_NUMBER() OVER (PARTITION BY eventid ORDER BY eventtime) AS delivery"
    );
    let _ = writeln!(out, "  FROM {ATHENA_TABLE}");
    let _ = writeln!(out, "  WHERE eventsource = {}", quoted(AWS_EVENT_SOURCE));
    let _ = writeln!(
        out,
        "    AND eventname IN ({})",
        quoted_list(&names(Provider::Aws))
    );
    if !selection.include_attempts {
        let _ = writeln!(out, "    AND NOT {failed}");
    }
    let _ = writeln!(out, ")");
    let _ = writeln!(out, "SELECT");
    let _ = writeln!(out, "  eventtime AS event_time,");
    let _ = writeln!(out, "  eventid AS record_id,");
    let _ = writeln!(out, "  eventname AS operation,");
    let _ = writeln!(
        out,
        "  {} AS rule,",
        case_of("eventname", Provider::Aws, |op| op.id, "  ")
    );
    let _ = writeln!(
        out,
        "  {} AS lifecycle,",
        case_of("eventname", Provider::Aws, |op| op.lifecycle.as_str(), "  ")
    );
    let _ = writeln!(
        out,
        "  CASE WHEN {failed} THEN 'failure' ELSE 'success' END AS outcome,"
    );
    let _ = writeln!(
        out,
        "  COALESCE(errorcode IN ({}), FALSE) AS dry_run,",
        quoted_list(&AWS_DRY_RUN_CODES)
    );
    let _ = writeln!(out, "  errorcode AS error_code,");
    let _ = writeln!(out, "  recipientaccountid AS account,");
    let _ = writeln!(out, "  awsregion AS region,");
    let _ = writeln!(out, "  actor,");
    let _ = writeln!(out, "  actor_session,");
    let _ = writeln!(out, "  sourceipaddress AS source_ip,");
    severity_column(&mut out, "eventname", Provider::Aws, failed, selection);
    let _ = writeln!(out, "FROM matched");
    let _ = writeln!(out, "WHERE delivery = 1 OR eventid IS NULL");
    let _ = writeln!(out, "ORDER BY eventtime, eventid");
    out
}

/// `severity`: the catalogue's, one step lower for a failed attempt.
fn severity_column(
    out: &mut String,
    column: &str,
    provider: Provider,
    failed: &str,
    selection: &Selection,
) {
    let base = case_of(column, provider, |op| op.severity.as_str(), "  ");
    if selection.include_attempts {
        let lowered = case_of(
            column,
            provider,
            |op| op.severity.lowered().as_str(),
            "    ",
        );
        let _ = writeln!(
            out,
            "  CASE WHEN {failed} THEN\n    {lowered}\n  ELSE\n    {}\n  END AS severity",
            base.replace("\n  ", "\n    ")
        );
    } else {
        let _ = writeln!(out, "  {base} AS severity");
    }
}

/// The BigQuery query over a sink's Admin Activity table.
pub fn bigquery(selection: &Selection) -> String {
    let mut out = String::new();
    header(
        &mut out,
        selection,
        &[
            "BigQuery (GoogleSQL) over a Cloud Logging sink of the Admin Activity audit log: the",
            "partitioned table cloudaudit_googleapis_com_activity (for date-sharded tables use",
            "cloudaudit_googleapis_com_activity_* and a _TABLE_SUFFIX condition). Replace PROJECT.DATASET.",
            "One row per change: an insertId delivered twice counts once (per project and timestamp), and",
            "a long-running operation's first and last entries (operation.id) are one change whose",
            "outcome is its last final entry's.",
        ],
    );
    let _ = writeln!(out, "WITH matched AS (");
    let _ = writeln!(out, "  SELECT");
    for column in [
        "timestamp",
        "insertId AS insert_id",
        // The project, else the organisation, folder or billing account whose log it is.
        "COALESCE(NULLIF(resource.labels.project_id, ''), REGEXP_EXTRACT(protopayload_auditlog.resourceName, r'(?:^|/)projects/([^/]+)'), REGEXP_EXTRACT(logName, r'^projects/([^/]+)/logs/'), REGEXP_EXTRACT(logName, r'^((?:organizations|folders|billingAccounts)/[^/]+)/logs/'), '') AS project",
        "protopayload_auditlog.methodName AS method_name",
        "protopayload_auditlog.resourceName AS resource_name",
        "protopayload_auditlog.authenticationInfo.principalEmail AS actor",
        "protopayload_auditlog.requestMetadata.callerIp AS source_ip",
        "protopayload_auditlog.status.code AS status_code",
        "COALESCE(protopayload_auditlog.status.code, 0) <> 0 AS failed",
        "operation.id AS operation_id",
    ] {
        let _ = writeln!(out, "    {column},");
    }
    // A first entry that is not also the last only says the operation started.
    let _ = writeln!(
        out,
        "    NOT (COALESCE(operation.first, FALSE) AND NOT COALESCE(operation.last, FALSE)) AS final"
    );
    let _ = writeln!(out, "  FROM {BIGQUERY_TABLE}");
    let _ = writeln!(
        out,
        "  WHERE protopayload_auditlog.serviceName = {}",
        quoted(GCP_SERVICE_NAME)
    );
    let _ = writeln!(
        out,
        "    AND REGEXP_CONTAINS(protopayload_auditlog.methodName, r{})",
        quoted(&super::gcp_method_regex())
    );
    let _ = writeln!(out, "),");
    let _ = writeln!(out, "delivered AS (");
    let _ = writeln!(
        out,
        "  SELECT *, COALESCE(CONCAT(project, '|', operation_id), CONCAT(project, '|', CAST(timestamp AS STRING), '|', insert_id)) AS change_id"
    );
    let _ = writeln!(out, "  FROM matched");
    let _ = writeln!(out, "  WHERE TRUE");
    let _ = writeln!(
        out,
        "  QUALIFY ROW_NUMBER() OVER (PARTITION BY project, timestamp, insert_id ORDER BY final DESC) = 1"
    );
    let _ = writeln!(out, "),");
    let _ = writeln!(out, "ordered AS (");
    let _ = writeln!(out, "  SELECT *,");
    let _ = writeln!(
        out,
        "    ROW_NUMBER() OVER (PARTITION BY change_id ORDER BY timestamp, insert_id) AS from_start,"
    );
    let _ = writeln!(
        out,
        "    ROW_NUMBER() OVER (PARTITION BY change_id ORDER BY final DESC, timestamp DESC, insert_id DESC) AS from_end"
    );
    let _ = writeln!(out, "  FROM delivered");
    let _ = writeln!(out, "),");
    let _ = writeln!(out, "changes AS (");
    let _ = writeln!(out, "  SELECT");
    let _ = writeln!(out, "    change_id,");
    let _ = writeln!(out, "    MIN(timestamp) AS event_time,");
    for (column, name) in [
        ("method_name", "operation"),
        ("project", "project"),
        ("resource_name", "resource"),
    ] {
        let _ = writeln!(
            out,
            "    MAX(IF(from_start = 1, {column}, NULL)) AS {name},"
        );
    }
    for column in ["actor", "source_ip"] {
        let _ = writeln!(out, "    MAX({column}) AS {column},");
    }
    let _ = writeln!(
        out,
        "    MAX(IF(from_end = 1, status_code, NULL)) AS status_code,"
    );
    // The last final entry decides; without one (the operation's end not in the logs), any
    // failure does: a security query must not assume an accepted change later failed.
    let _ = writeln!(
        out,
        "    LOGICAL_OR(from_end = 1 AND failed) OR (NOT LOGICAL_OR(final) AND LOGICAL_OR(failed)) AS failed,"
    );
    let _ = writeln!(out, "    COUNT(*) AS records,");
    let _ = writeln!(
        out,
        "    STRING_AGG(insert_id, ',' ORDER BY timestamp, insert_id) AS record_ids"
    );
    let _ = writeln!(out, "  FROM ordered");
    let _ = writeln!(out, "  GROUP BY change_id");
    let _ = writeln!(out, ")");
    let _ = writeln!(out, "SELECT");
    let _ = writeln!(out, "  event_time,");
    let _ = writeln!(out, "  record_ids,");
    let _ = writeln!(out, "  operation,");
    let catalogued = "REGEXP_REPLACE(operation, r'^(v[0-9][A-Za-z0-9]*|beta|alpha)\\.', '')";
    let _ = writeln!(
        out,
        "  {} AS rule,",
        case_of(catalogued, Provider::Gcp, |op| op.id, "  ")
    );
    let _ = writeln!(
        out,
        "  {} AS lifecycle,",
        case_of(catalogued, Provider::Gcp, |op| op.lifecycle.as_str(), "  ")
    );
    let _ = writeln!(
        out,
        "  CASE WHEN failed THEN 'failure' ELSE 'success' END AS outcome,"
    );
    let _ = writeln!(out, "  status_code,");
    let _ = writeln!(out, "  project AS account,");
    let _ = writeln!(out, "  resource,");
    let _ = writeln!(out, "  actor,");
    let _ = writeln!(out, "  source_ip,");
    let _ = writeln!(out, "  records,");
    severity_column(&mut out, catalogued, Provider::Gcp, "failed", selection);
    let _ = writeln!(out, "FROM changes");
    if !selection.include_attempts {
        let _ = writeln!(out, "WHERE NOT failed");
    }
    let _ = writeln!(out, "ORDER BY event_time, change_id");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::ExportFormat;

    #[test]
    fn athena_names_every_aws_write_once_and_gates_on_the_outcome() {
        let changes = Selection::new(ExportFormat::SqlAthena, &[], false).unwrap();
        let sql = athena(&changes);
        for name in names(Provider::Aws) {
            assert!(sql.contains(&format!("'{name}'")), "{name}");
        }
        assert!(sql.contains("AND NOT COALESCE(errorcode, '') <> ''"));
        let attempts = Selection::new(ExportFormat::SqlAthena, &[], true).unwrap();
        assert!(!athena(&attempts).contains("AND NOT COALESCE(errorcode"));
        assert!(crate::export::regex_escape("a.b").contains("\\."));
    }
}
