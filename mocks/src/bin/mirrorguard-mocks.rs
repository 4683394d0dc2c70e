//! Runs the mock cloud as a standalone process for trying the CLI by hand:
//! `cargo run -p mirrorguard-mocks -- --world mocks/worlds/demo.toml [--port 4566]`.

use mirrorguard_mocks::{MockCloud, World};

fn usage() -> ! {
    eprintln!("usage: mirrorguard-mocks --world FILE [--port PORT]");
    std::process::exit(2);
}

#[tokio::main]
async fn main() {
    let mut world_path = None;
    let mut port = 0u16;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--world" => world_path = Some(args.next().unwrap_or_else(|| usage())),
            "--port" => {
                port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            _ => usage(),
        }
    }
    let world_path = world_path.unwrap_or_else(|| usage());
    let text = std::fs::read_to_string(&world_path).unwrap_or_else(|e| {
        eprintln!("error: cannot read {world_path}: {e}");
        std::process::exit(2);
    });
    let world = World::from_toml(&text).unwrap_or_else(|e| {
        eprintln!("error: {world_path}: {e}");
        std::process::exit(2);
    });
    let mock = MockCloud::start_on(world, port).await.unwrap_or_else(|e| {
        eprintln!("error: cannot listen on 127.0.0.1:{port}: {e}");
        std::process::exit(2);
    });
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
        "  export MIRRORGUARD_GCP_ENDPOINT={} MIRRORGUARD_GCP_LOGGING_ENDPOINT={}",
        mock.endpoint(),
        mock.endpoint()
    );
    let _ = tokio::signal::ctrl_c().await;
}
