//! Hostile configurations (issue 19): each must end in a clear error, within a memory ceiling
//! and a time limit, instead of a stack overflow, gigabytes of memory, or a hang.
//!
//! Every input is generated here. Each case runs in a child process (`testbed::bounded`: this
//! test binary run again) under `setrlimit(RLIMIT_AS)` of 512 MiB and 20 CPU seconds, and the
//! parent kills it if it has not finished after 20 s: generous bounds, so that a loaded machine never makes
//! a case fail, while the old code (a stack overflow, 2 to 64 GB) fails every one of them. The
//! figures are in BENCHMARKS.md.

use std::path::Path;
use std::time::Duration;

use keepalived_conf::{Options, Parsed, parse_file, parse_str};

mod common;
use common::TempDir;

/// 512 MiB of address space, 20 CPU seconds, killed after 20 s.
const LIMITS: testbed::Limits = testbed::Limits {
    memory: 512 << 20,
    cpu_seconds: 20,
    wall: Duration::from_secs(20),
};

/// In the parent: runs the test named `test` again in a child process under [`LIMITS`], insists
/// that it ended well, and returns what it printed. In that child: parses with `case`, prints
/// each message once, how many diagnostics were kept and the first three rendered, and returns
/// `None` (the test then returns).
fn bounded_case(test: &str, case: impl FnOnce() -> Parsed) -> Option<String> {
    let Some(output) = testbed::bounded(test, LIMITS) else {
        let parsed = case();
        let mut seen = std::collections::BTreeSet::new();
        for d in &parsed.diagnostics {
            let kind = if d.is_error() { "error" } else { "warning" };
            if seen.insert(format!("{kind}: {}", d.message)) {
                println!("{kind}: {}", d.message);
            }
        }
        println!("diagnostics: {}", parsed.diagnostics.len());
        for d in parsed.diagnostics.iter().take(3) {
            println!("{}", d.render());
        }
        return None;
    };
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{test}: the child failed ({}) under {LIMITS:?}:\n{out}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Some(out)
}

fn parse(text: &str) -> Parsed {
    parse_str("/etc/keepalived/keepalived.conf", text, &Options::default())
}

fn run(case: &str, dir: Option<&Path>) -> Parsed {
    match case {
        // 200 KB of `~SEQ(a,1) ` on one line: each one nests in the one before.
        "seq_nesting" => parse(&format!("{}x\n", "~SEQ(a,1) ".repeat(20_000))),
        // 2 KB: 100,000 repetitions of a line of 1,000 words.
        "words" => parse(&format!("~SEQ(i,1,100000) {}\n", "a ".repeat(1_000))),
        // 320 KB: one pass would substitute 60,000 copies of a 100 KB definition.
        "substitution_pass" => parse(&format!(
            "$A={}\nglobal_defs {{\n router_id {}\n}}\n",
            "x".repeat(100_000),
            "${A}".repeat(55_000)
        )),
        // Definitions that double at every use, spread over many lines.
        "substitution_doubling" => {
            let mut text = String::from("$A0=xxxxxxxxxxxxxxxx\n");
            for i in 1..24 {
                text.push_str(&format!("$A{i}=${{A{}}}${{A{}}}\n", i - 1, i - 1));
            }
            text.push_str(&"r ${A23}\n".repeat(2_000));
            // A smaller budget than the default 256 MiB, which an unoptimised build takes
            // seconds to spend: what matters is that it is counted as it is spent.
            let options = Options {
                substitution_limit: 16 << 20,
                ..Options::default()
            };
            parse_str("/etc/keepalived/keepalived.conf", &text, &options)
        }
        // 200 KB of unmatched `}` on one line: 200,000 errors, each pointing into the line.
        "unmatched_braces" => parse(&format!("{}\n", "}".repeat(200_000))),
        // The same, on a line that is not ASCII (columns count characters).
        "unmatched_braces_utf8" => parse(&format!("é{}\n", "} é ".repeat(50_000))),
        // 128 kinds of expansion inside each other, through multiline definitions.
        "definition_nesting" => {
            let mut text = String::from("$D0=x\n");
            for i in 1..200 {
                text.push_str(&format!("$D{i}= \\\n$D{} \\\ny\n", i - 1));
            }
            text.push_str("$D199\n");
            parse(&text)
        }
        "include_dev_zero" => parse("include /dev/zero\n"),
        "include_fifo" => {
            let dir = dir.unwrap();
            let main = dir.join("main.conf");
            std::fs::write(&main, "include fifo.conf\n").unwrap();
            parse_file(&main, &Options::default()).unwrap()
        }
        "include_big" => {
            let dir = dir.unwrap();
            let main = dir.join("main.conf");
            std::fs::write(&main, "include big.conf\n").unwrap();
            parse_file(&main, &Options::default()).unwrap()
        }
        "include_doubling" => {
            // Each file includes the next twice: 2^30 inclusions of the last one.
            let dir = dir.unwrap();
            for i in 0..30 {
                let next = format!("include f{}.conf\n", i + 1);
                std::fs::write(dir.join(format!("f{i}.conf")), next.repeat(2)).unwrap();
            }
            std::fs::write(dir.join("f30.conf"), "! nothing\n").unwrap();
            parse_file(dir.join("f0.conf"), &Options::default()).unwrap()
        }
        other => panic!("unknown case {other}"),
    }
}

#[test]
fn seq_nesting_is_an_error_not_a_stack_overflow() {
    let Some(out) = bounded_case("seq_nesting_is_an_error_not_a_stack_overflow", || {
        run("seq_nesting", None)
    }) else {
        return;
    };
    assert!(
        out.contains(
            "error: ~SEQ, ~LST and parameter substitution nest deeper than 32 (a definition that uses itself?)"
        ),
        "{out}"
    );
}

#[test]
fn words_are_counted_as_they_are_made() {
    let Some(out) = bounded_case("words_are_counted_as_they_are_made", || run("words", None))
    else {
        return;
    };
    assert!(
        out.contains(
            "error: the configuration has more than 4000000 words and braces (Options::word_limit); the rest is not read"
        ),
        "{out}"
    );
}

#[test]
fn the_substitution_limit_holds_inside_one_pass() {
    let Some(out) = bounded_case("the_substitution_limit_holds_inside_one_pass", || {
        run("substitution_pass", None)
    }) else {
        return;
    };
    assert!(
        out.contains(
            "error: parameter substitution grows too large (a definition that uses itself?)"
        ),
        "{out}"
    );
}

#[test]
fn the_substitution_budget_is_counted_as_it_is_spent() {
    let Some(out) = bounded_case("the_substitution_budget_is_counted_as_it_is_spent", || {
        run("substitution_doubling", None)
    }) else {
        return;
    };
    assert!(
        out.contains(
            "error: parameter substitution, ~SEQ and ~LST produce more than 16777216 bytes (Options::substitution_limit)"
        ),
        "{out}"
    );
}

#[test]
fn definitions_nest_to_a_bound() {
    let Some(out) = bounded_case("definitions_nest_to_a_bound", || {
        run("definition_nesting", None)
    }) else {
        return;
    };
    assert!(
        out.contains("error: ~SEQ, ~LST and parameter substitution nest deeper than 32"),
        "{out}"
    );
}

#[test]
fn a_long_line_of_errors_keeps_windows_not_copies() {
    a_long_line_of_errors(
        "a_long_line_of_errors_keeps_windows_not_copies",
        "unmatched_braces",
    );
}

#[test]
fn a_long_line_of_errors_that_is_not_ascii() {
    a_long_line_of_errors(
        "a_long_line_of_errors_that_is_not_ascii",
        "unmatched_braces_utf8",
    );
}

fn a_long_line_of_errors(test: &str, case: &str) {
    {
        let Some(out) = bounded_case(test, || run(case, None)) else {
            return;
        };
        assert!(out.contains("error: `}` without a matching `{`"), "{out}");
        // Errors: 20,000 kept and one that counts the rest.
        assert!(out.contains("diagnostics: 20001"), "{out}");
        assert!(out.contains(" more diagnostics not shown"), "{out}");
    }
}

#[test]
fn long_lines_render_a_window_with_the_real_column() {
    let parsed = parse(&format!("{}}}\n", "x ".repeat(5_000)));
    let d = parsed.errors().next().unwrap();
    let text = d.render();
    assert!(
        text.contains("--> /etc/keepalived/keepalived.conf:1:10001"),
        "{text}"
    );
    assert!(d.line_text.len() < 200, "{}", d.line_text);
    assert!(text.lines().count() < 8 && text.len() < 600, "{text}");
    let utf8 = parse(&format!("{}}}\n", "é ".repeat(5_000)));
    let text = utf8.errors().next().unwrap().render();
    assert!(
        text.contains("--> /etc/keepalived/keepalived.conf:1:10001"),
        "{text}"
    );
}

#[test]
fn include_dev_zero_is_refused_without_reading() {
    let Some(out) = bounded_case("include_dev_zero_is_refused_without_reading", || {
        run("include_dev_zero", None)
    }) else {
        return;
    };
    assert!(
        out.contains(
            "warning: cannot read included file `/dev/zero`: it is not a regular file (it is a character device)"
        ),
        "{out}"
    );
}

#[test]
fn fifos_devices_and_directories_are_refused_without_blocking() {
    // Parent and child each make their own directory and FIFO; the child reads them.
    let dir = TempDir::new("hostile-fifo");
    let fifo = dir.0.join("fifo.conf");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let Some(out) = bounded_case(
        "fifos_devices_and_directories_are_refused_without_blocking",
        || {
            // The main file too: a clear error instead of a hang.
            for (path, why) in [
                (fifo.as_path(), "it is not a regular file (it is a FIFO)"),
                (dir.0.as_path(), "it is a directory"),
                (
                    Path::new("/dev/zero"),
                    "it is not a regular file (it is a character device)",
                ),
            ] {
                let err = parse_file(path, &Options::default())
                    .unwrap_err()
                    .to_string();
                assert_eq!(err, format!("cannot read {}: {why}", path.display()));
            }
            run("include_fifo", Some(&dir.0))
        },
    ) else {
        return;
    };
    assert!(
        out.contains("it is not a regular file (it is a FIFO)"),
        "{out}"
    );
}

#[test]
fn files_over_the_input_limit_are_refused() {
    let dir = TempDir::new("hostile-big");
    // Sparse: 65 MiB on paper, nothing on disk.
    let big = std::fs::File::create(dir.0.join("big.conf")).unwrap();
    big.set_len(65 << 20).unwrap();
    let Some(out) = bounded_case("files_over_the_input_limit_are_refused", || {
        run("include_big", Some(&dir.0))
    }) else {
        return;
    };
    assert!(
        out.contains(
            "it is 68157440 bytes or more, over the limit of 67108864 bytes (Options::input_limit)"
        ),
        "{out}"
    );
    let err = parse_file(dir.0.join("big.conf"), &Options::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("it is 68157440 bytes or more, over the limit of 67108864 bytes"),
        "{err}"
    );
    // The limit counts every file read, a file included twice twice.
    let small = Options {
        input_limit: 100,
        ..Options::default()
    };
    dir.write("part.conf", "! forty bytes of comment, more or less\n");
    let main = dir.write(
        "main.conf",
        "include part.conf\ninclude part.conf\ninclude part.conf\n",
    );
    let parsed = parse_file(&main, &small).unwrap();
    let errors: Vec<&str> = parsed.errors().map(|d| d.message.as_str()).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].ends_with("the files of this configuration together are more than 100 bytes (Options::input_limit)"),
        "{errors:?}"
    );
}

#[test]
fn executable_files_are_skipped_like_keepalived() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("hostile-exec");
    let exe = dir.write("exe.conf", "global_defs { router_id x }\n");
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let main = dir.write("main.conf", "include exe.conf\n");
    let parsed = parse_file(&main, &Options::default()).unwrap();
    assert_eq!(parsed.config.global_defs.router_id, None);
    let warnings: Vec<&str> = parsed.warnings().map(|d| d.message.as_str()).collect();
    assert!(
        warnings[0].ends_with("it is executable, and keepalived reads only non-executable files"),
        "{warnings:?}"
    );
}

#[test]
fn repeated_includes_are_bounded() {
    let dir = TempDir::new("hostile-doubling");
    let Some(out) = bounded_case("repeated_includes_are_bounded", || {
        run("include_doubling", Some(&dir.0))
    }) else {
        return;
    };
    assert!(
        out.contains("error: more than 100000 files included in all"),
        "{out}"
    );
}
