//! `check`: run one keepalived-style health check from the command line and print the outcome
//! and how long it took; `--genhash URL` prints the MD5 digest of a body, like keepalived's genhash.
//!
//! ```text
//! check tcp 192.0.2.10:80 --connect-timeout 3
//! check http http://192.0.2.10/health --status-code 200-299 --digest 9b3a0c85a887a256d6939da88aabd8cd
//! check http https://www.example.test/ --verify --sni
//! check smtp 192.0.2.10:25 --helo-name lb1.example.test
//! check dns 192.0.2.53:53 --type A --name www.example.test
//! check misc "/usr/local/bin/check_db --port 5432" --misc-timeout 5 --misc-dynamic
//! check udp 192.0.2.10:53 --payload "00 01" --require-reply
//! check ping 192.0.2.10
//! check ping 192.0.2.1 192.0.2.2              # healthy when either answers
//! check --genhash http://192.0.2.10/index.html
//! ```
//! Exit status: 0 when healthy, 1 when not, 2 on a usage error.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use healthcheck::http::digest_hex;
use healthcheck::udp::{ReplyPattern, parse_hex};
use healthcheck::{
    Check, Checker, ConnectOptions, DnsCheck, HttpGet, MiscCheck, PingCheck, SmtpCheck, TcpCheck,
    UdpCheck, UrlCheck,
};

#[derive(Parser)]
#[command(name = "check", args_conflicts_with_subcommands = true)]
/// Run one health check (keepalived's checkers) and print the outcome.
struct Cli {
    /// Print the MD5 digest of URL's body, as keepalived's genhash does, and exit.
    #[arg(long, value_name = "URL")]
    genhash: Option<String>,
    #[command(subcommand)]
    kind: Option<Kind>,
}

/// keepalived's generic connection options.
#[derive(Args)]
struct Conn {
    /// connect_timeout in seconds.
    #[arg(long, default_value = "5", value_parser = connect_timeout)]
    connect_timeout: Duration,
    /// bindto: source address.
    #[arg(long)]
    bindto: Option<IpAddr>,
    /// bind_port: source port.
    #[arg(long)]
    bind_port: Option<u16>,
    /// fwmark: SO_MARK for the probe's packets.
    #[arg(long)]
    fwmark: Option<u32>,
}

impl Conn {
    fn apply(&self, mut options: ConnectOptions) -> ConnectOptions {
        options.connect_timeout = self.connect_timeout;
        options.bindto = self.bindto;
        options.bind_port = self.bind_port;
        options.fwmark = self.fwmark;
        options
    }
}

/// Time options go through the library's limits, so the tool and a configuration agree.
fn connect_timeout(text: &str) -> Result<Duration, String> {
    healthcheck::options::parse_secs("connect_timeout", text).map_err(|e| e.to_string())
}

fn misc_timeout(text: &str) -> Result<Duration, String> {
    healthcheck::options::parse_secs("misc_timeout", text).map_err(|e| e.to_string())
}

#[derive(Subcommand)]
enum Kind {
    /// TCP_CHECK: connect.
    Tcp {
        /// connect_ip:connect_port.
        target: SocketAddr,
        #[command(flatten)]
        conn: Conn,
    },
    /// HTTP_GET, or SSL_GET for an https:// URL.
    Http {
        /// http[s]://HOST[:PORT]/PATH.
        url: String,
        /// status_code: accepted codes or ranges, e.g. "200-299 401".
        #[arg(long)]
        status_code: Option<String>,
        /// digest: expected MD5 of the body.
        #[arg(long)]
        digest: Option<String>,
        /// virtualhost: the Host header (and SNI name).
        #[arg(long)]
        virtualhost: Option<String>,
        /// enable_sni: send SNI (https).
        #[arg(long)]
        sni: bool,
        /// Verify the server certificate (https).
        #[arg(long)]
        verify: bool,
        /// CA file for --verify.
        #[arg(long)]
        ca_file: Option<PathBuf>,
        /// Read limit for the body, in bytes.
        #[arg(long)]
        max_body: Option<u64>,
        #[command(flatten)]
        conn: Conn,
    },
    /// SMTP_CHECK.
    Smtp {
        /// connect_ip:connect_port.
        target: SocketAddr,
        /// helo_name.
        #[arg(long, default_value = "localhost")]
        helo_name: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// DNS_CHECK.
    Dns {
        /// connect_ip:connect_port.
        target: SocketAddr,
        /// type: A, NS, CNAME, SOA, MX, TXT or AAAA.
        #[arg(long = "type", default_value = "SOA")]
        query_type: String,
        /// name.
        #[arg(long, default_value = ".")]
        name: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// MISC_CHECK: run a program (no shell).
    Misc {
        /// misc_path: the program and its arguments, split as keepalived does.
        misc_path: String,
        /// misc_timeout in seconds.
        #[arg(long, default_value = "5", value_parser = misc_timeout)]
        misc_timeout: Duration,
        /// misc_dynamic: exit 2-255 sets weight (status - 2).
        #[arg(long)]
        misc_dynamic: bool,
    },
    /// UDP_CHECK.
    Udp {
        /// connect_ip:connect_port.
        target: SocketAddr,
        /// payload as hex.
        #[arg(long)]
        payload: Option<String>,
        /// require_reply, optionally with a hex pattern (x = any nibble).
        #[arg(long, num_args = 0..=1, default_missing_value = "")]
        require_reply: Option<String>,
        #[command(flatten)]
        conn: Conn,
    },
    /// PING_CHECK: ICMP echo. With several addresses (a heartbeat `ping_group`, as
    /// `lvskit-import` writes it), healthy when any one answers; they are tried in order.
    Ping {
        /// connect_ip, or several.
        #[arg(required = true)]
        targets: Vec<IpAddr>,
        #[command(flatten)]
        conn: Conn,
    },
}

/// The checks to run: one, or one per address of `ping`; healthy when any one is.
fn build(kind: Kind) -> Result<Vec<Check>, String> {
    let err = |e: healthcheck::Error| e.to_string();
    Ok(vec![match kind {
        Kind::Tcp { target, conn } => {
            Check::Tcp(TcpCheck::new(conn.apply(ConnectOptions::new(target))))
        }
        Kind::Http {
            url,
            status_code,
            digest,
            virtualhost,
            sni,
            verify,
            ca_file,
            max_body,
            conn,
        } => {
            let mut check = HttpGet::from_url(&url).map_err(err)?;
            check.connect = conn.apply(check.connect.clone());
            let mut url_check = UrlCheck::new(check.urls[0].path.clone());
            if let Some(words) = status_code {
                url_check = url_check.status_code(&words).map_err(err)?;
            }
            if let Some(hex) = digest {
                url_check = url_check.digest(&hex).map_err(err)?;
            }
            check.urls = vec![url_check];
            if virtualhost.is_some() {
                check.virtualhost = virtualhost;
            }
            if let Some(limit) = max_body {
                check.max_body = limit;
            }
            if let Some(tls) = &mut check.tls {
                tls.enable_sni |= sni;
                tls.verify = verify;
                tls.ca_file = ca_file;
            }
            Check::Http(check)
        }
        Kind::Smtp {
            target,
            helo_name,
            conn,
        } => {
            let mut check = SmtpCheck::new(conn.apply(ConnectOptions::new(target)));
            check.helo_name = helo_name;
            Check::Smtp(check)
        }
        Kind::Dns {
            target,
            query_type,
            name,
            conn,
        } => Check::Dns(
            DnsCheck::new(conn.apply(ConnectOptions::new(target)))
                .query_type(&query_type)
                .map_err(err)?
                .name(&name)
                .map_err(err)?,
        ),
        Kind::Misc {
            misc_path,
            misc_timeout,
            misc_dynamic,
        } => Check::Misc(
            MiscCheck::new(&misc_path, misc_timeout)
                .map_err(err)?
                .dynamic(misc_dynamic),
        ),
        Kind::Udp {
            target,
            payload,
            require_reply,
            conn,
        } => {
            let mut check = UdpCheck::new(conn.apply(ConnectOptions::new(target)));
            if let Some(hex) = payload {
                check.payload = parse_hex(&hex).map_err(err)?;
            }
            if let Some(hex) = require_reply {
                check.require_reply = Some(ReplyPattern::parse(&hex).map_err(err)?);
            }
            Check::Udp(check)
        }
        Kind::Ping { targets, conn } => {
            return Ok(targets
                .into_iter()
                .map(|target| {
                    Check::Ping(PingCheck::new(
                        conn.apply(ConnectOptions::new(SocketAddr::new(target, 0))),
                    ))
                })
                .collect());
        }
    }])
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("check: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(url) = cli.genhash {
        let check = match HttpGet::from_url(&url) {
            Ok(check) => check,
            Err(e) => {
                eprintln!("check: {e}");
                return ExitCode::from(2);
            }
        };
        let started = Instant::now();
        return match runtime.block_on(check.fetch(&check.urls[0], true)) {
            Ok(response) => {
                println!("MD5SUM = {}", digest_hex(&response.digest));
                eprintln!(
                    "status {}, {} body bytes, {:.3} ms",
                    response.status,
                    response.body_len,
                    started.elapsed().as_secs_f64() * 1e3
                );
                ExitCode::SUCCESS
            }
            Err(reason) => {
                eprintln!("check: {reason}");
                ExitCode::FAILURE
            }
        };
    }
    let Some(kind) = cli.kind else {
        eprintln!("check: name a checker (tcp, http, smtp, dns, misc, udp, ping) or --genhash URL");
        return ExitCode::from(2);
    };
    let checks = match build(kind).and_then(|checks| {
        for check in &checks {
            check.validate().map_err(|e| e.to_string())?;
        }
        Ok(checks)
    }) {
        Ok(checks) => checks,
        Err(e) => {
            eprintln!("check: {e}");
            return ExitCode::from(2);
        }
    };
    for check in checks {
        let started = Instant::now();
        let outcome = runtime.block_on(check.check());
        let took = started.elapsed();
        println!("{outcome}");
        println!("took {:.3} ms", took.as_secs_f64() * 1e3);
        if outcome.healthy {
            return ExitCode::SUCCESS;
        }
    }
    ExitCode::FAILURE
}
