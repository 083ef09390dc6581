//! The keepalived.conf text: blocks printed by keepalived-conf, comments above them, `@ID`
//! lines for what differs between directors, and the strict check before anything is returned.

use keepalived_conf::model::{CheckerKind, Config, GlobalDefs};
use keepalived_conf::{Options as ConfOptions, parse_str, print};

use crate::source::Report;
use crate::{Error, Imported, Input};

/// The output being written.
#[derive(Debug)]
pub(crate) struct Output {
    header: Vec<String>,
    sections: Vec<(Vec<String>, String)>,
    internal: Vec<String>,
    /// Some block runs scripts (checks, trackers, notify, quorum).
    scripts: bool,
}

/// True when the configuration makes keepalived run programs.
fn runs_scripts(c: &Config) -> bool {
    !c.vrrp_scripts.is_empty()
        || c.vrrp_instances.iter().any(|v| {
            let n = &v.notify;
            n.master.is_some() || n.backup.is_some() || n.fault.is_some() || n.stop.is_some()
        })
        || c.virtual_servers.iter().any(|vs| {
            vs.quorum_up.is_some()
                || vs.quorum_down.is_some()
                || vs.real_servers.iter().any(|r| {
                    r.checkers
                        .iter()
                        .any(|k| matches!(k.kind, CheckerKind::Misc { .. }))
                })
        })
}

impl Output {
    pub(crate) fn new(files: &[&Input]) -> Self {
        let names: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
        Self {
            header: vec![
                format!(
                    "keepalived.conf written by lvskit-import from {}",
                    names.join(", ")
                ),
                "Check it with: lvskitd -t --strict -f keepalived.conf".into(),
                "\"FILE:LINE: ...\" comments are settings with no exact keepalived equivalent."
                    .into(),
            ],
            sections: Vec::new(),
            internal: Vec::new(),
            scripts: false,
        }
    }

    /// Adds a block printed from a model that holds only that block.
    pub(crate) fn config(&mut self, comments: Vec<String>, config: &Config) {
        self.scripts |= runs_scripts(config);
        let body = print(config);
        self.sections.push((comments, body));
    }

    /// Adds the same block as each director sees it; the lines that differ get `@ID` prefixes.
    pub(crate) fn per_node(&mut self, comments: Vec<String>, nodes: &[(String, Config)]) {
        self.scripts |= nodes.iter().any(|(_, c)| runs_scripts(c));
        let printed: Vec<(String, String)> =
            nodes.iter().map(|(id, c)| (id.clone(), print(c))).collect();
        match merge_nodes(&printed) {
            Ok(body) => self.sections.push((comments, body)),
            Err(message) => self.internal.push(message),
        }
    }

    /// The text, checked; or the errors of the input.
    pub(crate) fn finish(
        self,
        report: Report,
        ids: Result<Vec<String>, ()>,
    ) -> Result<Imported, Error> {
        if report.has_errors() || ids.is_err() {
            return Err(Error::Invalid {
                errors: report.errors,
                warnings: report.warnings,
            });
        }
        let config_ids = ids.unwrap_or_default();
        let mut text = String::new();
        for line in &self.header {
            push_comment(&mut text, line);
        }
        if !config_ids.is_empty() {
            push_comment(
                &mut text,
                &format!(
                    "One file for the directors {}: a line \"@ID ...\" is read only by the director whose config id is ID (lvskitd -i ID; by default its host name up to the first dot).",
                    config_ids.join(", ")
                ),
            );
        }
        if self.scripts {
            // keepalived calls running scripts without script security a violation; the old
            // clusters ran theirs as root.
            let config = Config {
                global_defs: GlobalDefs {
                    enable_script_security: true,
                    script_user: Some(("root".into(), None)),
                    ..GlobalDefs::default()
                },
                ..Config::default()
            };
            text.push('\n');
            push_comment(
                &mut text,
                "The scripts below ran as root under heartbeat / ldirectord / pulse: script_user root. Script security makes keepalived refuse scripts that others than root may change.",
            );
            text.push_str(&print(&config));
        }
        for (comments, body) in &self.sections {
            if comments.is_empty() && body.is_empty() {
                continue;
            }
            text.push('\n');
            for c in comments {
                push_comment(&mut text, c);
            }
            text.push_str(body);
        }
        if let Some(message) = self.internal.into_iter().next() {
            return Err(Error::Generated {
                diagnostics: vec![keepalived_conf::Diagnostic::from_parts(
                    keepalived_conf::Severity::Error,
                    keepalived_conf::DiagnosticKind::Conflict,
                    message,
                    None,
                    String::new(),
                    0..0,
                )],
                config: text,
            });
        }
        let check_ids: Vec<Option<String>> = if config_ids.is_empty() {
            vec![None]
        } else {
            config_ids.iter().cloned().map(Some).collect()
        };
        for id in check_ids {
            let options = ConfOptions {
                config_id: id,
                strict: true,
                includes: false,
                ..ConfOptions::default()
            };
            let parsed = parse_str("keepalived.conf", &text, &options);
            // Warnings count too: what lvskit-import writes must be clean. Notes are lvskit's
            // advice where keepalived itself says nothing, so they do not.
            if parsed
                .diagnostics
                .iter()
                .any(|d| d.severity != keepalived_conf::Severity::Note)
            {
                return Err(Error::Generated {
                    diagnostics: parsed.diagnostics,
                    config: text,
                });
            }
        }
        Ok(Imported {
            config: text,
            warnings: report.warnings,
            config_ids,
        })
    }
}

fn push_comment(text: &mut String, line: &str) {
    text.push_str("# ");
    text.push_str(&line.replace(['\n', '\r'], " "));
    text.push('\n');
}

/// Merges the texts of one block as each node prints it: equal lines once, differing lines
/// once per node with `@ID` after the indentation. The texts must have the same number of lines.
pub(crate) fn merge_nodes(nodes: &[(String, String)]) -> Result<String, String> {
    let split: Vec<Vec<&str>> = nodes.iter().map(|(_, t)| t.lines().collect()).collect();
    let Some(first) = split.first() else {
        return Ok(String::new());
    };
    if split.iter().any(|s| s.len() != first.len()) {
        return Err("the directors' blocks differ in shape; cannot write them as @ID lines".into());
    }
    let mut out = String::new();
    for i in 0..first.len() {
        if split.iter().all(|s| s[i] == first[i]) {
            out.push_str(first[i]);
            out.push('\n');
            continue;
        }
        for ((id, _), s) in nodes.iter().zip(&split) {
            let line = s[i];
            let body = line.trim_start();
            let indent = &line[..line.len() - body.len()];
            out.push_str(indent);
            out.push('@');
            out.push_str(id);
            out.push(' ');
            out.push_str(body);
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_differing_lines_with_ids() {
        let a = ("a".to_string(), "x {\n    state MASTER\n}\n".to_string());
        let b = ("b".to_string(), "x {\n    state BACKUP\n}\n".to_string());
        assert_eq!(
            merge_nodes(&[a, b]).unwrap(),
            "x {\n    @a state MASTER\n    @b state BACKUP\n}\n"
        );
    }

    #[test]
    fn refuses_different_shapes() {
        let a = ("a".to_string(), "x\ny\n".to_string());
        let b = ("b".to_string(), "x\n".to_string());
        assert!(merge_nodes(&[a, b]).is_err());
    }
}
