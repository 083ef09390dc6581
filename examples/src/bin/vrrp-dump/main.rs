//! `vrrp-dump`: tcpdump for VRRP only.
//!
//! Reads a pcap or pcapng file (`-r FILE`) or captures live on an interface (`-i IFACE`, an
//! AF_PACKET socket, needs CAP_NET_RAW) and prints one line per VRRP advertisement: time, source,
//! destination, version, VRID, priority, interval, addresses, authentication, TTL, and the
//! checksum's validity and mode (every mode is tried: see `vrrp_packet::ChecksumMode`).
//!
//! `--json` prints one JSON object per advertisement with the keys `version`, `vrid`,
//! `priority`, `advert_interval_cs` (v2's seconds × 100), `addresses`, `auth_type` (`"none"`,
//! `"simple"`, `"ah"`, `"unknown(N)"`; `null` for v3), `auth_data` (the 8 bytes in hex; `null` for
//! v3), `checksum_ok`, `checksum_mode` (`null` when no mode matches), `src`, `dst` and `ttl`.
//! A malformed VRRP packet prints its error (JSON: an object with an `error` key, and `src`,
//! `dst`, `ttl` where known) and the capture goes on; frames that are not VRRP are skipped.
//! The exit status is non-zero only when the file cannot be read.

mod decode;
mod live;

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use serde_json::{Value, json};

use vrrp_packet::capture::{self, IpPacket};
use vrrp_packet::capture_file;

use decode::{Advert, Broken, Decoded, auth_type_name};

/// Prints VRRP advertisements from a capture file or a live interface, one per line.
#[derive(Debug, Parser)]
#[command(name = "vrrp-dump", version)]
struct Args {
    /// Read packets from this pcap or pcapng file.
    #[arg(
        short = 'r',
        long = "read",
        value_name = "FILE",
        conflicts_with = "interface"
    )]
    file: Option<PathBuf>,
    /// Capture live on this interface (AF_PACKET; needs CAP_NET_RAW).
    #[arg(
        short = 'i',
        long,
        value_name = "IFACE",
        required_unless_present = "file"
    )]
    interface: Option<String>,
    /// One JSON object per packet instead of text.
    #[arg(long)]
    json: bool,
    /// Stop after this many VRRP packets (advertisements and errors).
    #[arg(short = 'c', long, value_name = "N")]
    count: Option<u64>,
}

/// Where output goes, and how many VRRP packets it has printed.
struct Printer {
    json: bool,
    printed: u64,
    limit: Option<u64>,
    out: std::io::StdoutLock<'static>,
}

impl Printer {
    /// Prints what a frame held; returns false once the output is closed or the count is reached.
    fn frame(&mut self, time: Duration, linktype: u32, frame: &[u8]) -> bool {
        let Some(ip) = capture::ip_in_frame(linktype, frame) else {
            return true;
        };
        self.ip(time, ip)
    }

    fn ip(&mut self, time: Duration, ip: IpPacket<'_>) -> bool {
        let line = match decode::decode(ip) {
            Decoded::NotVrrp => return true,
            Decoded::Advert(advert) if self.json => advert_json(&advert).to_string(),
            Decoded::Advert(advert) => advert_text(time, &advert),
            Decoded::Broken(broken) if self.json => broken_json(&broken).to_string(),
            Decoded::Broken(broken) => broken_text(time, &broken),
        };
        if writeln!(self.out, "{line}")
            .and_then(|()| self.out.flush())
            .is_err()
        {
            // The reader went away (`| head`): nothing more to do.
            return false;
        }
        self.printed += 1;
        self.limit.is_none_or(|limit| self.printed < limit)
    }
}

fn main() -> ExitCode {
    lvskit_examples::init_logging();
    let args = Args::parse();
    let mut printer = Printer {
        json: args.json,
        printed: 0,
        limit: args.count,
        out: std::io::stdout().lock(),
    };
    let result = match (&args.file, &args.interface) {
        (Some(file), _) => read_file(file, &mut printer),
        (None, Some(interface)) => live::capture(interface, &mut printer),
        (None, None) => Err(anyhow::anyhow!("give -r FILE or -i IFACE")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vrrp-dump: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn read_file(path: &Path, printer: &mut Printer) -> anyhow::Result<()> {
    let file = BufReader::new(File::open(path).with_context(|| format!("{}", path.display()))?);
    let summary = capture_file::for_each_frame(file, |frame| {
        printer.frame(frame.time, frame.linktype, frame.data)
    })
    .with_context(|| format!("{}", path.display()))?;
    for linktype in summary.skipped_link_types {
        eprintln!("vrrp-dump: skipped the frames of link type {linktype}");
    }
    Ok(())
}

fn advert_json(advert: &Advert) -> Value {
    let (auth_type, auth_data) = match advert.auth {
        Some((auth_type, data)) => (json!(auth_type_name(auth_type)), json!(hex(&data))),
        None => (Value::Null, Value::Null),
    };
    json!({
        "version": advert.version,
        "vrid": advert.vrid,
        "priority": advert.priority,
        "advert_interval_cs": advert.advert_interval_cs,
        "addresses": advert.addresses.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "auth_type": auth_type,
        "auth_data": auth_data,
        "checksum_ok": advert.checksum_mode.is_some(),
        "checksum_mode": advert.checksum_mode.map(|m| m.name()),
        "src": advert.src.to_string(),
        "dst": advert.dst.to_string(),
        "ttl": advert.ttl,
    })
}

fn broken_json(broken: &Broken) -> Value {
    let mut object = json!({ "error": broken.error });
    if let Some(src) = broken.src {
        object["src"] = json!(src.to_string());
    }
    if let Some(dst) = broken.dst {
        object["dst"] = json!(dst.to_string());
    }
    if let Some(ttl) = broken.ttl {
        object["ttl"] = json!(ttl);
    }
    object
}

fn advert_text(time: Duration, advert: &Advert) -> String {
    let addresses: Vec<String> = advert.addresses.iter().map(ToString::to_string).collect();
    let interval = if advert.version == 2 {
        format!("{}s", advert.advert_interval_cs / 100)
    } else {
        format!("{}cs", advert.advert_interval_cs)
    };
    let auth = match advert.auth {
        None => String::new(),
        Some((vrrp_packet::AuthType::SimpleText, data)) => {
            let text = data.split(|b| *b == 0).next().unwrap_or_default();
            format!(" auth simple {:?}", String::from_utf8_lossy(text))
        }
        Some((auth_type, data)) if data == [0; 8] => format!(" auth {}", auth_type_name(auth_type)),
        Some((auth_type, data)) => format!(" auth {} {}", auth_type_name(auth_type), hex(&data)),
    };
    let checksum = match advert.checksum_mode {
        Some(mode) => format!("checksum ok ({mode})"),
        None => "checksum BAD".to_string(),
    };
    format!(
        "{} {} > {} VRRPv{} vrid {} prio {} intvl {} addrs [{}]{} ttl {} {}",
        timestamp(time),
        advert.src,
        advert.dst,
        advert.version,
        advert.vrid,
        advert.priority,
        interval,
        addresses.join(", "),
        auth,
        advert.ttl,
        checksum
    )
}

fn broken_text(time: Duration, broken: &Broken) -> String {
    let or_unknown = |a: Option<std::net::IpAddr>| a.map_or("?".to_string(), |a| a.to_string());
    format!(
        "{} {} > {} VRRP error: {}",
        timestamp(time),
        or_unknown(broken.src),
        or_unknown(broken.dst),
        broken.error
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `YYYY-MM-DDTHH:MM:SS.uuuuuuZ` for a time since the Unix epoch.
fn timestamp(time: Duration) -> String {
    let secs = time.as_secs();
    let days = (secs / 86_400) as i64;
    let of_day = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        time.subsec_micros()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_dates() {
        assert_eq!(timestamp(Duration::ZERO), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            timestamp(Duration::new(951_782_400 + 86_399, 5_000)),
            "2000-02-29T23:59:59.000005Z"
        );
        // `date -u -d @1795000000`
        assert_eq!(
            timestamp(Duration::from_secs(1_795_000_000)),
            "2026-11-18T11:06:40.000000Z"
        );
    }
}
