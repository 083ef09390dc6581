//! Random files made of each format's own words: the import never panics, and whatever it
//! accepts passes keepalived-conf's strict check (the import checks that itself; a failure of
//! that check would come back as `Error::Generated`, which this test refuses).

use lvskit_import::{Error, Heartbeat, Input, Options};
use proptest::prelude::*;

const LDIRECTORD: &[&str] = &[
    "virtual=192.0.2.1:80",
    "virtual=42",
    "virtual=[2001:db8::1]:443",
    "\treal=198.51.100.1:80 gate",
    "\treal=198.51.100.2 masq 3",
    "\treal=198.51.100.3->198.51.100.5:8080 ipip \"/x\", \"y\"",
    "\treal=[2001:db8::2]:80 gate",
    "\tchecktype=negotiate",
    "\tchecktype=connect",
    "\tchecktype=4",
    "\tchecktype=external",
    "\tchecktype=ping",
    "\tchecktype=off",
    "\tservice=http",
    "\tservice=dns",
    "\tservice=ftp",
    "\tprotocol=udp",
    "\tprotocol=fwm",
    "\tcheckport=81",
    "\trequest=\"/\"",
    "\treceive=\"ok\"",
    "\tscheduler=wlc",
    "\tpersistent=30",
    "\tnetmask=255.255.255.0",
    "\tcheckcommand=/bin/true",
    "fallback=127.0.0.1:80",
    "fallback=[::1]:80 gate",
    "quiescent=no",
    "emailalert=a@example.test",
    "failurecount=2",
    "checkcount=3",
    "checkinterval=2",
    "smtp=192.0.2.25",
    "fallbackcommand=/bin/x",
    "# comment",
    "",
    "junk",
    "real=198.51.100.9:80",
    "\tautoreload=yes",
];
const HA_CF: &[&str] = &[
    "node a.example.test",
    "node b.example.test",
    "keepalive 1",
    "keepalive 200ms",
    "deadtime 1",
    "deadtime 30",
    "ucast eth0 192.0.2.2",
    "bcast eth1",
    "auto_failback off",
    "ping 192.0.2.254",
    "ping_group g 192.0.2.253 192.0.2.252",
    "crm on",
    "respawn x /usr/lib/heartbeat/ipfail",
    "deadping 5",
    "bogus 1",
    "",
];
const HARESOURCES: &[&str] = &[
    "a.example.test 192.0.2.10/24/eth0",
    "b.example.test IPaddr::192.0.2.11/24/eth0:1 httpd",
    "a.example.test IPaddr2::192.0.2.12 ldirectord",
    "c.example.test 192.0.2.13",
    "\\",
    "",
];
const LVS_CF: &[&str] = &[
    "primary = 192.0.2.1",
    "backup = 192.0.2.2",
    "backup_active = 1",
    "keepalive = 2",
    "deadtime = 9",
    "network = nat",
    "network = tunnel",
    "nat_router = 192.0.2.254 eth1:1",
    "virtual v {",
    "server s {",
    "}",
    "address = 192.0.2.10 eth0:1",
    "address = 198.51.100.1",
    "port = 80",
    "fwmark = 7",
    "protocol = udp",
    "send = \"GET / HTTP/1.0\\r\\n\\r\\n\"",
    "expect = \"HTTP\"",
    "send_program = \"/bin/x %h\"",
    "active = 0",
    "weight = 2",
    "monitor_links = 1",
    "syncdaemon = 1",
    "bogus = 1",
    "",
];

fn file(words: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(words), 0..24).prop_map(|lines| lines.join("\n"))
}

fn accepted(result: Result<lvskit_import::Imported, Error>) {
    match result {
        Ok(_) | Err(Error::Invalid { .. }) => {}
        Err(e) => panic!("{e}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn ldirectord(text in file(LDIRECTORD)) {
        accepted(lvskit_import::ldirectord(&Input::new("l.cf", text), &Options::default()));
    }

    #[test]
    fn heartbeat(ha in file(HA_CF), hr in file(HARESOURCES), ld in file(LDIRECTORD)) {
        accepted(lvskit_import::heartbeat(
            &Heartbeat {
                ha_cf: Input::new("ha.cf", ha),
                haresources: Input::new("haresources", hr),
                authkeys: Some(Input::new("authkeys", "auth 1\n1 sha1 k\n")),
                ldirectord: vec![Input::new("ldirectord.cf", ld)],
            },
            &Options::default(),
        ));
    }

    #[test]
    fn piranha(text in file(LVS_CF)) {
        accepted(lvskit_import::piranha(&Input::new("lvs.cf", text), &Options::default()));
    }

    #[test]
    fn any_text(text in ".{0,300}") {
        accepted(lvskit_import::ldirectord(&Input::new("x", text.clone()), &Options::default()));
        accepted(lvskit_import::piranha(&Input::new("x", text), &Options::default()));
    }
}
