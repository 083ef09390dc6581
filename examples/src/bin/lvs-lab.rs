//! `lvs-lab`: the lab of `lvskit_examples::lvs_lab`, run by `cargo xtask lab` inside the VM.
//!
//! ```text
//! lvs-lab [--method dr|nat|tun] [--redraw] [--config DIR] [--svg FILE]
//! ```
//!
//! Prints the live view (redrawn in place with `--redraw` or on a terminal, timestamped lines
//! otherwise), runs the scripted sequence, prints the summary table between
//! `LVSKIT-LAB-SUMMARY-BEGIN`/`-END` lines, writes the SVG plot to FILE (default
//! `/dev/ttyS1`, the VM's second serial port, which `cargo xtask lab` saves), and exits 1
//! naming the first failed step (`LVSKIT-LAB-FAILED-STEP: NAME`), 2 when the lab cannot start.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use lvskit_examples::lvs_lab::scenario::{Lab, Options, View};
use lvskit_examples::lvs_lab::{Binaries, Method, seeds};

#[derive(Parser)]
#[command(
    name = "lvs-lab",
    about = "two lvskitd directors, two real servers, a client"
)]
struct Cli {
    /// The LVS forwarding method.
    #[arg(long, value_enum, default_value = "dr")]
    method: MethodArg,
    /// Redraw the live view in place even when stdout is not a terminal.
    #[arg(long)]
    redraw: bool,
    /// A directory with one keepalived.conf per director (the MASTER's first, by name), mapped
    /// into the lab's addresses.
    #[arg(long, value_name = "DIR")]
    config: Option<PathBuf>,
    /// Where to write the SVG plot.
    #[arg(long, value_name = "FILE", default_value = "/dev/ttyS1")]
    svg: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum MethodArg {
    Dr,
    Nat,
    Tun,
}

fn sibling(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join(name)))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(name))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let method = match cli.method {
        MethodArg::Dr => Method::Dr,
        MethodArg::Nat => Method::Nat,
        MethodArg::Tun => Method::Tun,
    };
    let binaries = Binaries {
        lvskitd: sibling("lvskitd"),
        realserver: sibling("lvskit-realserver"),
    };
    let view = if cli.redraw {
        View::Redraw
    } else {
        View::detect()
    };
    let (configs, method) = match cli.config.as_deref().map(|d| seeds::load(d, method)) {
        None => (None, method),
        Some(Ok((c, m))) => (Some(c), m),
        Some(Err(e)) => {
            eprintln!("lvs-lab: {e:#}");
            return ExitCode::from(2);
        }
    };
    let mut lab = match Lab::start(Options::new(method, binaries, view), configs) {
        Ok(lab) => lab,
        Err(e) => {
            eprintln!("lvs-lab: {e:#}");
            println!("LVSKIT-LAB-FAILED-STEP: start");
            return ExitCode::from(2);
        }
    };
    lab.run_sequence();
    lab.finish();
    println!("\nLVSKIT-LAB-SUMMARY-BEGIN");
    print!("{}", lab.summary());
    println!("LVSKIT-LAB-SUMMARY-END");
    match lab.plot() {
        Ok(svg) => {
            if let Err(e) = std::fs::write(&cli.svg, svg) {
                eprintln!("lvs-lab: {}: {e}", cli.svg.display());
            }
        }
        Err(e) => eprintln!("lvs-lab: plot: {e:#}"),
    }
    match lab.first_failure() {
        None => ExitCode::SUCCESS,
        Some(step) => {
            println!("LVSKIT-LAB-FAILED-STEP: {}", step.name);
            ExitCode::FAILURE
        }
    }
}
