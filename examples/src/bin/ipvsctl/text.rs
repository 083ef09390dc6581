//! Building listing lines in a byte buffer: `-Sn` and `-Ln` of a table of 10,000 services are
//! 50,000 lines, and `write!` with its formatting machinery was a third of `ipvsctl`'s own time
//! in the VM. Numbers and IPv4 endpoints are written by hand; anything rarer goes through `write!`.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The decimal digits of `n`, at the end of a 20-byte array, and where they start.
fn digits(mut n: u64) -> ([u8; 20], usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    (digits, i)
}

/// Appends `n` in decimal.
pub(crate) fn push_u64(buf: &mut Vec<u8>, n: u64) {
    let (digits, start) = digits(n);
    buf.extend_from_slice(&digits[start..]);
}

/// Appends `n` in decimal, with its sign.
pub(crate) fn push_i64(buf: &mut Vec<u8>, n: i64) {
    if n < 0 {
        buf.push(b'-');
    }
    push_u64(buf, n.unsigned_abs());
}

fn push_ipv4(buf: &mut Vec<u8>, ip: Ipv4Addr) {
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            buf.push(b'.');
        }
        push_u64(buf, octet.into());
    }
}

/// Appends `addr:port` / `[v6]:port`, or the names `-n` leaves out (as `show::endpoint`).
pub(crate) fn push_endpoint(
    buf: &mut Vec<u8>,
    addr: SocketAddr,
    proto: Option<&str>,
    numeric: bool,
) {
    match addr.ip() {
        IpAddr::V4(ip) if numeric => {
            push_ipv4(buf, ip);
            buf.push(b':');
            push_u64(buf, addr.port().into());
        }
        _ => buf.extend_from_slice(crate::show::endpoint(addr, proto, numeric).as_bytes()),
    }
}

/// Pads with spaces what was written since `start` to `width` bytes (`{:<width}`).
pub(crate) fn pad(buf: &mut Vec<u8>, start: usize, width: usize) {
    let written = buf.len() - start;
    if written < width {
        buf.resize(buf.len() + width - written, b' ');
    }
}

/// Appends `n` right-aligned in `width` bytes (`{:>width}`).
pub(crate) fn push_u64_right(buf: &mut Vec<u8>, n: u64, width: usize) {
    let (digits, start) = digits(n);
    let len = digits.len() - start;
    if len < width {
        buf.resize(buf.len() + width - len, b' ');
    }
    buf.extend_from_slice(&digits[start..]);
}

/// Appends anything else with `write!` (writing to a `Vec` cannot fail).
pub(crate) fn push_fmt(buf: &mut Vec<u8>, args: std::fmt::Arguments<'_>) {
    let _ = buf.write_fmt(args);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_endpoints_match_the_formatter() {
        for n in [0, 1, 9, 10, 99, 100, 65_535, u64::from(u32::MAX), u64::MAX] {
            let mut buf = Vec::new();
            push_u64(&mut buf, n);
            assert_eq!(buf, n.to_string().as_bytes());
            let mut buf = Vec::new();
            push_u64_right(&mut buf, n, 9);
            assert_eq!(buf, format!("{n:>9}").as_bytes());
        }
        for n in [0, -1, i64::from(i32::MIN), i64::MIN, i64::MAX] {
            let mut buf = Vec::new();
            push_i64(&mut buf, n);
            assert_eq!(buf, n.to_string().as_bytes());
        }
        for addr in [
            "0.0.0.0:0",
            "192.0.2.1:80",
            "255.255.255.255:65535",
            "[2001:db8::1]:53",
        ] {
            let addr: SocketAddr = addr.parse().unwrap();
            let mut buf = Vec::new();
            push_endpoint(&mut buf, addr, Some("tcp"), true);
            assert_eq!(
                buf,
                crate::show::endpoint(addr, Some("tcp"), true).as_bytes()
            );
        }
        let mut buf = b"x".to_vec();
        pad(&mut buf, 1, 4);
        push_fmt(&mut buf, format_args!("{}", 7));
        assert_eq!(buf, b"x    7");
    }
}
