//! Property tests of every parser: no input, however broken, makes a reader panic, loses count
//! of what it read, or reports a record outside the input.
//!
//! Three kinds of input: arbitrary bytes (plain and behind a gzip header); well-formed JSON
//! records built from the keys the mappers look for, so their deep paths are reached with
//! every type in every place; and the real fixture files with bytes flipped, dropped or cut.

use super::split::Splitter;
use super::{read_stream, Format, InputSummary};
use crate::audit::Location;
use proptest::prelude::*;
use serde_json::Value;

/// The keys the mappers read, so generated objects reach their inner branches.
const KEYS: &[&str] = &[
    "eventName",
    "eventSource",
    "eventTime",
    "userIdentity",
    "type",
    "arn",
    "sessionContext",
    "sessionIssuer",
    "requestParameters",
    "responseElements",
    "errorCode",
    "awsRegion",
    "recipientAccountId",
    "CloudTrailEvent",
    "protoPayload",
    "methodName",
    "serviceName",
    "resourceName",
    "status",
    "code",
    "operation",
    "first",
    "last",
    "id",
    "insertId",
    "resource",
    "labels",
    "project_id",
    "region",
    "request",
    "collectorIlb",
    "url",
    "logName",
    "timestamp",
    "operationName",
    "value",
    "resultType",
    "resultSignature",
    "resourceId",
    "caller",
    "claims",
    "identity",
    "correlationId",
    "eventDataId",
    "eventTimestamp",
    "properties",
    "statusCode",
    "subStatus",
    "metadata",
    "product_event_type",
    "vendor_name",
    "product_log_id",
    "principal",
    "user",
    "userid",
    "target",
    "name",
    "security_result",
    "action",
    "additional",
    "fields",
    "Records",
    "records",
    "Events",
];

const WORDS: &[&str] = &[
    "CreateTrafficMirrorSession",
    "v1.compute.packetMirrorings.insert",
    "Microsoft.Network/virtualNetworkTaps/write",
    "MICROSOFT.NETWORK/NETWORKINTERFACES/TAPCONFIGURATIONS/WRITE",
    "ec2.amazonaws.com",
    "compute.googleapis.com",
    "AssumedRole",
    "arn:aws:sts::1:assumed-role/R/S",
    "arn:aws:sts::1:assumed-role",
    "BLOCK",
    "Started",
    "Failure",
    "Succeeded.OK",
    "2026-11-10T09:14:03Z",
    "not-a-time",
    "projects/p/regions/r/packetMirrorings/x",
    "https://h/compute/v1/projects/p",
    "",
    "/subscriptions/S/x",
    "Client.DryRunOperation",
    "\u{1b}[2J",
    "é\u{202e}",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        proptest::sample::select(WORDS).prop_map(|w| Value::String(w.to_string())),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((proptest::sample::select(KEYS), inner), 0..8).prop_map(
                |pairs| {
                    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
                }
            ),
        ]
    })
}

fn location() -> Location {
    Location {
        path: "prop".into(),
        record: 1,
        line: 1,
    }
}

fn read(bytes: &[u8]) -> InputSummary {
    let mut summary = InputSummary::new("prop".into());
    let observed = read_stream(bytes, &mut summary);
    assert!(observed.len() as u64 <= summary.records);
    assert!(summary.malformed_records.len() as u64 <= summary.malformed);
    summary
}

fn fixture_bytes() -> Vec<Vec<u8>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audit");
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter(|e| {
            !e.path()
                .extension()
                .is_some_and(|x| x == "py" || x == "md" || x == "toml")
        })
        .filter_map(|e| std::fs::read(e.path()).ok())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_splitter_survives_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let lines = bytes.iter().filter(|b| **b == b'\n').count() as u64 + 1;
        let mut seen = 0usize;
        let _ = Splitter::new(&bytes[..]).run(
            &mut |record| {
                assert!(record.line >= 1 && record.line <= lines);
                assert!(record.bytes.len() <= bytes.len());
                seen += 1;
            },
            &mut |bad| assert!(bad.line >= 1 && bad.line <= lines),
        );
        prop_assert!(seen <= bytes.len());
    }

    #[test]
    fn structural_bytes_and_gzip_headers_never_panic(
        bytes in proptest::collection::vec(proptest::sample::select(b"{}[]\",:\\\n \tu0aeE1-.".to_vec()), 0..512),
        gzip in any::<bool>(),
    ) {
        let input = if gzip { [&[0x1f, 0x8b, 8, 0][..], &bytes].concat() } else { bytes };
        read(&input);
    }

    #[test]
    fn newline_delimited_records_come_back_one_for_one(records in proptest::collection::vec(json_value(), 1..12)) {
        let objects: Vec<Value> = records
            .into_iter()
            // Under a key that is not a wrapper's (`{"Records":[…]}` is a container, not a record).
            .map(|v| serde_json::json!({ "record": v }))
            .collect();
        let text: String = objects.iter().map(|v| format!("{v}\n")).collect();
        let mut got = Vec::new();
        let result = Splitter::new(text.as_bytes()).run(
            &mut |r| got.push((String::from_utf8(r.bytes.to_vec()).ok(), r.line)),
            &mut |bad| panic!("well-formed line reported malformed: {bad:?}"),
        );
        prop_assert!(result.is_ok());
        prop_assert_eq!(got.len(), objects.len());
        for (i, ((value, line), want)) in got.iter().zip(&objects).enumerate() {
            // Byte for byte (a float does not survive a parse and print exactly).
            prop_assert_eq!(value.clone(), Some(want.to_string()));
            prop_assert_eq!(*line, i as u64 + 1);
        }
    }

    #[test]
    fn every_mapper_takes_any_json_without_panicking(record in json_value()) {
        for format in [
            Format::Cloudtrail,
            Format::CloudtrailLookup,
            Format::GcpAudit,
            Format::AzureActivity,
            Format::AzureDiagnostic,
            Format::Udm,
        ] {
            let _ = format.observe(&record, &location());
        }
        let _ = Format::of_record(&record);
    }

    #[test]
    fn damaged_fixture_files_never_panic(
        pick in any::<prop::sample::Index>(),
        cut in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
    ) {
        let files = fixture_bytes();
        let mut bytes = pick.get(&files).clone();
        for (at, byte) in flips {
            if !bytes.is_empty() {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
        }
        let keep = cut.index(bytes.len() + 1);
        bytes.truncate(keep);
        read(&bytes);
    }
}
