//! An independent check against a server nobody here wrote: moto implements the EC2
//! traffic-mirroring Create/Describe calls (without pagination or filter rules). The test
//! creates resources in moto with aws-sdk-ec2's own create calls, then scans moto with the
//! real binary and checks every mirror and target comes back right.
//!
//! moto is found through `MIRRORGUARD_MOTO_SERVER`, `./.venv/bin/moto_server` or `PATH`. Without
//! it the test says so and skips — unless `MIRRORGUARD_REQUIRE_MOTO=1` (set by `.ci/run`), when
//! a missing moto is a failure.

use crate::support::{command, home_with_allowlist, run};
use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn moto_server() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MIRRORGUARD_MOTO_SERVER") {
        return Some(PathBuf::from(path));
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    if venv.exists() {
        return Some(venv);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("moto_server"))
            .find(|candidate| candidate.exists())
    })
}

struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_moto(binary: &PathBuf) -> Moto {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(binary)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server starts");
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not start listening"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    moto
}

fn tags(kind: ResourceType, name: &str) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .tags(Tag::builder().key("Name").value(name).build())
        .build()
}

/// What the test created in moto, by the ids moto assigned.
struct Created {
    ids_session: String,
    nlb_session: String,
    ids_eni: String,
    ids_target: String,
    nlb_target: String,
    staged_target: String,
    staged_eni: String,
    filter: String,
}

const NLB_ARN: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/capture/0123456789abcdef";

async fn create_estate(endpoint: &str) -> Created {
    let credentials =
        aws_credential_types::Credentials::new("AKIATESTMOTO", "moto", None, None, "test");
    let config = aws_sdk_ec2::Config::builder()
        .behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest())
        .region(aws_sdk_ec2::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(credentials)
        .build();
    let ec2 = aws_sdk_ec2::Client::from_conf(config);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc_id = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc_id)
        .cidr_block("10.0.1.0/24")
        .send()
        .await
        .unwrap();
    let subnet_id = subnet.subnet().unwrap().subnet_id().unwrap().to_string();
    let mut enis = Vec::new();
    for _ in 0..4 {
        let eni = ec2
            .create_network_interface()
            .subnet_id(&subnet_id)
            .send()
            .await
            .unwrap();
        enis.push(
            eni.network_interface()
                .unwrap()
                .network_interface_id()
                .unwrap()
                .to_string(),
        );
    }
    let target = |request: aws_sdk_ec2::operation::create_traffic_mirror_target::builders::CreateTrafficMirrorTargetFluentBuilder| async move {
        request.send().await.unwrap().traffic_mirror_target().unwrap().traffic_mirror_target_id().unwrap().to_string()
    };
    let ids_target = target(
        ec2.create_traffic_mirror_target()
            .network_interface_id(&enis[0])
            .description("IDS sensor"),
    )
    .await;
    let nlb_target = target(
        ec2.create_traffic_mirror_target()
            .network_load_balancer_arn(NLB_ARN),
    )
    .await;
    let staged_target = target(
        ec2.create_traffic_mirror_target()
            .network_interface_id(&enis[3]),
    )
    .await;
    let filter = ec2
        .create_traffic_mirror_filter()
        .description("all traffic")
        .send()
        .await
        .unwrap()
        .traffic_mirror_filter()
        .unwrap()
        .traffic_mirror_filter_id()
        .unwrap()
        .to_string();
    let ids_session = ec2
        .create_traffic_mirror_session()
        .network_interface_id(&enis[1])
        .traffic_mirror_target_id(&ids_target)
        .traffic_mirror_filter_id(&filter)
        .session_number(1)
        .virtual_network_id(4242)
        .packet_length(128)
        .description("web to IDS")
        .tag_specifications(tags(ResourceType::TrafficMirrorSession, "ids-web"))
        .send()
        .await
        .unwrap()
        .traffic_mirror_session()
        .unwrap()
        .traffic_mirror_session_id()
        .unwrap()
        .to_string();
    let nlb_session = ec2
        .create_traffic_mirror_session()
        .network_interface_id(&enis[2])
        .traffic_mirror_target_id(&nlb_target)
        .traffic_mirror_filter_id(&filter)
        .session_number(2)
        .send()
        .await
        .unwrap()
        .traffic_mirror_session()
        .unwrap()
        .traffic_mirror_session_id()
        .unwrap()
        .to_string();
    Created {
        ids_session,
        nlb_session,
        ids_eni: enis[0].clone(),
        ids_target,
        nlb_target,
        staged_target,
        staged_eni: enis[3].clone(),
        filter,
    }
}

#[test]
fn scan_of_moto_returns_every_mirror_and_target_it_created() {
    let Some(binary) = moto_server() else {
        if std::env::var("MIRRORGUARD_REQUIRE_MOTO").as_deref() == Ok("1") {
            panic!("MIRRORGUARD_REQUIRE_MOTO=1 but moto_server was not found");
        }
        eprintln!("SKIPPED: moto_server not found (install: python3 -m venv .venv && .venv/bin/pip install 'moto[server]')");
        return;
    };
    let moto = start_moto(&binary);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let created = runtime.block_on(create_estate(&moto.endpoint));

    let allowlist = format!(
        "[[targets]]\nprovider = \"aws\"\ntarget = \"{}\"\nowner = \"o\"\nticket = \"T\"\nreason = \"r\"\nexpires = 2027-01-01\n",
        created.ids_eni
    );
    let (home, _) = home_with_allowlist(&allowlist);
    let mut cmd = command(home.path());
    cmd.env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_ACCESS_KEY_ID", "AKIATESTMOTO")
        .env("AWS_SECRET_ACCESS_KEY", "moto")
        .env("AWS_REGION", "us-east-1")
        .args([
            "scan",
            "--provider",
            "aws",
            "--format",
            "json",
            "--aws-regions",
            "us-east-1",
            "--now",
            "2026-11-15",
        ]);
    let result = run(cmd);
    assert_eq!(
        result.code, 1,
        "the NLB mirror is unapproved\n{}",
        result.stderr
    );
    let report = result.json();

    assert_eq!(report["identities"]["aws"]["account"], "123456789012");
    let rows = report["coverage"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "scanned", "{rows:#?}");

    let mirrors = report["mirrors"].as_array().unwrap();
    assert_eq!(mirrors.len(), 2, "{mirrors:#?}");
    let by_id = |id: &str| {
        mirrors
            .iter()
            .find(|m| m["id"] == id)
            .unwrap_or_else(|| panic!("{id} missing"))
    };

    let ids = by_id(&created.ids_session);
    assert_eq!(ids["account"], "123456789012");
    assert_eq!(ids["region"], "us-east-1");
    assert_eq!(ids["name"], "ids-web");
    assert_eq!(ids["description"], "web to IDS");
    assert_eq!(ids["vni"], 4242);
    assert_eq!(ids["priority"], 1);
    assert_eq!(ids["filter"]["packet_length"], 128);
    assert_eq!(ids["filter"]["id"], created.filter.as_str());
    assert_eq!(ids["target"]["kind"], "network-interface");
    assert_eq!(ids["target"]["id"], created.ids_eni.as_str());
    assert_eq!(
        ids["target"]["mirror_target_id"],
        created.ids_target.as_str()
    );
    assert_eq!(ids["target"]["description"], "IDS sensor");
    assert_eq!(ids["verdict"], "approved");

    let nlb = by_id(&created.nlb_session);
    assert_eq!(nlb["target"]["kind"], "network-load-balancer");
    assert_eq!(nlb["target"]["id"], NLB_ARN);
    assert_eq!(
        nlb["target"]["mirror_target_id"],
        created.nlb_target.as_str()
    );
    assert_eq!(nlb["verdict"], "unapproved");

    let staged = report["staged"].as_array().unwrap();
    let target = staged
        .iter()
        .find(|s| s["id"] == created.staged_target.as_str())
        .unwrap_or_else(|| panic!("staged target missing: {staged:#?}"));
    assert_eq!(target["target"]["id"], created.staged_eni.as_str());
}
