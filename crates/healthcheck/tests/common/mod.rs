//! Helpers shared by the root-only TCP_CHECK tests: a director thread in a namespace running
//! probes, and the TCP segments of captured frames.

#![allow(dead_code, unreachable_pub)]

use std::net::{IpAddr, SocketAddr};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use healthcheck::{Checker, ConnectOptions, Outcome, TcpCheck};
use testbed::{Frame, Netns};

pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const ACK: u8 = 0x10;

/// One TCP segment seen on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub from: SocketAddr,
    pub to: SocketAddr,
    pub flags: u8,
    pub header_len: usize,
}

/// The TCP segments of the IPv4 and IPv6 frames.
pub fn segments(frames: &[Frame]) -> Vec<Segment> {
    frames
        .iter()
        .filter_map(|f| {
            let (from, to, tcp): (IpAddr, IpAddr, &[u8]) = match f.ethertype() {
                0x0800 => {
                    let ip = f.data.get(14..)?;
                    if ip.get(9) != Some(&6) {
                        return None;
                    }
                    let v4 = |at: usize| IpAddr::from([ip[at], ip[at + 1], ip[at + 2], ip[at + 3]]);
                    (v4(12), v4(16), ip.get(usize::from(ip[0] & 0x0f) * 4..)?)
                }
                0x86dd => {
                    let ip = f.data.get(14..)?;
                    if ip.get(6) != Some(&6) {
                        return None;
                    }
                    let v6 =
                        |at: usize| IpAddr::from(<[u8; 16]>::try_from(&ip[at..at + 16]).unwrap());
                    (v6(8), v6(24), ip.get(40..)?)
                }
                _ => return None,
            };
            let port = |at: usize| Some(u16::from_be_bytes([*tcp.get(at)?, *tcp.get(at + 1)?]));
            Some(Segment {
                from: SocketAddr::new(from, port(0)?),
                to: SocketAddr::new(to, port(2)?),
                flags: *tcp.get(13)?,
                header_len: usize::from(tcp.get(12)? >> 4) * 4,
            })
        })
        .collect()
}

/// The director: one thread in its namespace, one current-thread runtime, every probe of the
/// test, so that they share that thread's raw prober and socket pool.
pub struct Director {
    jobs: mpsc::Sender<Vec<ConnectOptions>>,
    outcomes: mpsc::Receiver<Vec<(Outcome, Duration)>>,
}

impl Director {
    pub fn start(netns: &Netns) -> Self {
        let (jobs, job_rx) = mpsc::channel::<Vec<ConnectOptions>>();
        let (outcome_tx, outcomes) = mpsc::channel();
        netns
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                for batch in job_rx {
                    let outcomes = runtime.block_on(async {
                        let probes: Vec<_> = batch
                            .into_iter()
                            .map(|options| {
                                tokio::spawn(async move {
                                    let started = Instant::now();
                                    let outcome = TcpCheck::new(options).check().await;
                                    (outcome, started.elapsed())
                                })
                            })
                            .collect();
                        let mut outcomes = Vec::with_capacity(probes.len());
                        for probe in probes {
                            outcomes.push(probe.await.unwrap());
                        }
                        outcomes
                    });
                    outcome_tx.send(outcomes).unwrap();
                }
            })
            .unwrap();
        Self { jobs, outcomes }
    }

    /// Starts the probes, all at once; [`Director::outcomes`] waits for them.
    pub fn send(&self, batch: Vec<ConnectOptions>) {
        self.jobs.send(batch).unwrap();
    }

    /// The outcomes (and durations) of the last batch sent, in its order.
    pub fn outcomes(&self) -> Vec<(Outcome, Duration)> {
        self.outcomes.recv_timeout(Duration::from_secs(20)).unwrap()
    }

    /// Runs the probes at once, concurrently, and returns their outcomes in order.
    pub fn check_all(&self, batch: Vec<ConnectOptions>) -> Vec<(Outcome, Duration)> {
        self.send(batch);
        self.outcomes()
    }

    /// Runs one probe.
    pub fn check(&self, options: ConnectOptions) -> (Outcome, Duration) {
        self.check_all(vec![options]).remove(0)
    }
}
