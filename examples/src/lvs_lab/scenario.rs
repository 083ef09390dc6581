//! The lab's scripted sequence: each step acts, waits (within a generous bound) for the system
//! to settle, lets the client run, and checks the outcome: who is MASTER, which real servers are
//! in the table, and how many requests failed (none where the step promises it, a bound where it
//! does not). The live view is drawn while the steps wait.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::{
    Answer, Binaries, Client, DIRECTOR_NAMES, EchoConnection, LbSettings, Method, SERVER_NAMES,
    Sample, Topology, config, entered_state, master_down_interval,
};

/// How the live view is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Redrawn in place (a terminal).
    Redraw,
    /// One timestamped line per second.
    Lines,
    /// Nothing (tests).
    Quiet,
}

impl View {
    /// [`Redraw`](Self::Redraw) when stdout is a terminal, [`Lines`](Self::Lines) otherwise.
    pub fn detect() -> Self {
        if std::io::stdout().is_terminal() {
            Self::Redraw
        } else {
            Self::Lines
        }
    }
}

/// What the lab runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The forwarding method.
    pub method: Method,
    /// Where the programs are.
    pub binaries: Binaries,
    /// The live view.
    pub view: View,
    /// The time between two client requests.
    pub interval: Duration,
    /// Each request's connect and answer timeout.
    pub timeout: Duration,
}

impl Options {
    /// The defaults: 20 requests a second, 1 s timeout.
    pub fn new(method: Method, binaries: Binaries, view: View) -> Self {
        Self {
            method,
            binaries,
            view,
            interval: Duration::from_millis(50),
            timeout: Duration::from_secs(1),
        }
    }
}

/// A VRRP state change seen in a director's log.
#[derive(Debug, Clone)]
pub struct Transition {
    /// When it was seen, from the client's start.
    pub at: Duration,
    /// The director (0 = a, 1 = b).
    pub director: usize,
    /// The state entered.
    pub state: String,
}

/// The outcome of one step.
#[derive(Debug, Clone)]
pub struct StepReport {
    /// What was done.
    pub name: String,
    /// What should follow.
    pub expect: String,
    /// When the step began, from the client's start.
    pub start: Duration,
    /// When the next step began (or the run ended).
    pub end: Duration,
    /// How long the system took to reach the expected state, when it did.
    pub settle: Option<Duration>,
    /// Requests sent during the step.
    pub sent: usize,
    /// Requests that failed.
    pub failed: usize,
    /// The most failures the step allows (0: it promises none).
    pub allowed: usize,
    /// VRRP transitions during the step.
    pub transitions: usize,
    /// The MASTER at the end of the step.
    pub master: Option<String>,
    /// The HTTP service's real servers in the MASTER's table at the end (`rs1:3 rs2:1`).
    pub table: String,
    /// For the SIGKILL step: first failed to first good request, and the requests lost.
    pub window: Option<(Duration, usize)>,
    /// Why the step did not end as expected, if it did not.
    pub error: Option<String>,
}

impl StepReport {
    /// Whether the step ended as expected.
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }
}

/// A running lab: the topology, the client, what was seen, the steps done.
#[derive(Debug)]
pub struct Lab {
    /// The namespaces and daemons.
    pub topo: Topology,
    /// The request loop.
    pub client: Client,
    /// VRRP transitions seen so far.
    pub transitions: Vec<Transition>,
    /// The steps done so far.
    pub steps: Vec<StepReport>,
    /// The options it runs with.
    pub options: Options,
    /// The virtual server's current settings.
    pub lb: LbSettings,
    /// How many real servers the configuration has in the lab (1 or 2).
    pub servers: usize,
    /// Whether the configurations came from `--config`.
    pub seeded: bool,
    seen: [usize; 2],
    last_draw: Option<Instant>,
    drawn_lines: usize,
    current: String,
}

/// The share of answers real server 0 should get for `weights` (weighted schedulers).
pub fn expected_share(weights: [u32; 2]) -> f64 {
    f64::from(weights[0]) / f64::from(weights[0] + weights[1]).max(1.0)
}

/// Counts answers per real server.
pub fn spread(samples: &[Sample]) -> [usize; 2] {
    let mut counts = [0; 2];
    for s in samples {
        if let Answer::Server(i) = s.answer {
            counts[i] += 1;
        }
    }
    counts
}

/// First failed to first good request at or after `from`, and the failures between them.
pub fn failover_window(samples: &[Sample], from: Duration) -> Option<(Duration, usize)> {
    let after: Vec<&Sample> = samples.iter().filter(|s| s.at >= from).collect();
    let first_failed = after.iter().position(|s| s.failed())?;
    let good = after[first_failed..].iter().position(|s| !s.failed())?;
    let lost = good;
    Some((after[first_failed + good].at - after[first_failed].at, lost))
}

impl Lab {
    /// Builds the topology, starts both directors with the built-in configurations (or
    /// `configs`), waits until `a` is MASTER with both real servers in its table and answers
    /// come back, then starts the client.
    pub fn start(options: Options, configs: Option<[String; 2]>) -> Result<Self> {
        let mut topo = Topology::new(options.method, options.binaries.clone())?;
        let servers = match &configs {
            // A seed may have a single real server.
            Some(c) => (0..2)
                .filter(|&i| {
                    c[0].contains(&format!("real_server {} ", options.method.servers()[i]))
                })
                .count()
                .max(1),
            None => 2,
        };
        let lb = LbSettings::default();
        for i in 0..2 {
            let text = match &configs {
                Some(c) => c[i].clone(),
                None => config(options.method, i, &lb),
            };
            topo.write_config(i, &text)?;
            topo.start_director(i)?;
        }
        let client = Client::start(&topo, options.interval, options.timeout)?;
        let mut lab = Self {
            topo,
            client,
            transitions: Vec::new(),
            steps: Vec::new(),
            options,
            lb,
            servers,
            seeded: configs.is_some(),
            seen: [0, 0],
            last_draw: None,
            drawn_lines: 0,
            current: "start".into(),
        };
        let began = lab.client.now();
        let settled = lab.settle(Duration::from_secs(60), |lab| {
            Ok(lab.states() == ["MASTER", "BACKUP"]
                && lab.topo.http_table(0)?.len() == servers
                && lab.recent_good(3))
        });
        if let Err(e) = settled {
            bail!(
                "the lab did not come up: {e}\ndirector a's log:\n{}\ndirector b's log:\n{}",
                lab.topo.log(0),
                lab.topo.log(1)
            );
        }
        // Startup is not a step: the steps start from a settled system.
        let _ = began;
        Ok(lab)
    }

    /// The directors' VRRP states (`-` when unknown or not running).
    pub fn states(&mut self) -> [String; 2] {
        [0, 1].map(|i| self.topo.vrrp_state(i).unwrap_or_else(|| "-".into()))
    }

    /// Whether the last `n` completed requests all got an answer.
    fn recent_good(&self, n: usize) -> bool {
        let samples = self.client.samples();
        samples.len() >= n && samples[samples.len() - n..].iter().all(|s| !s.failed())
    }

    /// Polls the logs for transitions and draws the live view.
    fn tick(&mut self) {
        for i in 0..2 {
            let log = self.topo.all_logs(i);
            let states: Vec<String> = log.lines().filter_map(entered_state).collect();
            for state in &states[self.seen[i].min(states.len())..] {
                self.transitions.push(Transition {
                    at: self.client.now(),
                    director: i,
                    state: state.clone(),
                });
            }
            self.seen[i] = states.len();
        }
        let every = match self.options.view {
            View::Quiet => return,
            View::Redraw => Duration::from_millis(500),
            View::Lines => Duration::from_secs(1),
        };
        if self.last_draw.is_some_and(|t| t.elapsed() < every) {
            return;
        }
        self.last_draw = Some(Instant::now());
        self.draw();
    }

    fn draw(&mut self) {
        let now = self.client.now();
        let samples = self.client.samples();
        let failed = samples.iter().filter(|s| s.failed()).count();
        let recent: Vec<Sample> = samples
            .iter()
            .filter(|s| s.at + Duration::from_secs(5) >= now)
            .cloned()
            .collect();
        let counts = spread(&recent);
        let states = self.states();
        let master = self.topo.master();
        let table = master
            .and_then(|m| self.topo.ipvsadm(m, &["-Ln"]).ok())
            .unwrap_or_default();
        let method = self.options.method.keyword();
        match self.options.view {
            View::Redraw => {
                let mut out = String::new();
                let _ = writeln!(
                    out,
                    "lvs-lab {method}   t = {:6.1} s   step: {}",
                    now.as_secs_f64(),
                    self.current
                );
                let _ = writeln!(out, "directors: a {}   b {}", states[0], states[1]);
                let _ = writeln!(
                    out,
                    "IPVS table of {}:",
                    master.map_or("(no MASTER)", |m| DIRECTOR_NAMES[m])
                );
                for line in table.lines().skip(3) {
                    let _ = writeln!(out, "  {line}");
                }
                let _ = writeln!(
                    out,
                    "answers, last 5 s: rs1 {}  rs2 {}   failed so far: {failed} of {}",
                    counts[0],
                    counts[1],
                    samples.len()
                );
                let mut stdout = std::io::stdout().lock();
                if self.drawn_lines > 0 {
                    let _ = write!(stdout, "\x1b[{}A\x1b[J", self.drawn_lines);
                }
                let _ = stdout.write_all(out.as_bytes());
                let _ = stdout.flush();
                self.drawn_lines = out.lines().count();
            }
            View::Lines => {
                let dests: Vec<String> = table
                    .lines()
                    .filter(|l| l.trim_start().starts_with("->"))
                    .filter_map(|l| {
                        let w: Vec<&str> = l.split_whitespace().collect();
                        (w.len() >= 6).then(|| format!("{}/w{}/a{}/i{}", w[1], w[3], w[4], w[5]))
                    })
                    .collect();
                println!(
                    "[{:7.1}s] {:<28} a={:<7} b={:<7} rs1={:<3} rs2={:<3} failed={failed}/{} ipvs: {}",
                    now.as_secs_f64(),
                    self.current,
                    states[0],
                    states[1],
                    counts[0],
                    counts[1],
                    samples.len(),
                    dests.join(" ")
                );
            }
            View::Quiet => {}
        }
    }

    /// Waits (ticking) until `done` holds, at most `bound`; returns the time it took.
    pub fn settle(
        &mut self,
        bound: Duration,
        mut done: impl FnMut(&mut Self) -> Result<bool>,
    ) -> Result<Duration> {
        let start = Instant::now();
        loop {
            self.tick();
            if done(self)? {
                return Ok(start.elapsed());
            }
            if start.elapsed() > bound {
                bail!("not settled within {} s", bound.as_secs());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Lets the client run for `d`, ticking.
    pub fn traffic(&mut self, d: Duration) {
        let end = Instant::now() + d;
        while Instant::now() < end {
            self.tick();
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn table_text(&mut self) -> String {
        let Some(m) = self.topo.master() else {
            return "-".into();
        };
        match self.topo.http_table(m) {
            Ok(t) if t.is_empty() => "(empty)".into(),
            Ok(t) => t
                .iter()
                .map(|(i, w)| format!("{}:{w}", SERVER_NAMES[*i]))
                .collect::<Vec<_>>()
                .join(" "),
            Err(e) => format!("({e})"),
        }
    }

    /// Runs one step: `act`, then waits for `settled` (within `bound`), lets the client run
    /// for `run`, and calls `check` with the requests sent since the step began and the time
    /// it settled (from the client's start). Failures above `allowed` fail the step.
    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        name: &str,
        expect: &str,
        allowed: usize,
        act: impl FnOnce(&mut Self) -> Result<()>,
        settled: impl FnMut(&mut Self) -> Result<bool>,
        run: Duration,
        check: impl FnOnce(&mut Self, &[Sample], Duration) -> Result<()>,
    ) {
        self.current = name.to_string();
        let start = self.client.now();
        let transitions_before = self.transitions.len();
        let mut error = None;
        let mut settle = None;
        if let Err(e) = act(self) {
            error = Some(format!("{name}: {e}"));
        } else {
            match self.settle(Duration::from_secs(30), settled) {
                Ok(d) => settle = Some(d),
                Err(e) => error = Some(format!("{expect}: {e}")),
            }
        }
        let settled_at = self.client.now();
        self.traffic(run);
        let end_mark = self.client.now();
        // Let the requests in flight complete.
        self.traffic(self.options.timeout + Duration::from_millis(200));
        let samples = self.client.between(start, end_mark);
        if error.is_none()
            && let Err(e) = check(self, &samples, settled_at)
        {
            error = Some(e.to_string());
        }
        let failed = samples.iter().filter(|s| s.failed()).count();
        if error.is_none() && failed > allowed {
            error = Some(format!(
                "{failed} requests failed, at most {allowed} allowed"
            ));
        }
        let master = self.topo.master().map(|m| DIRECTOR_NAMES[m].to_string());
        let table = self.table_text();
        self.steps.push(StepReport {
            name: name.into(),
            expect: expect.into(),
            start,
            end: end_mark,
            settle,
            sent: samples.len(),
            failed,
            allowed,
            transitions: self.transitions.len() - transitions_before,
            master,
            table,
            window: None,
            error,
        });
    }

    /// The most requests that can fail in `d`, plus a margin of `slack` requests.
    fn requests_in(&self, d: Duration, slack: usize) -> usize {
        (d.as_secs_f64() / self.options.interval.as_secs_f64()).ceil() as usize + slack
    }

    fn reload(&mut self, lb: LbSettings) -> Result<()> {
        for i in 0..2 {
            self.topo
                .write_config(i, &config(self.options.method, i, &lb))?;
            self.topo.signal_director(i, libc::SIGHUP)?;
        }
        self.lb = lb;
        Ok(())
    }

    /// Runs the whole scripted sequence (the built-in configurations).
    pub fn run_sequence(&mut self) {
        let share_ok = |weights: [u32; 2], samples: &[Sample]| -> Result<()> {
            let counts = spread(samples);
            let total = counts[0] + counts[1];
            if total < 10 {
                bail!("only {total} answers");
            }
            let share = counts[0] as f64 / total as f64;
            let want = expected_share(weights);
            if (share - want).abs() > 0.15 {
                bail!(
                    "rs1 got {:.0}% of the answers, the weights {weights:?} say {:.0}%",
                    share * 100.0,
                    want * 100.0
                );
            }
            Ok(())
        };
        let weights = self.lb.weights;
        let seeded = self.seeded;
        self.step(
            if seeded { "steady" } else { "steady (wrr 3:1)" },
            if seeded {
                "nothing fails"
            } else {
                "the spread follows the weights, nothing fails"
            },
            0,
            |_| Ok(()),
            |_| Ok(true),
            Duration::from_secs(4),
            |_, s, _| if seeded { Ok(()) } else { share_ok(weights, s) },
        );

        // 1. A real server's httpd stopped, then started. A seed's checks are slower (its
        // delay_loop and retries): the bound is the step's whole 30 s then.
        let check_bound = if seeded {
            self.requests_in(Duration::from_secs(32), 3)
        } else {
            self.requests_in(Duration::from_secs(5), 3)
        };
        if self.servers == 2 {
            self.step(
                "rs2 httpd stopped",
                "rs2 removed from the table",
                check_bound,
                |lab| {
                    lab.topo.stop_httpd(1);
                    Ok(())
                },
                |lab| Ok(lab.master_table()?.iter().all(|(i, _)| *i != 1)),
                Duration::from_secs(2),
                |_, samples, settled| {
                    let late: Vec<&Sample> = samples
                        .iter()
                        .filter(|s| s.at > settled && s.failed())
                        .collect();
                    if let Some(s) = late.first() {
                        bail!(
                            "{} requests failed after rs2 left the table (first at {:.1} s: {:?})",
                            late.len(),
                            s.at.as_secs_f64(),
                            s.answer
                        );
                    }
                    Ok(())
                },
            );
            self.step(
                "rs2 httpd started",
                "rs2 back in the table",
                0,
                |lab| lab.topo.start_httpd(1),
                |lab| Ok(lab.master_table()?.iter().any(|(i, _)| *i == 1)),
                Duration::from_secs(2),
                |_, samples, settled| {
                    // With persistence (a seed) the client may stay where it is.
                    if !seeded
                        && !samples
                            .iter()
                            .any(|s| s.at > settled && s.answer == Answer::Server(1))
                    {
                        bail!("rs2 answered nothing after it came back");
                    }
                    Ok(())
                },
            );
        }

        // 2. The MASTER killed, the BACKUP takes over; restarted, it preempts back. An echo
        // connection opened before must survive both (the connection is synced to b).
        let mut echo = if seeded {
            None
        } else {
            self.open_synced_echo()
        };
        let takeover_bound = self.requests_in(master_down_interval() + Duration::from_secs(3), 3);
        let kill_at = self.client.now();
        self.step(
            "MASTER a killed (SIGKILL)",
            "b MASTER",
            takeover_bound,
            |lab| lab.topo.signal_director(0, libc::SIGKILL),
            |lab| Ok(lab.topo.vrrp_state(1).as_deref() == Some("MASTER")),
            Duration::from_secs(2),
            |_, _, _| Ok(()),
        );
        let window = failover_window(&self.client.samples(), kill_at);
        if let Some(last) = self.steps.last_mut() {
            last.window = Some(window.unwrap_or_default());
        }
        self.echo_check(&mut echo, "after the takeover");
        self.step(
            "a restarted",
            "a MASTER again (preempts), b BACKUP, table adopted",
            takeover_bound,
            |lab| lab.topo.start_director(0),
            |lab| Ok(lab.states() == ["MASTER", "BACKUP"]),
            Duration::from_secs(2),
            |lab, _, _| {
                let log = lab.topo.log(0);
                if !log.contains(" 0 IPVS requests to converge") {
                    bail!("the restarted lvskitd did not adopt the table as it was");
                }
                Ok(())
            },
        );
        self.echo_check(&mut echo, "after a came back");

        // 3. A reload with a changed weight: the spread follows, nothing else moves.
        if seeded {
            self.seeded_reload();
        } else {
            let new = LbSettings {
                weights: [1, 1],
                ..self.lb.clone()
            };
            self.step(
                "reload (SIGHUP), rs1 weight 3 -> 1",
                "spread 1:1, no failure, no VRRP transition",
                0,
                |lab| lab.reload(new),
                |lab| Ok(lab.master_table()?.contains(&(0, 1))),
                Duration::from_secs(4),
                |lab, samples, settled| {
                    let after: Vec<Sample> =
                        samples.iter().filter(|s| s.at > settled).cloned().collect();
                    share_ok([1, 1], &after)?;
                    lab.quiet_reload(samples.first().map_or(settled, |s| s.at))
                },
            );
        }

        // 4. The MASTER's interface down, then up.
        self.step(
            "a's eth0 down",
            "a FAULT, b MASTER",
            takeover_bound,
            |lab| lab.topo.set_director_link(0, false),
            |lab| Ok(lab.states() == ["FAULT", "MASTER"]),
            Duration::from_secs(2),
            |_, _, _| Ok(()),
        );
        self.step(
            "a's eth0 up",
            "a MASTER again, b BACKUP",
            takeover_bound,
            |lab| lab.topo.set_director_link(0, true),
            |lab| Ok(lab.states() == ["MASTER", "BACKUP"]),
            Duration::from_secs(2),
            |_, _, _| Ok(()),
        );

        // 5. Persistence holds the client to one real server.
        if seeded {
            self.current = "done".into();
            return;
        }
        let persistent = LbSettings {
            scheduler: "rr".into(),
            weights: [1, 1],
            persistence: Some(60),
        };
        self.step(
            "reload: rr, persistence_timeout 60",
            "every answer from one real server",
            0,
            |lab| lab.reload(persistent),
            |lab| {
                let m = lab.topo.master().unwrap_or(0);
                Ok(lab.topo.ipvsadm(m, &["-Ln"])?.contains("persistent 60"))
            },
            Duration::from_secs(3),
            |_, samples, settled| {
                let after: Vec<Sample> =
                    samples.iter().filter(|s| s.at > settled).cloned().collect();
                let counts = spread(&after);
                if counts[0] + counts[1] < 10 || (counts[0] > 0 && counts[1] > 0) {
                    bail!(
                        "answers after the reload: rs1 {}, rs2 {}",
                        counts[0],
                        counts[1]
                    );
                }
                Ok(())
            },
        );
        self.current = "done".into();
        // Close the last window at the end of the run.
        if let Some(last) = self.steps.last_mut() {
            last.end = last.end.max(self.client.now());
        }
    }

    /// After a reload: no VRRP transition since `since`, and a's reload took one request.
    fn quiet_reload(&self, since: Duration) -> Result<()> {
        let moved = self.transitions.iter().filter(|t| t.at >= since).count();
        if moved > 0 {
            bail!("{moved} VRRP transitions during the reload");
        }
        if !self.topo.log(0).contains("with 1 IPVS requests") {
            bail!("a's reload did not take exactly one IPVS request");
        }
        Ok(())
    }

    /// A seed's reload: the first real server's weight plus one, in both files.
    fn seeded_reload(&mut self) {
        let planned: Vec<Option<(String, u32)>> = (0..2)
            .map(|i| {
                std::fs::read_to_string(self.topo.config_path(i))
                    .ok()
                    .and_then(|t| bump_first_weight(&t))
            })
            .collect();
        let weight = planned[0].as_ref().map(|(_, w)| *w);
        self.step(
            "reload (SIGHUP), rs1 weight + 1",
            "the new weight, no failure, no VRRP transition",
            0,
            |lab| {
                for (i, plan) in planned.into_iter().enumerate() {
                    let (text, _) =
                        plan.ok_or_else(|| anyhow::anyhow!("no real_server weight to change"))?;
                    lab.topo.write_config(i, &text)?;
                    lab.topo.signal_director(i, libc::SIGHUP)?;
                }
                Ok(())
            },
            |lab| Ok(weight.is_some_and(|w| lab.master_table().is_ok_and(|t| t.contains(&(0, w))))),
            Duration::from_secs(3),
            |lab, samples, settled| lab.quiet_reload(samples.first().map_or(settled, |s| s.at)),
        );
    }

    fn master_table(&mut self) -> Result<Vec<(usize, u32)>> {
        match self.topo.master() {
            Some(m) => self.topo.http_table(m),
            None => Ok(Vec::new()),
        }
    }

    /// Opens the echo connection and waits until the backup holds it (sync daemon); a failure
    /// is recorded as a step of its own.
    fn open_synced_echo(&mut self) -> Option<EchoConnection> {
        let result = (|| -> Result<EchoConnection> {
            let mut echo = EchoConnection::open(&self.topo)?;
            echo.exchange(Duration::from_secs(5))?;
            let port = format!(":{}", echo.local_port());
            let mut last_exchange = Instant::now();
            self.settle(Duration::from_secs(30), |lab| {
                // Traffic on the connection makes the sync daemon send it.
                if last_exchange.elapsed() > Duration::from_millis(300) {
                    echo.exchange(Duration::from_secs(5))?;
                    last_exchange = Instant::now();
                }
                Ok(lab.topo.ipvsadm(1, &["-Lnc"])?.contains(&port))
            })
            .map_err(|e| anyhow::anyhow!("the echo connection never reached b's table: {e}"))?;
            Ok(echo)
        })();
        match result {
            Ok(echo) => Some(echo),
            Err(e) => {
                self.record_check("echo connection synced to b", Err(e));
                None
            }
        }
    }

    fn echo_check(&mut self, echo: &mut Option<EchoConnection>, when: &str) {
        let Some(conn) = echo.as_mut() else {
            return;
        };
        let result = conn.exchange(Duration::from_secs(20));
        if result.is_err() {
            *echo = None;
        }
        self.record_check(&format!("established connection {when}"), result);
    }

    /// A check that is not a step of its own: its outcome is added to the last step.
    fn record_check(&mut self, what: &str, result: Result<()>) {
        if let Err(e) = result
            && let Some(last) = self.steps.last_mut()
        {
            let text = format!("{what}: {e:#}");
            last.error = Some(match last.error.take() {
                Some(prev) => format!("{prev}; {text}"),
                None => text,
            });
        }
    }

    /// Stops the client and recounts each step over contiguous windows (a step lasts until
    /// the next one begins).
    pub fn finish(&mut self) {
        self.client.stop(self.options.timeout);
        if self.options.view == View::Redraw {
            self.drawn_lines = 0;
        }
        let samples = self.client.samples();
        let ends: Vec<Duration> = self
            .steps
            .iter()
            .skip(1)
            .map(|s| s.start)
            .chain(std::iter::once(Duration::MAX))
            .collect();
        for (step, end) in self.steps.iter_mut().zip(ends) {
            let window: Vec<&Sample> = samples
                .iter()
                .filter(|s| s.at >= step.start && s.at < end)
                .collect();
            step.end = end.min(samples.last().map_or(step.end, |s| s.at));
            step.sent = window.len();
            step.failed = window.iter().filter(|s| s.failed()).count();
        }
    }

    /// The summary table.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "| step | expected | settled in | failed / sent | MASTER | table | result |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|");
        for s in &self.steps {
            let settle = s
                .settle
                .map_or("-".into(), |d| format!("{:.1} s", d.as_secs_f64()));
            let mut failed = format!("{} / {}", s.failed, s.sent);
            if let Some((w, lost)) = s.window {
                let _ = write!(failed, " (window {:.2} s, {lost} lost)", w.as_secs_f64());
            }
            let result = match &s.error {
                None => "ok".to_string(),
                Some(e) => format!("FAILED: {e}"),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {settle} | {failed} | {} | {} | {result} |",
                s.name,
                s.expect,
                s.master.as_deref().unwrap_or("-"),
                s.table
            );
        }
        out
    }

    /// The first step that did not end as expected.
    pub fn first_failure(&self) -> Option<&StepReport> {
        self.steps.iter().find(|s| !s.ok())
    }

    /// The SVG plot of the run.
    pub fn plot(&self) -> Result<String> {
        super::plot::svg(
            &format!("lvs-lab, LVS-{}", self.options.method.keyword()),
            &self.client.samples(),
            &self.steps,
            &self.transitions,
        )
    }
}

/// The text with the first real server's weight (1 when it has none) plus one, and that weight.
pub fn bump_first_weight(text: &str) -> Option<(String, u32)> {
    let mut in_real = false;
    let mut done = None;
    let mut out = String::new();
    for line in text.lines() {
        let code = line.split(['#', '!']).next().unwrap_or("");
        let words: Vec<&str> = code.split_whitespace().collect();
        let mut new = line.to_string();
        match words.as_slice() {
            ["real_server", ..] if done.is_none() => in_real = true,
            ["weight", w, ..] if in_real && done.is_none() => {
                let w: u32 = w.parse().ok()?;
                let indent = &line[..line.len() - line.trim_start().len()];
                new = format!("{indent}weight {}", w + 1);
                done = Some(w + 1);
            }
            _ => {}
        }
        out.push_str(&new);
        out.push('\n');
        if done.is_some() {
            in_real = false;
        }
    }
    if done.is_none() {
        // No weight line: add one (default 1) after the first real_server line.
        let at = out.find("real_server")?;
        let eol = at + out[at..].find('\n')?;
        out.insert_str(eol + 1, "        weight 2\n");
        return Some((out, 2));
    }
    done.map(|w| (out, w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_real_servers_weight_is_bumped() {
        let text = "virtual_server 192.0.2.100 80 {\n    real_server 192.0.2.11 80 {\n        weight 3\n    }\n    real_server 192.0.2.12 80 {\n        weight 1\n    }\n}\n";
        let (new, w) = bump_first_weight(text).unwrap();
        assert_eq!(w, 4);
        assert!(new.contains("weight 4") && new.contains("weight 1") && !new.contains("weight 3"));
        let (new, w) = bump_first_weight("real_server 192.0.2.11 80 {\n}\n").unwrap();
        assert_eq!(
            (new.as_str(), w),
            ("real_server 192.0.2.11 80 {\n        weight 2\n}\n", 2)
        );
    }

    fn sample(ms: u64, answer: Answer) -> Sample {
        Sample {
            at: Duration::from_millis(ms),
            answer,
        }
    }

    #[test]
    fn the_failover_window_runs_from_the_first_failure_to_the_next_answer() {
        let f = || Answer::Failed("timeout".into());
        let samples = [
            sample(0, f()),
            sample(100, Answer::Server(0)),
            sample(200, f()),
            sample(300, f()),
            sample(400, Answer::Server(1)),
            sample(500, f()),
        ];
        assert_eq!(
            failover_window(&samples, Duration::from_millis(50)),
            Some((Duration::from_millis(200), 2))
        );
        assert_eq!(failover_window(&samples[1..2], Duration::ZERO), None);
        assert_eq!(spread(&samples), [1, 1]);
        assert!((expected_share([3, 1]) - 0.75).abs() < 1e-9);
    }
}
