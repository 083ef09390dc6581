//! `cargo xtask lab`: two `lvskitd` directors, two busybox httpd real servers and a client in
//! network namespaces inside the VM (the `cargo xtask vm` image, real kernel with IPVS), a live
//! view, the scripted failures, a summary table and a plot of what the client saw.
//!
//! ```text
//! cargo xtask lab [--nat | --tun] [--config DIR|FILE ...] [--release] [--timeout SECS]
//!   --nat, --tun     LVS-NAT or LVS-TUN instead of LVS-DR
//!   --config DIR     one keepalived.conf per director (the `.conf` files of DIR), or FILE
//!                    (repeat for the second director; a single file: the BACKUP's is made
//!                    from it), mapped into the lab's addresses (examples/src/lvs_lab/seeds.rs);
//!                    the file's `lvs_method` then picks the forwarding method
//!   --release        build with the release profile
//!   --timeout SECS   kill the VM after SECS (default 600)
//! ```
//!
//! What runs inside is the `lvs-lab` binary (`examples/src/bin/lvs-lab.rs`, the library is
//! `lvskit_examples::lvs_lab`); the VM tests `vm_traffic` run the same steps for DR, NAT and TUN.
//! The plot comes out on the VM's second serial port into `target/lab/lab-METHOD.svg`; the
//! summary table is also written to `target/lab/summary-METHOD.md`. The exit status is non-zero
//! when a step did not end as expected, and the message names it.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use crate::util::root;
use crate::vm;

/// The options of one lab run.
#[derive(Debug, Default)]
struct Options {
    method: &'static str,
    config: Vec<PathBuf>,
    release: bool,
    timeout: u64,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        method: "dr",
        timeout: 600,
        ..Options::default()
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--nat" => options.method = "nat",
            "--tun" => options.method = "tun",
            "--dr" => options.method = "dr",
            "--release" => options.release = true,
            "--config" => {
                let path = PathBuf::from(args.next().ok_or("--config needs a DIR or FILE")?);
                if path.is_dir() {
                    let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
                        .map_err(|e| format!("{}: {e}", path.display()))?
                        .flatten()
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
                        .collect();
                    files.sort();
                    if files.is_empty() {
                        return Err(format!("{}: no .conf file", path.display()));
                    }
                    options.config.extend(files);
                } else {
                    options.config.push(path);
                }
            }
            "--timeout" => {
                options.timeout = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--timeout needs a number")?
            }
            "--peer" => {
                return Err(
                    "--peer keepalived is not implemented yet (the image has no keepalived)".into(),
                );
            }
            other => return Err(format!("unknown argument {other:?} (see cargo xtask help)")),
        }
    }
    Ok(options)
}

/// The run script: the seed files (if any) written into the VM, then `lvs-lab`.
fn script(options: &Options, redraw: bool) -> Result<String, String> {
    let mut script = String::from("stty -F /dev/ttyS1 raw -echo 2>/dev/null\n");
    let mut args = format!("--method {}", options.method);
    if redraw {
        args.push_str(" --redraw");
    }
    if !options.config.is_empty() {
        if options.config.len() > 2 {
            return Err("--config: one file per director, two at most".into());
        }
        script.push_str("mkdir -p /tmp/lab-config\n");
        for (n, file) in options.config.iter().enumerate() {
            let text =
                std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
            script.push_str(&format!(
                "cat > /tmp/lab-config/{n}.conf <<'LVSKIT_LAB_EOF'\n{text}\nLVSKIT_LAB_EOF\n"
            ));
        }
        args.push_str(" --config /tmp/lab-config");
    }
    script.push_str(&format!("lvskit_run lab @BIN:lvs-lab@ {args}\n"));
    Ok(script)
}

/// `cargo xtask lab [ARGS]`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let options = parse(args)?;
    let out_dir = root().join("target").join("lab");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let svg = out_dir.join(format!("lab-{}.svg", options.method));
    let _ = std::fs::remove_file(&svg);
    let redraw = std::io::stdout().is_terminal();
    let script = script(&options, redraw)?;
    let extra = vec!["-serial".to_string(), format!("file:{}", svg.display())];
    let (report, _) = vm::boot_script(
        &script,
        options.release,
        Duration::from_secs(options.timeout),
        &extra,
    )?;
    let summary: Vec<&str> = report
        .lines
        .iter()
        .skip_while(|l| !l.starts_with("LVSKIT-LAB-SUMMARY-BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("LVSKIT-LAB-SUMMARY-END"))
        .map(String::as_str)
        .collect();
    let summary_file = out_dir.join(format!("summary-{}.md", options.method));
    if !summary.is_empty() {
        let text = summary.join("\n") + "\n";
        std::fs::write(&summary_file, &text)
            .map_err(|e| format!("{}: {e}", summary_file.display()))?;
        println!("\n==> lab ({}): summary\n{text}", options.method);
    }
    // The serial port's line discipline may have added carriage returns.
    if let Ok(text) = std::fs::read_to_string(&svg) {
        let clean = text.replace('\r', "");
        let _ = std::fs::write(&svg, clean);
        println!("plot: {}", svg.display());
    } else {
        eprintln!("lab: no plot came out of the VM");
    }
    if !summary.is_empty() {
        println!("summary: {}", summary_file.display());
    }
    if let Some(step) = report
        .lines
        .iter()
        .find_map(|l| l.strip_prefix("LVSKIT-LAB-FAILED-STEP: "))
    {
        return Err(format!("lab: step {step:?} did not end as expected"));
    }
    match report.status {
        Some(0) if !summary.is_empty() => Ok(()),
        Some(0) => Err("lab: no summary came out of the VM".into()),
        Some(status) => Err(format!("lab: the VM reported status {status}")),
        None if report.timed_out => Err(format!(
            "lab: the VM did not finish within {} s",
            options.timeout
        )),
        None => Err("lab: the VM stopped without a status".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_script() {
        let o = parse(&["--tun".into()]).unwrap();
        assert_eq!(o.method, "tun");
        assert!(parse(&["--peer".into(), "keepalived".into()]).is_err());
        assert!(parse(&["--bogus".into()]).is_err());
        let s = script(&o, true).unwrap();
        assert!(
            s.ends_with("lvskit_run lab @BIN:lvs-lab@ --method tun --redraw\n"),
            "{s}"
        );
        let seed = root().join("testdata/configs/seeds/004-lvs-dr-tcp-check.conf");
        let o = parse(&["--config".into(), seed.to_string_lossy().into_owned()]).unwrap();
        let s = script(&o, false).unwrap();
        assert!(s.contains("cat > /tmp/lab-config/0.conf <<'LVSKIT_LAB_EOF'\n! From seed 004"));
        assert!(
            parse(&[
                "--config".into(),
                root()
                    .join("testdata/configs/seeds")
                    .to_string_lossy()
                    .into_owned()
            ])
            .is_ok()
        );
        assert!(s.ends_with("--method dr --config /tmp/lab-config\n"), "{s}");
    }
}
