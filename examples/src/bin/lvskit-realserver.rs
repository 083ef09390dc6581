//! `lvskit-realserver`: the real-server side of LVS-DR and LVS-TUN, what `lvsRealServer.sh` did.
//!
//! ```text
//! lvskit-realserver up --vip 192.0.2.10 --vip 2001:db8::10      # DR: the VIPs on lo, ARP quiet
//! lvskit-realserver up --vip 192.0.2.10 --tun ipip              # TUN: the VIP on tunl0
//! lvskit-realserver up --vip 192.0.2.10 --tun gue --gue-port 6080  # TUN over GUE: + a FOU port
//! lvskit-realserver down                                        # undo everything up did
//! lvskit-realserver down --vip 192.0.2.10                       # only this VIP's address
//! ```
//!
//! `up` is idempotent and records what it changed in `--state` (default
//! `/run/lvskit/realserver.state`); `down` restores exactly that (see `vip::realserver`).
//! Exit status: 0 on success, 1 when the change failed, 2 on a usage error.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use vip::realserver::{DEFAULT_STATE_FILE, RealServer, Tunnel};
use vip::{Change, Client};

#[derive(Parser)]
#[command(name = "lvskit-realserver", version)]
/// Configure (or unconfigure) an LVS real server for direct routing or tunnelling.
struct Cli {
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand)]
enum Action {
    /// Put the VIPs on lo (or the tunnel device) and set the ARP sysctls.
    Up(Args),
    /// Undo what `up` recorded (for the given VIPs, or all).
    Down(Args),
}

#[derive(clap::Args)]
struct Args {
    /// A VIP (repeat for several).
    #[arg(long = "vip", value_name = "ADDR")]
    vips: Vec<IpAddr>,
    /// Receive through a tunnel (LVS-TUN) instead of direct routing.
    #[arg(long, value_enum)]
    tun: Option<Tun>,
    /// The UDP port of GUE (`--tun gue`): keepalived's `lvs_method TUN type gue port N`.
    #[arg(long, value_name = "PORT")]
    gue_port: Option<u16>,
    /// Where the changes are recorded.
    #[arg(long, default_value = DEFAULT_STATE_FILE)]
    state: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum Tun {
    /// IP in IP (tunl0).
    Ipip,
    /// GRE (gre0).
    Gre,
    /// GUE (IPIP in UDP on --gue-port): tunl0 and a FOU receive port.
    Gue,
}

fn main() -> ExitCode {
    lvskit_examples::init_logging();
    let cli = Cli::parse();
    let (up, args) = match cli.action {
        Action::Up(a) => (true, a),
        Action::Down(a) => (false, a),
    };
    if up && args.vips.is_empty() {
        eprintln!("lvskit-realserver: up needs at least one --vip");
        return ExitCode::from(2);
    }
    let mut server = RealServer::new(args.vips).state_file(args.state);
    match args.tun {
        None => {}
        Some(Tun::Ipip) => server = server.tunnel(Tunnel::Ipip),
        Some(Tun::Gre) => server = server.tunnel(Tunnel::Gre),
        Some(Tun::Gue) => match args.gue_port {
            Some(port) => server = server.tunnel(Tunnel::Gue(port)),
            // down finds the port in the state file.
            None if !up => server = server.tunnel(Tunnel::Gue(0)),
            None => {
                eprintln!("lvskit-realserver: --tun gue needs --gue-port PORT");
                return ExitCode::from(2);
            }
        },
    }
    if args.gue_port.is_some() && !matches!(args.tun, Some(Tun::Gue)) {
        eprintln!("lvskit-realserver: --gue-port goes with --tun gue");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lvskit-realserver: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        let client = Client::new()?;
        if up {
            server.up(&client).await
        } else {
            server.down(&client).await
        }
    });
    match result {
        Ok(change) => {
            let what = match (up, change) {
                (true, Change::Changed) => "configured",
                (true, Change::Unchanged) => "already configured",
                (false, Change::Changed) => "restored",
                (false, Change::Unchanged) => "nothing to restore",
            };
            eprintln!("lvskit-realserver: {what}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lvskit-realserver: {e}");
            ExitCode::from(1)
        }
    }
}
