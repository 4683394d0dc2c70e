//! Runs the mock cloud as a standalone process for trying the CLI by hand or benchmarking it
//! against a mock in its own process:
//! `cargo run -p mirrorguard-mocks -- --world mocks/worlds/demo.toml [--port 4566]`, or
//! `cargo run --release -p mirrorguard-mocks -- --synthetic 1000,17,1 --latency-ms 50 --faults denied=0.1,throttled=0.1`.

use mirrorguard_mocks::{FaultMix, MockCloud, World};

const USAGE: &str = "usage: mirrorguard-mocks (--world FILE | --synthetic ACCOUNTS,REGIONS,MIRRORS) [--latency-ms MS] [--faults KIND=FRACTION,...] [--port PORT]

  --world FILE        serve a TOML world (see mocks/src/world.rs)
  --synthetic A,R,M   serve World::synthetic: an organisation of A accounts (the first is the
                      management account; any access key signs as it), R regions
                      (bench-region-N), M mirrors per region; member accounts are reached by
                      STS AssumeRole of MirrorguardReadOnly
  --latency-ms MS     with --synthetic: added to every AWS call (default 0)
  --faults MIX        with --synthetic: fractions by kind, e.g.
                      denied=0.1,throttled=0.1,failing=0.05,hanging=0.05,malformed=0.02,assume_denied=0.05
  --port PORT         listen on 127.0.0.1:PORT (default: a free port)";

fn usage() -> ! {
    eprintln!("{USAGE}");
    std::process::exit(2);
}

fn fail(message: String) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2);
}

fn fault_mix(text: &str) -> FaultMix {
    let mut mix = FaultMix::default();
    for pair in text.split(',').filter(|p| !p.is_empty()) {
        let (kind, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value: f64 = value
            .parse()
            .ok()
            .filter(|v: &f64| (0.0..=1.0).contains(v))
            .unwrap_or_else(|| fail(format!("--faults {pair}: expected KIND=FRACTION, 0 to 1")));
        let slot = match kind {
            "denied" => &mut mix.denied,
            "throttled" => &mut mix.throttled,
            "failing" => &mut mix.failing,
            "hanging" => &mut mix.hanging,
            "malformed" => &mut mix.malformed,
            "assume_denied" => &mut mix.assume_denied,
            _ => fail(format!(
                "--faults: unknown kind {kind:?} (denied, throttled, failing, hanging, malformed, assume_denied)"
            )),
        };
        *slot = value;
    }
    mix
}

#[tokio::main]
async fn main() {
    let mut world_path = None;
    let mut synthetic = None;
    let mut latency_ms = 0u64;
    let mut faults = FaultMix::default();
    let mut port = 0u16;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--help" | "-h" => {
                println!("{USAGE}");
                return;
            }
            "--world" => world_path = Some(args.next().unwrap_or_else(|| usage())),
            "--synthetic" => {
                let shape: Vec<usize> = args
                    .next()
                    .unwrap_or_else(|| usage())
                    .split(',')
                    .map(|n| n.trim().parse().unwrap_or_else(|_| usage()))
                    .collect();
                let [accounts, regions, mirrors] = shape[..] else {
                    usage()
                };
                synthetic = Some((accounts, regions, mirrors));
            }
            "--latency-ms" => {
                latency_ms = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "--faults" => faults = fault_mix(&args.next().unwrap_or_else(|| usage())),
            "--port" => {
                port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            _ => usage(),
        }
    }
    let world = match (world_path, synthetic) {
        (Some(world_path), None) => {
            let text = std::fs::read_to_string(&world_path)
                .unwrap_or_else(|e| fail(format!("cannot read {world_path}: {e}")));
            World::from_toml(&text).unwrap_or_else(|e| fail(format!("{world_path}: {e}")))
        }
        (None, Some((accounts, regions, mirrors))) => {
            let world = World::synthetic(accounts, regions, mirrors, faults, latency_ms);
            let injected = world.injected_faults();
            eprintln!(
                "synthetic organisation {}: {accounts} accounts × {regions} regions × {mirrors} mirrors, {} faults injected, {latency_ms} ms per call",
                mirrorguard_mocks::synthetic::SYNTHETIC_ORGANIZATION,
                injected.len()
            );
            world
        }
        _ => usage(),
    };
    let mock = MockCloud::start_on(world, port)
        .await
        .unwrap_or_else(|e| fail(format!("cannot listen on 127.0.0.1:{port}: {e}")));
    println!("mock cloud listening on {}", mock.endpoint());
    println!("  export AWS_ENDPOINT_URL={}", mock.endpoint());
    println!("  export AWS_ACCESS_KEY_ID=AKIDMOCK AWS_SECRET_ACCESS_KEY=mock AWS_EC2_METADATA_DISABLED=true");
    // Azure: the token endpoint lives at the authority host; ARM is the same base URL.
    println!(
        "  export AZURE_AUTHORITY_HOST={} AZURE_TENANT_ID={} MIRRORGUARD_AZURE_ENDPOINT={}",
        mock.endpoint(),
        mock.world().azure.tenant,
        mock.endpoint()
    );
    // GCP: an authorized_user ADC file whose token_uri is this server; the metadata host is
    // pointed here too so no probe leaves loopback.
    println!(
        "  export GCE_METADATA_HOST={}  # ADC token_uri: {}/token, compute endpoint: {}",
        mock.addr(),
        mock.endpoint(),
        mock.endpoint()
    );
    println!(
        "  export MIRRORGUARD_GCP_ENDPOINT={} MIRRORGUARD_GCP_LOGGING_ENDPOINT={} MIRRORGUARD_GCP_RESOURCEMANAGER_ENDPOINT={}",
        mock.endpoint(),
        mock.endpoint(),
        mock.endpoint()
    );
    let _ = tokio::signal::ctrl_c().await;
}
