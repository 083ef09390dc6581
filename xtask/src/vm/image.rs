//! The initramfs: busybox, the IPVS modules of the host's Debian kernel, ipvsadm with its shared
//! libraries, and our binaries at the same absolute paths as on the host (so that
//! `env!("CARGO_BIN_EXE_ipvsctl")` works inside the VM).
//!
//! The image is built once per set of inputs and cached under `target/vm/image-<profile>/`; a run
//! appends a tiny second archive holding `/lvskit/run.sh` (the kernel unpacks concatenated
//! archives in order).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::build::{Built, target_dir};
use super::cpio::{Node, Tree, small_archive};
use crate::util::which;

/// The modules loaded at boot: IPVS, every scheduler the kernel has, the SIP persistence engine,
/// `dummy` (a multicast interface for the sync daemon), and `veth` and `bridge` for the
/// namespace networks of the traffic tests and the lab (`lvskit_examples::lvs_lab`).
const MODULES: &[&str] = &[
    "ip_vs",
    "ip_vs_rr",
    "ip_vs_wrr",
    "ip_vs_lc",
    "ip_vs_wlc",
    "ip_vs_lblc",
    "ip_vs_lblcr",
    "ip_vs_dh",
    "ip_vs_sh",
    "ip_vs_sed",
    "ip_vs_nq",
    "ip_vs_fo",
    "ip_vs_ovf",
    "ip_vs_mh",
    "ip_vs_pe_sip",
    "dummy",
    "veth",
    "bridge",
];

/// Schedulers that only some kernels build, and the tunnel drivers of an LVS-TUN real server
/// (`tunl0`, `gre0`, `fou` for GUE: `vm_realserver`, the lab's `--tun`; `ipip` brings `tunnel4`
/// and `ip_tunnel`); missing ones are left out.
const OPTIONAL_MODULES: &[&str] = &["ip_vs_twos", "ipip", "ip_gre", "fou"];

/// The kernel to boot.
#[derive(Debug, Clone)]
pub(crate) struct Kernel {
    pub(crate) image: PathBuf,
    pub(crate) version: String,
}

/// Picks the newest `/boot/vmlinuz-*` whose modules include IPVS, or `$LVSKIT_VM_KERNEL`.
pub(crate) fn find_kernel() -> Result<Kernel, String> {
    if let Some(path) = std::env::var_os("LVSKIT_VM_KERNEL") {
        let image = PathBuf::from(path);
        let version = image
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("vmlinuz-"))
            .ok_or_else(|| format!("{}: expected a vmlinuz-VERSION file", image.display()))?
            .to_string();
        return Ok(Kernel { image, version });
    }
    let mut found: Vec<Kernel> = std::fs::read_dir("/boot")
        .map_err(|e| format!("/boot: {e}"))?
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let version = name.strip_prefix("vmlinuz-")?.to_string();
            let ipvs = Path::new("/lib/modules")
                .join(&version)
                .join("kernel/net/netfilter/ipvs");
            ipvs.is_dir().then(|| Kernel {
                image: entry.path(),
                version,
            })
        })
        .collect();
    found.sort_by(|a, b| a.version.cmp(&b.version));
    found.pop().ok_or_else(|| {
        "no /boot/vmlinuz-* with IPVS modules in /lib/modules (apt-get install linux-image-amd64)"
            .to_string()
    })
}

/// One module to load at boot: its path inside the image and its parameters.
#[derive(Debug, Clone, Hash, PartialEq)]
struct Module {
    host: PathBuf,
    image: String,
    params: String,
}

/// The modules to load, dependencies first, as `modprobe --show-depends` orders them.
fn modules(kernel: &Kernel) -> Result<(Vec<Module>, String), String> {
    let modprobe = which("modprobe").ok_or("no modprobe here (apt-get install kmod)")?;
    let mut order: Vec<Module> = Vec::new();
    let mut deps_file = String::new();
    let root = format!("/lib/modules/{}/", kernel.version);
    for (name, optional) in MODULES
        .iter()
        .map(|m| (m, false))
        .chain(OPTIONAL_MODULES.iter().map(|m| (m, true)))
    {
        let output = Command::new(&modprobe)
            .args(["-S", &kernel.version, "--show-depends", name])
            .output()
            .map_err(|e| format!("cannot run modprobe: {e}"))?;
        if !output.status.success() {
            if optional {
                continue;
            }
            return Err(format!(
                "modprobe --show-depends {name} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        let mut chain = Vec::new();
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let Some(rest) = line.strip_prefix("insmod ") else {
                continue; // "builtin ..." lines
            };
            let (path, params) = rest.trim().split_once(' ').unwrap_or((rest.trim(), ""));
            let host = PathBuf::from(path);
            let image = path
                .trim_end_matches(".xz")
                .trim_end_matches(".zst")
                .trim_end_matches(".gz")
                .to_string();
            let module = Module {
                host,
                image,
                params: params.trim().to_string(),
            };
            chain.push(module.image.clone());
            if !order.iter().any(|m| m.image == module.image) {
                order.push(module);
            }
        }
        // modules.dep, for busybox modprobe: "mod.ko: deps, the nearest first".
        if let Some((this, deps)) = chain.split_last() {
            let rel = |p: &String| p.strip_prefix(&root).unwrap_or(p).to_string();
            let line = format!(
                "{}:{}\n",
                rel(this),
                deps.iter()
                    .rev()
                    .map(|d| format!(" {}", rel(d)))
                    .collect::<String>()
            );
            if !deps_file.contains(&line) {
                deps_file.push_str(&line);
            }
        }
    }
    Ok((order, deps_file))
}

/// The shared libraries and the loader of a dynamic executable, as `ldd` lists them.
fn shared_libraries(exe: &Path) -> Result<Vec<PathBuf>, String> {
    let output = Command::new("ldd")
        .arg(exe)
        .output()
        .map_err(|e| format!("cannot run ldd: {e}"))?;
    if !output.status.success() {
        return Err(format!("ldd {} failed", exe.display()));
    }
    let mut libs = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let line = line.trim();
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.trim().split(' ').next().unwrap_or(""),
            None => line.split(' ').next().unwrap_or(""),
        };
        if path.starts_with('/') {
            libs.push(PathBuf::from(path));
        }
    }
    Ok(libs)
}

fn is_static(exe: &Path) -> bool {
    Command::new("ldd")
        .arg(exe)
        .output()
        .map(|o| {
            !o.status.success() || String::from_utf8_lossy(&o.stdout).contains("not a dynamic")
        })
        .unwrap_or(false)
}

const INIT: &str = r#"#!/bin/busybox sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TMPDIR=/tmp RUST_BACKTRACE=1 LVSKIT_VM=1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
# No tmpfs over /tmp: the initramfs root is already in RAM, and our binaries sit at their host
# paths, which may be under /tmp (a checkout in /tmp, as CI may have).
mount -t tmpfs tmpfs /run
ip link set lo up
while read -r module params; do
    insmod "$module" $params || echo "lvskit-vm: insmod $module failed"
done < /lvskit/modules
[ -e /proc/net/ip_vs ] || echo "lvskit-vm: IPVS is not available after loading the modules"
# A multicast interface for the sync daemon (lo has no MULTICAST flag).
ip link add lvs0 type dummy && ip link set lvs0 multicast on up && ip addr add 192.0.2.1/24 dev lvs0
cd /tmp
status=0
lvskit_run() {
    name=$1
    shift
    echo "==> vm: $name"
    "$@"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "LVSKIT-VM-FAILED: $name (exit status $rc)"
        status=1
    fi
    ipvsadm -C 2>/dev/null
}
. /lvskit/run.sh
echo "LVSKIT-VM-EXIT: $status"
sync
poweroff -f
"#;

/// Builds (or reuses) the cached image for `built`, returns its path.
pub(crate) fn base_image(kernel: &Kernel, built: &Built, release: bool) -> Result<PathBuf, String> {
    let mut tree = Tree::default();
    tree.insert("/dev/console", Node::CharDev(5, 1));
    tree.insert("/dev/null", Node::CharDev(1, 3));
    for dir in [
        "/proc",
        "/sys",
        "/tmp",
        "/run",
        "/root",
        "/usr/local/bin",
        "/lvskit",
    ] {
        tree.insert(dir, Node::Dir);
    }

    // busybox first, then everything else may replace its applet links.
    let busybox = which("busybox").ok_or("no busybox here (apt-get install busybox-static)")?;
    if !is_static(&busybox) {
        return Err(format!(
            "{} is dynamically linked (apt-get install busybox-static)",
            busybox.display()
        ));
    }
    tree.insert(
        "/bin/busybox",
        Node::Copy {
            from: busybox.clone(),
            mode: 0o755,
        },
    );
    let applets = Command::new(&busybox)
        .arg("--list-full")
        .output()
        .map_err(|e| format!("busybox --list-full: {e}"))?;
    let applets: Vec<String> = String::from_utf8_lossy(&applets.stdout)
        .lines()
        .map(str::to_string)
        .collect();

    // The modules.
    let (modules, deps) = modules(kernel)?;
    let mut load_list = String::new();
    let mut decompressed = Vec::new();
    for module in &modules {
        let host = module.host.to_string_lossy();
        let from = if host.ends_with(".ko") {
            module.host.clone()
        } else {
            let out = target_dir()
                .join("modules")
                .join(&kernel.version)
                .join(module.image.rsplit('/').next().unwrap_or("m.ko"));
            decompressed.push((module.host.clone(), out.clone()));
            out
        };
        tree.insert(&module.image, Node::Copy { from, mode: 0o644 });
        load_list.push_str(&format!("{} {}\n", module.image, module.params));
    }
    decompress(&decompressed)?;
    tree.insert(
        "/lvskit/modules",
        Node::Bytes {
            data: load_list.into_bytes(),
            mode: 0o644,
        },
    );
    tree.insert(
        &format!("/lib/modules/{}/modules.dep", kernel.version),
        Node::Bytes {
            data: deps.into_bytes(),
            mode: 0o644,
        },
    );

    // ipvsadm and what it links to, at the paths ldd gives.
    let ipvsadm = which("ipvsadm").ok_or("no ipvsadm here (apt-get install ipvsadm)")?;
    tree.insert(
        "/usr/sbin/ipvsadm",
        Node::Copy {
            from: ipvsadm.clone(),
            mode: 0o755,
        },
    );
    for lib in shared_libraries(&ipvsadm)? {
        let path = lib.to_string_lossy().into_owned();
        tree.insert(
            &path,
            Node::Copy {
                from: lib,
                mode: 0o755,
            },
        );
    }
    add_keepalived(&mut tree)?;
    add_iproute2(&mut tree)?;
    for (path, text) in [
        ("/etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost\n"),
        (
            "/etc/nsswitch.conf",
            "hosts: files\nservices: files\nprotocols: files\n",
        ),
        (
            "/etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n",
        ),
        ("/etc/group", "root:x:0:\nnogroup:x:65534:\n"),
    ] {
        tree.insert(
            path,
            Node::Bytes {
                data: text.as_bytes().to_vec(),
                mode: 0o644,
            },
        );
    }
    for file in ["/etc/services", "/etc/protocols"] {
        if Path::new(file).is_file() {
            tree.insert(
                file,
                Node::Copy {
                    from: file.into(),
                    mode: 0o644,
                },
            );
        }
    }

    // Our binaries, at their host paths; the plain binaries also on PATH. Their debug info is
    // stripped from the copies: the whole image lives in the VM's memory, and static binaries
    // with line tables made it outgrow it (panic messages keep their file:line).
    for exe in built.tests.iter().chain(&built.bins) {
        let path = exe.path.to_string_lossy().into_owned();
        tree.insert(
            &path,
            Node::Copy {
                from: stripped(&exe.path)?,
                mode: 0o755,
            },
        );
    }
    for bin in &built.bins {
        tree.insert(
            &format!("/usr/local/bin/{}", bin.name),
            Node::Symlink(bin.path.to_string_lossy().into_owned()),
        );
    }

    for applet in &applets {
        tree.insert_new(applet, Node::Symlink("/bin/busybox".into()));
    }
    tree.insert(
        "/init",
        Node::Bytes {
            data: INIT.as_bytes().to_vec(),
            mode: 0o755,
        },
    );

    // The cache key: the tree itself and the size and mtime of every file it copies.
    let mut hasher = DefaultHasher::new();
    tree.hash(&mut hasher);
    for source in tree.sources() {
        let meta = std::fs::metadata(source).map_err(|e| format!("{}: {e}", source.display()))?;
        meta.len().hash(&mut hasher);
        meta.modified().ok().hash(&mut hasher);
    }
    let key = hasher.finish();
    let dir = image_dir(release);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let image = dir.join(format!("base-{key:016x}.cpio"));
    if image.is_file() {
        eprintln!("vm: image {} is up to date", image.display());
        return Ok(image);
    }
    eprintln!("vm: writing {}", image.display());
    let partial = dir.join(format!("partial-{key:016x}.cpio"));
    tree.write_to(&partial)
        .map_err(|e| format!("writing the image: {e}"))?;
    // Only the newest image is kept.
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with("base-") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    std::fs::rename(&partial, &image).map_err(|e| format!("{}: {e}", image.display()))?;
    Ok(image)
}

/// keepalived and the shared libraries it links to, at the paths ldd gives, for the
/// side-by-side figures of `cargo xtask bench lb` (keepalived's checker needs IPVS, so it runs
/// in the VM too). Left out, with nothing said, when this host has no keepalived.
fn add_keepalived(tree: &mut Tree) -> Result<(), String> {
    let Some(keepalived) = which("keepalived") else {
        return Ok(());
    };
    add_executable(tree, &keepalived, &["/usr/sbin/keepalived"])
}

/// `exe` at each path of `at`, and the shared libraries it links to at the paths ldd gives.
fn add_executable(tree: &mut Tree, exe: &Path, at: &[&str]) -> Result<(), String> {
    for path in at {
        tree.insert(
            path,
            Node::Copy {
                from: exe.to_path_buf(),
                mode: 0o755,
            },
        );
    }
    for lib in shared_libraries(exe)? {
        let path = lib.to_string_lossy().into_owned();
        tree.insert(
            &path,
            Node::Copy {
                from: lib,
                mode: 0o755,
            },
        );
    }
    Ok(())
}

/// iproute2's `ip` (busybox's has no `ip netns`, `ip -n` or `-batch`, which `testbed` uses for
/// the namespace networks of the traffic tests and the lab) with its shared libraries, at
/// `/bin/ip` and `/usr/sbin/ip`, before busybox's applet links.
fn add_iproute2(tree: &mut Tree) -> Result<(), String> {
    let ip = ["/bin/ip", "/sbin/ip", "/usr/sbin/ip", "/usr/bin/ip"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.is_file())
        .ok_or("no iproute2 `ip` here (apt-get install iproute2)")?
        .canonicalize()
        .map_err(|e| format!("ip: {e}"))?;
    add_executable(tree, &ip, &["/bin/ip", "/usr/sbin/ip"])
}

fn image_dir(release: bool) -> PathBuf {
    target_dir().join(if release {
        "image-release"
    } else {
        "image-debug"
    })
}

/// The base image followed by an archive with `/lvskit/run.sh`.
pub(crate) fn with_run_script(base: &Path, script: &str, release: bool) -> Result<PathBuf, String> {
    let out = image_dir(release).join("run.cpio");
    let mut bytes = std::fs::read(base).map_err(|e| format!("{}: {e}", base.display()))?;
    let extra = small_archive(&[("/lvskit/run.sh", script.as_bytes(), 0o755)])
        .map_err(|e| format!("run archive: {e}"))?;
    bytes.extend_from_slice(&extra);
    std::fs::write(&out, bytes).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(out)
}

/// A copy of `exe` without debug info (`strip --strip-debug`), beside the build in
/// `target/vm/stripped`, made again only when `exe` is newer; `exe` itself when there is no
/// `strip` here.
fn stripped(exe: &Path) -> Result<PathBuf, String> {
    let Some(strip) = which("strip") else {
        return Ok(exe.to_path_buf());
    };
    let dir = target_dir().join("stripped");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let name = exe
        .file_name()
        .ok_or_else(|| format!("{}: no file name", exe.display()))?;
    let out = dir.join(name);
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&out).is_some() && modified(&out) >= modified(exe) {
        return Ok(out);
    }
    let status = Command::new(strip)
        .arg("--strip-debug")
        .arg("-o")
        .arg(&out)
        .arg(exe)
        .status()
        .map_err(|e| format!("strip {}: {e}", exe.display()))?;
    if !status.success() {
        return Err(format!("strip {}: {status}", exe.display()));
    }
    Ok(out)
}

/// Decompresses `.ko.xz` / `.ko.zst` / `.ko.gz` modules that are not already decompressed.
fn decompress(pairs: &[(PathBuf, PathBuf)]) -> Result<(), String> {
    for (from, to) in pairs {
        let fresh = match (std::fs::metadata(from), std::fs::metadata(to)) {
            (Ok(src), Ok(dst)) => dst.modified().ok() >= src.modified().ok(),
            _ => false,
        };
        if fresh {
            continue;
        }
        let tool = match from.extension().and_then(|e| e.to_str()) {
            Some("xz") => "xz",
            Some("zst") => "zstd",
            Some("gz") => "gzip",
            other => return Err(format!("unknown module compression {other:?}")),
        };
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        let output = Command::new(tool)
            .arg("-dc")
            .arg(from)
            .output()
            .map_err(|e| format!("cannot run {tool}: {e}"))?;
        if !output.status.success() {
            return Err(format!("{tool} -dc {} failed", from.display()));
        }
        std::fs::write(to, output.stdout).map_err(|e| format!("{}: {e}", to.display()))?;
    }
    Ok(())
}
