//! Running `vrrp_script`s and notify commands: no shell, a timeout, the whole process group
//! killed when it passes, always reaped (through `healthcheck::MiscCheck`, which does exactly
//! that for MISC_CHECK), as the user the configuration names.

use std::ffi::CString;
use std::time::Duration;

use healthcheck::{Checker, MiscCheck};

use crate::setup::Command;

/// Runs `argv` as `user` with `timeout`; `Ok(true)` for exit status 0.
pub(crate) async fn run(
    argv: &[String],
    user: Option<&(String, Option<String>)>,
    timeout: Duration,
) -> Result<bool, String> {
    if argv.is_empty() {
        return Err("empty command".into());
    }
    let user = match user {
        Some((name, group)) => Some(resolve_user(name, group.as_deref())?),
        None => None,
    };
    let check = MiscCheck {
        argv: argv.to_vec(),
        misc_timeout: timeout,
        misc_dynamic: false,
        user,
    };
    let outcome = check.check().await;
    if outcome.healthy {
        Ok(true)
    } else {
        // A script killed at its timeout is worth an operator's attention; a failing one is
        // what trackers are for.
        if outcome.reason.contains("timed out") {
            tracing::warn!(program = %argv[0], "{}", outcome.reason);
        } else {
            tracing::debug!(program = %argv[0], "{}", outcome.reason);
        }
        Ok(false)
    }
}

/// Runs a `vrrp_script` once.
pub(crate) async fn run_script(command: &Command, timeout: Duration) -> bool {
    match run(&command.argv, command.user.as_ref(), timeout).await {
        Ok(ok) => ok,
        Err(e) => {
            tracing::warn!(program = %command.argv[0], "cannot run script: {e}");
            false
        }
    }
}

/// `USER [GROUP]` to uid and gid (the user's own group when none is given).
pub(crate) fn resolve_user(name: &str, group: Option<&str>) -> Result<(u32, u32), String> {
    let cname = CString::new(name).map_err(|_| format!("bad user name {name:?}"))?;
    // SAFETY: getpwnam returns a pointer into static storage or null; we copy the two ids out
    // at once and the director calls this from one thread at a time.
    let (uid, mut gid) = unsafe {
        let pw = libc::getpwnam(cname.as_ptr());
        if pw.is_null() {
            return Err(format!("no user {name}"));
        }
        ((*pw).pw_uid, (*pw).pw_gid)
    };
    if let Some(group) = group {
        let cgroup = CString::new(group).map_err(|_| format!("bad group name {group:?}"))?;
        // SAFETY: as above, for getgrnam.
        gid = unsafe {
            let gr = libc::getgrnam(cgroup.as_ptr());
            if gr.is_null() {
                return Err(format!("no group {group}"));
            }
            (*gr).gr_gid
        };
    }
    Ok((uid, gid))
}
