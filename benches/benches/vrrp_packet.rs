//! `vrrp-packet`: parse+validate (structure and checksum) and emit-with-checksum of one
//! advertisement, for the three shapes in BENCHMARKS.md.
//!
//! `cargo xtask bench vrrp_packet` (or `cargo bench -p lvskit-benches --bench vrrp_packet`).
//!
//! Every benchmark runs twice: timed by the wall clock (criterion's default, groups `vrrp_*`),
//! and by the thread's CPU clock (groups `cpu_vrrp_*`), which leaves out the time the thread
//! spends preempted: on a shared, loaded machine that is the figure that says what the code
//! costs.

use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};

use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{Criterion, criterion_group, criterion_main};
use vrrp_packet::recv::parse_ipv4;
use vrrp_packet::{
    AddressList, AuthType, ChecksumMode, ChecksumModes, MULTICAST_V4, MULTICAST_V6, Packet,
    PseudoHeader, Repr, VersionFields, ipv4,
};

static V4_ONE: [Ipv4Addr; 1] = [Ipv4Addr::new(192, 0, 2, 100)];
static V4_TWO: [Ipv4Addr; 2] = [Ipv4Addr::new(192, 0, 2, 200), Ipv4Addr::new(192, 0, 2, 201)];
static V6_EIGHT: [Ipv6Addr; 8] = [
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100),
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x101),
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x102),
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x103),
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x104),
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x105),
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x106),
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x107),
];

/// The three shapes: name, advertisement, addresses for the checksum, mode.
fn cases() -> [(&'static str, Repr<'static>, PseudoHeader, ChecksumMode); 3] {
    let src_v4 = Ipv4Addr::new(192, 0, 2, 1);
    [
        (
            "v2_pass_1vip",
            Repr {
                vrid: 51,
                priority: 120,
                version: VersionFields::V2 {
                    advert_interval_s: 1,
                    auth_type: AuthType::SimpleText,
                    auth_data: *b"1111\0\0\0\0",
                },
                addresses: AddressList::ipv4(&V4_ONE),
            },
            PseudoHeader::V4 {
                src: src_v4,
                dst: MULTICAST_V4,
            },
            ChecksumMode::NoPseudoHeader,
        ),
        (
            "v3_ipv4_2vips",
            Repr {
                vrid: 7,
                priority: 150,
                version: VersionFields::V3 {
                    max_advert_interval_cs: 50,
                },
                addresses: AddressList::ipv4(&V4_TWO),
            },
            PseudoHeader::V4 {
                src: src_v4,
                dst: MULTICAST_V4,
            },
            ChecksumMode::PseudoHeader,
        ),
        (
            "v3_ipv6_8vips",
            Repr {
                vrid: 9,
                priority: 254,
                version: VersionFields::V3 {
                    max_advert_interval_cs: 100,
                },
                addresses: AddressList::ipv6(&V6_EIGHT),
            },
            PseudoHeader::V6 {
                src: Ipv6Addr::new(0xfe80, 0, 0, 0, 0xcc95, 0x8eff, 0xfe97, 0x4ae5),
                dst: MULTICAST_V6,
            },
            ChecksumMode::PseudoHeader,
        ),
    ]
}

/// CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`).
struct ThreadCpuTime;

fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to write into.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

static WALL_TIME: WallTime = WallTime;

impl Measurement for ThreadCpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu_time()
    }
    fn end(&self, start: Duration) -> Duration {
        thread_cpu_time().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        // Durations either way: print them as criterion prints wall-clock times.
        WALL_TIME.formatter()
    }
}

/// `vrrp_` for wall-clock groups, `cpu_vrrp_` for CPU-time groups.
fn prefix<M: Measurement>() -> &'static str {
    if std::any::type_name::<M>().ends_with("ThreadCpuTime") {
        "cpu_"
    } else {
        ""
    }
}

fn parse<M: Measurement>(c: &mut Criterion<M>) {
    let mut group = c.benchmark_group(format!("{}vrrp_parse_validate", prefix::<M>()));
    for (name, repr, pseudo, mode) in cases() {
        let mut bytes = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut bytes[..]), &pseudo, mode);
        group.bench_function(name, |b| {
            b.iter(|| {
                let packet = Packet::new_checked(black_box(&bytes[..])).unwrap();
                let parsed = Repr::parse(&packet, black_box(&pseudo), ChecksumModes::ALL);
                // By reference: the result must exist, but copying it out is not parsing.
                black_box(&parsed);
                assert!(parsed.is_ok());
            })
        });
    }
    group.finish();
}

fn emit<M: Measurement>(c: &mut Criterion<M>) {
    let mut group = c.benchmark_group(format!("{}vrrp_emit_checksum", prefix::<M>()));
    for (name, repr, pseudo, mode) in cases() {
        let mut bytes = vec![0u8; repr.buffer_len()];
        group.bench_function(name, |b| {
            b.iter(|| {
                let repr = black_box(&repr);
                repr.emit(
                    &mut Packet::new_unchecked(&mut bytes[..]),
                    black_box(&pseudo),
                    mode,
                );
                black_box(&bytes);
            })
        });
    }
    group.finish();
}

/// The whole raw-socket receive path (IPv4 header checks, then the message), for comparison.
fn receive_ipv4<M: Measurement>(c: &mut Criterion<M>) {
    let mut group = c.benchmark_group(format!("{}vrrp_recv_ipv4", prefix::<M>()));
    for (name, repr, pseudo, mode) in cases().into_iter().take(2) {
        let PseudoHeader::V4 { src, dst } = pseudo else {
            continue;
        };
        let mut datagram = vec![0u8; 20 + repr.buffer_len()];
        vrrp_packet::recv::emit_ipv4(&mut datagram, &ipv4::Repr::vrrp(src, dst, 0), &repr, mode)
            .unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                let received = parse_ipv4(black_box(&datagram), ChecksumModes::ALL);
                black_box(&received);
                assert!(received.is_ok());
            })
        });
    }
    group.finish();
}

criterion_group!(
    wall,
    parse::<WallTime>,
    emit::<WallTime>,
    receive_ipv4::<WallTime>
);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = parse::<ThreadCpuTime>, emit::<ThreadCpuTime>, receive_ipv4::<ThreadCpuTime>
}
criterion_main!(wall, cpu);
