//! Command lines against ipvsadm 1.31's answers.

use super::*;

fn parse_line(line: &str) -> Result<Invocation, Failure> {
    parse(&restore_words(line).unwrap_or_default())
}

fn error(line: &str) -> String {
    parse_line(line).unwrap_err().message
}

#[test]
fn services_and_servers_take_ipvsadm_defaults() {
    let inv = parse_line("-A -t 192.0.2.1:80 -s rr -p").unwrap();
    assert_eq!(inv.cmd, Cmd::AddService);
    assert_eq!(inv.persistent, Some(360));
    let inv = parse_line("-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -i").unwrap();
    assert_eq!(inv.dest, Some("198.51.100.1:80".parse().unwrap()));
    let inv = parse_line("-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 3").unwrap();
    assert_eq!(inv.dest, Some("198.51.100.1:8080".parse().unwrap()));
    assert_eq!(inv.weight, Some(3));
    let inv = parse_line("-a -t 192.0.2.1:80 -r 198.51.100.1 -m").unwrap();
    assert_eq!(inv.dest, Some("198.51.100.1:80".parse().unwrap()));
    let inv = parse_line("-Ln --stats").unwrap();
    assert!(inv.list.numeric && inv.list.stats);
    assert_eq!(parse(&[]).unwrap().cmd, Cmd::List);
}

#[test]
fn refusals_use_ipvsadm_words() {
    assert_eq!(
        error("-Sn -t 192.0.2.1:80"),
        "Illegal 'service-address' option with the 'save' command"
    );
    assert_eq!(
        error("-A"),
        "You need to supply the 'service-address' option for the 'add-service' command"
    );
    assert_eq!(
        error("-A -t 192.0.2.3"),
        "Zero port specified for non-persistent service"
    );
    assert_eq!(error("-L -A"), "invalid option `-A'");
    assert_eq!(error("-n -L"), TRY_HELP);
    assert_eq!(
        error("-A -t 192.0.2.1:80 -s rr -s wlc"),
        "multiple 'scheduler' options specified"
    );
    assert_eq!(
        error("-A -t 192.0.2.1:80 -b sh-port"),
        "incompatible scheduler flag `sh-port'"
    );
    assert_eq!(
        error("-a -t 192.0.2.1:80 -r 10.0.0.9 -i --tun-type gue"),
        "You need to supply the 'tun-port' option for the 'gue' tunnel type"
    );
    assert_eq!(
        error(
            "-a -t 192.0.2.1:80 -r 10.0.0.9 -i --tun-type gue --tun-port 5 --tun-csum --tun-nocsum"
        ),
        "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gue' tunnel type"
    );
    assert_eq!(
        error("-L --timeout --daemon"),
        "The option 'daemon' conflicts with the 'timeout' option in the 'list' command"
    );
    assert_eq!(
        error("-L -c --stats"),
        "options conflicts in the list command"
    );
    assert_eq!(error("--set 1 2"), "--set option requires 3 timeout values");
    assert_eq!(error("--set 1 2 3 4"), "unexpected argument 4");
    assert_eq!(parse_line("-A -t 192.0.2.300:80").unwrap_err().code, 2);
    assert_eq!(parse_line("--bogus").unwrap_err().code, 255);
    // Non-contiguous IPv4 masks are kept as given, as ipvsadm keeps them.
    let inv = parse_line("-A -t 192.0.2.1:80 -p 60 -M 255.0.255.0").unwrap();
    assert_eq!(
        inv.netmask,
        Some(Netmask::from_v4_mask([255, 0, 255, 0].into()))
    );
    let inv = parse_line("-A -t [2001:db8::1]:80 -p 60 -M 64").unwrap();
    assert_eq!(inv.netmask, Some(Netmask::from_v6_prefix(64)));
}

#[test]
fn masks_parse_like_inet_aton() {
    assert_eq!(inet_aton("255.255.255.0"), Some(0xffff_ff00));
    assert_eq!(inet_aton("255.0.255.0"), Some(0xff00_ff00));
    assert_eq!(inet_aton("0xff.0377.255.0"), Some(0xffff_ff00));
    assert_eq!(inet_aton("33"), Some(33));
    assert_eq!(inet_aton("255.255.0.0.1"), None);
}

#[test]
fn restore_lines_split_on_whitespace() {
    assert_eq!(restore_words("  \t "), None);
    assert_eq!(
        restore_words("ipvsadm -A\t-t 192.0.2.1:80\r").unwrap(),
        ["-A", "-t", "192.0.2.1:80"]
    );
}
