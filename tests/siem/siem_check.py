"""Runs mirrorguard's SIEM exports where they can run, for tests/it/export.rs.

Each export is executed over the audit fixtures loaded as the table its engine reads, and the
changes it returns are printed as JSON lines, one per row, for the Rust test to compare with
what `mirrorguard audit` reports over the same files:

  sql  --dialect athena|bigquery QUERY FIXTURE...   sqlglot parses QUERY in its own dialect
                                                    (proving it valid there), transpiles it to
                                                    DuckDB, runs it over the fixtures
  kql  QUERY FIXTURE...                             duckdb-kql runs the KQL over AWSCloudTrail
                                                    and AzureActivity tables
  ocsf NDJSON                                       validates OCSF findings with py-ocsf-models

Every row printed is {"operation", "outcome", "time" (RFC 3339, whole seconds, UTC),
"record_ids" (sorted)}. Fixtures are only read; nothing touches the network (DuckDB's extension
autoload is off; json is built into the wheel).

The loaders reshape each provider's log format into the warehouse table's documented shape:
the Athena CloudTrail table (AWS docs, "Querying AWS CloudTrail logs"), the BigQuery sink table
of the Admin Activity log (protoPayload becomes protopayload_auditlog, request/response become
requestJson/responseJson strings), and the Sentinel AWSCloudTrail / AzureActivity tables (Azure
Monitor table reference).
"""

import argparse
import datetime as dt
import gzip
import json
import logging
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def read_records(path):
    """Every record of a fixture, whatever its framing (CloudTrail {"Records":[…]}, Azure
    {"records":[…]} or {"value":[…]}, LookupEvents {"Events":[…]}, a JSON array, NDJSON)."""
    raw = (gzip.open if path.endswith(".gz") else open)(path, "rt", encoding="utf-8").read()
    text = raw.lstrip()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        doc = None
    if isinstance(doc, dict):
        for key in ("Records", "records", "value"):
            if isinstance(doc.get(key), list):
                return doc[key]
        if isinstance(doc.get("Events"), list):
            # LookupEvents: each record is a JSON string in CloudTrailEvent.
            return [json.loads(e["CloudTrailEvent"]) for e in doc["Events"]]
        return [doc]
    if isinstance(doc, list):
        return doc
    records = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            pass  # a damaged line: mirrorguard counts it as malformed; no engine would load it
    return records


def connect():
    import duckdb

    con = duckdb.connect()
    con.sql(
        "SET autoinstall_known_extensions=false; SET autoload_known_extensions=false; "
        "SET TimeZone='UTC'"
    )
    return con


def load_rows(con, table, rows):
    """Inserts dicts into an existing table through read_json with the table's own column types:
    unknown struct keys are dropped and missing ones are NULL, as Hive's JsonSerDe and the
    BigQuery sink behave."""
    columns = {name: kind for name, kind, *_ in con.sql(f"DESCRIBE {table}").fetchall()}
    with tempfile.NamedTemporaryFile("w", suffix=".ndjson", delete=False) as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    spec = "{" + ", ".join(f"'{n}': '{t}'" for n, t in columns.items()) + "}"
    try:
        con.sql(
            f"INSERT INTO {table} SELECT * FROM read_json('{handle.name}', "
            f"format='newline_delimited', columns={spec})"
        )
    finally:
        os.unlink(handle.name)


def lower_keys(value):
    if isinstance(value, dict):
        return {k.lower(): lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lower_keys(v) for v in value]
    return value


def hive_string(value):
    """What Hive's JsonSerDe stores in a STRING column for a JSON value."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"))


def is_cloudtrail(record):
    return "eventName" in record and "eventSource" in record


def is_log_entry(record):
    return "protoPayload" in record


def is_azure(record):
    return "operationName" in record and not is_log_entry(record)


# ---- Athena -------------------------------------------------------------------------------


def athena_table(con):
    import sqlglot
    from sqlglot import exp

    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    with open(os.path.join(HERE, "athena_cloudtrail_table.sql"), encoding="utf-8") as handle:
        ddl = sqlglot.parse_one(handle.read(), read="athena")
    ddl.set("properties", None)  # ROW FORMAT, LOCATION: storage, not columns
    con.sql(ddl.sql("duckdb"))
    return {n for n, t, *_ in con.sql("DESCRIBE cloudtrail_logs").fetchall() if t == "VARCHAR"}


def athena_row(record, string_columns):
    row = {}
    for key, value in record.items():
        key = key.lower()
        row[key] = hive_string(value) if key in string_columns else lower_keys(value)
    return row


# ---- BigQuery -----------------------------------------------------------------------------

BIGQUERY_TABLE = """
CREATE TABLE "PROJECT"."DATASET".cloudaudit_googleapis_com_activity (
  logName VARCHAR, insertId VARCHAR, severity VARCHAR,
  timestamp TIMESTAMPTZ, receiveTimestamp TIMESTAMPTZ,
  resource STRUCT(type VARCHAR, labels STRUCT(project_id VARCHAR, region VARCHAR,
                  packet_mirroring_id VARCHAR, firewall_policy_id VARCHAR, location VARCHAR)),
  protopayload_auditlog STRUCT(
    serviceName VARCHAR, methodName VARCHAR, resourceName VARCHAR,
    status STRUCT(code BIGINT, message VARCHAR),
    authenticationInfo STRUCT(principalEmail VARCHAR, principalSubject VARCHAR),
    requestMetadata STRUCT(callerIp VARCHAR, callerSuppliedUserAgent VARCHAR),
    requestJson VARCHAR, responseJson VARCHAR, metadataJson VARCHAR),
  operation STRUCT(id VARCHAR, producer VARCHAR, first BOOLEAN, last BOOLEAN)
)"""


def bigquery_table(con):
    # PROJECT.DATASET.table, as the export names it, is DuckDB's catalog.schema.table.
    con.sql("ATTACH ':memory:' AS \"PROJECT\"")
    con.sql('CREATE SCHEMA "PROJECT"."DATASET"')
    con.sql(BIGQUERY_TABLE)
    return '"PROJECT"."DATASET".cloudaudit_googleapis_com_activity'


def bigquery_row(entry):
    payload = dict(entry.get("protoPayload") or {})
    for key in ("request", "response", "metadata"):
        if key in payload:
            payload[key + "Json"] = json.dumps(payload.pop(key), separators=(",", ":"))
    payload.pop("@type", None)
    return {
        "logName": entry.get("logName"),
        "insertId": entry.get("insertId"),
        "severity": entry.get("severity"),
        "timestamp": entry.get("timestamp"),
        "receiveTimestamp": entry.get("receiveTimestamp"),
        "resource": entry.get("resource"),
        "protopayload_auditlog": payload,
        "operation": entry.get("operation"),
    }


def run_sql(dialect, query, fixtures):
    import sqlglot

    # Parsing in the export's own dialect is the validity check: a syntax error raises here.
    tree = sqlglot.parse_one(query, read=dialect, error_level=sqlglot.ErrorLevel.RAISE)
    con = connect()
    if dialect == "athena":
        strings = athena_table(con)
        rows = [athena_row(r, strings) for r in records_of(fixtures, is_cloudtrail)]
        load_rows(con, "cloudtrail_logs", rows)
    else:
        table = bigquery_table(con)
        load_rows(con, table, [bigquery_row(r) for r in records_of(fixtures, is_log_entry)])
    result = con.sql(tree.sql(dialect="duckdb"))
    names = [d[0] for d in result.description]
    out = []
    for values in result.fetchall():
        row = dict(zip(names, values))
        ids = row.get("record_ids") or row.get("record_id") or ""
        out.append(
            {
                "operation": row["operation"],
                "outcome": row["outcome"],
                "time": seconds(row.get("event_time")),
                "record_ids": sorted(i for i in str(ids).split(",") if i),
            }
        )
    return out


# ---- KQL (Sentinel) -----------------------------------------------------------------------

AWS_CLOUDTRAIL_TABLE = """CREATE TABLE AWSCloudTrail (TimeGenerated TIMESTAMP, EventName VARCHAR,
  EventSource VARCHAR, ErrorCode VARCHAR, ErrorMessage VARCHAR, UserIdentityType VARCHAR,
  UserIdentityArn VARCHAR, UserIdentityAccountId VARCHAR, SessionIssuerArn VARCHAR,
  SourceIpAddress VARCHAR, AWSRegion VARCHAR, RecipientAccountId VARCHAR, AwsEventId VARCHAR,
  RequestParameters VARCHAR, ResponseElements VARCHAR)"""

AZURE_ACTIVITY_TABLE = """CREATE TABLE AzureActivity (TimeGenerated TIMESTAMP,
  OperationNameValue VARCHAR, ActivityStatusValue VARCHAR, ActivitySubstatusValue VARCHAR,
  Caller VARCHAR, CallerIpAddress VARCHAR, CorrelationId VARCHAR, ResourceId VARCHAR,
  _ResourceId VARCHAR, SubscriptionId VARCHAR, EventDataId VARCHAR, CategoryValue VARCHAR)"""


def sentinel_cloudtrail_row(r):
    identity = r.get("userIdentity") or {}
    issuer = (identity.get("sessionContext") or {}).get("sessionIssuer") or {}
    as_text = lambda v: None if v is None else json.dumps(v)
    return {
        "TimeGenerated": r.get("eventTime"),
        "EventName": r.get("eventName"),
        "EventSource": r.get("eventSource"),
        "ErrorCode": r.get("errorCode"),
        "ErrorMessage": r.get("errorMessage"),
        "UserIdentityType": identity.get("type"),
        "UserIdentityArn": identity.get("arn"),
        "UserIdentityAccountId": identity.get("accountId"),
        "SessionIssuerArn": issuer.get("arn"),
        "SourceIpAddress": r.get("sourceIPAddress"),
        "AWSRegion": r.get("awsRegion"),
        "RecipientAccountId": r.get("recipientAccountId"),
        "AwsEventId": r.get("eventID"),
        "RequestParameters": as_text(r.get("requestParameters")),
        "ResponseElements": as_text(r.get("responseElements")),
    }


def sentinel_azure_row(r):
    """A diagnostic-settings record (operationName a string, resultType) or a REST EventData
    (operationName.value, status.value), as the Azure Monitor agent lands either."""
    operation = r.get("operationName")
    if isinstance(operation, dict):
        operation = operation.get("value")
    status = r.get("resultType") or (r.get("status") or {}).get("value")
    substatus = r.get("resultSignature") or (r.get("subStatus") or {}).get("value")
    resource = r.get("resourceId") or ""
    parts = resource.split("/")
    subscription = parts[2] if resource.lower().startswith("/subscriptions/") else None
    caller_ip = r.get("callerIpAddress") or (r.get("httpRequest") or {}).get("clientIpAddress")
    return {
        "TimeGenerated": r.get("time") or r.get("eventTimestamp"),
        "OperationNameValue": operation,
        "ActivityStatusValue": status,
        "ActivitySubstatusValue": substatus,
        "Caller": r.get("caller"),
        "CallerIpAddress": caller_ip,
        "CorrelationId": r.get("correlationId"),
        "ResourceId": resource,
        "_ResourceId": resource.lower(),
        "SubscriptionId": subscription,
        "EventDataId": r.get("eventDataId"),
        "CategoryValue": r.get("category") if isinstance(r.get("category"), str) else None,
    }


def run_kql(query, fixtures):
    import duckdb_kql

    con = connect()
    con.sql(AWS_CLOUDTRAIL_TABLE)
    con.sql(AZURE_ACTIVITY_TABLE)
    aws = [sentinel_cloudtrail_row(r) for r in records_of(fixtures, is_cloudtrail)]
    azure = [sentinel_azure_row(r) for r in records_of(fixtures, is_azure)]
    if aws:
        load_rows(con, "AWSCloudTrail", aws)
    if azure:
        load_rows(con, "AzureActivity", azure)
    result = duckdb_kql.query(con, query)
    names = [d[0] for d in result.description]
    out = []
    for values in result.fetchall():
        row = dict(zip(names, values))
        out.append(
            {
                "operation": row["Operation"],
                "outcome": row["Outcome"],
                "time": seconds(row["TimeGenerated"]),
                "record_ids": sorted(i for i in id_list(row.get("RecordIds")) if i),
            }
        )
    return out


# ---- OCSF ---------------------------------------------------------------------------------


def run_ocsf(path):
    sys.path.insert(0, HERE)
    import ocsf_validate

    return ocsf_validate.main([path])


# ---- shared -------------------------------------------------------------------------------


def id_list(value):
    """A KQL dynamic array as duckdb-kql returns it: a list, or its JSON text."""
    if value is None:
        return []
    if isinstance(value, str):
        value = json.loads(value) if value.startswith("[") else [value]
    return [str(v) for v in value if v is not None]


def records_of(fixtures, keep):
    out = []
    for path in fixtures:
        out.extend(r for r in read_records(path) if isinstance(r, dict) and keep(r))
    return out


def seconds(value):
    """A timestamp (datetime or text) as RFC 3339 UTC to the second."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.replace("Z", "+00:00")
        head, dot, rest = text.partition(".")
        if dot:
            # Drop the fraction, keep any offset.
            tail = "".join(c for c in rest if not c.isdigit())
            text = head + tail
        value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    sql = commands.add_parser("sql")
    sql.add_argument("--dialect", choices=["athena", "bigquery"], required=True)
    sql.add_argument("query")
    sql.add_argument("fixtures", nargs="+")
    kql = commands.add_parser("kql")
    kql.add_argument("query")
    kql.add_argument("fixtures", nargs="+")
    ocsf = commands.add_parser("ocsf")
    ocsf.add_argument("ndjson")
    args = parser.parse_args(argv)
    if args.command == "ocsf":
        return run_ocsf(args.ndjson)
    with open(args.query, encoding="utf-8") as handle:
        query = handle.read()
    if args.command == "sql":
        rows = run_sql(args.dialect, query, args.fixtures)
    else:
        rows = run_kql(query, args.fixtures)
    for row in rows:
        print(json.dumps(row, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
