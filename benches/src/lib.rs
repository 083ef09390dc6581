//! Criterion benchmarks for lvskit live in `benches/`; this library holds the fixtures they share.

use std::fmt::Write;

/// Virtual servers in [`big_config`].
pub const VIRTUAL_SERVERS: usize = 2_300;
/// Real servers in [`big_config`].
pub const REAL_SERVERS: usize = 37_000;

/// A configuration of the size in keepalived#2318: two VRRP instances and 2,300 DR virtual
/// servers with 37,000 real servers in all, each real server with a TCP_CHECK.
pub fn big_config() -> String {
    let mut out = String::with_capacity(10 << 20);
    out.push_str(
        "global_defs {\n    router_id lvs_big\n    vrrp_garp_master_delay 1\n}\n\
         vrrp_script chk_lvs {\n    script \"/usr/local/bin/check_lvs\"\n    interval 2\n    weight -20\n}\n",
    );
    for (i, name) in ["VI_1", "VI_2"].iter().enumerate() {
        let _ = write!(
            out,
            "vrrp_instance {name} {{\n    state MASTER\n    interface eth{i}\n    virtual_router_id {}\n    priority 150\n    advert_int 1\n\
             \x20   authentication {{\n        auth_type PASS\n        auth_pass s3cret\n    }}\n    track_script {{\n        chk_lvs\n    }}\n\
             \x20   virtual_ipaddress {{\n        203.0.113.{}/24 dev eth{i}\n    }}\n}}\n",
            51 + i,
            250 + i
        );
    }
    let per_vs = REAL_SERVERS / VIRTUAL_SERVERS;
    let extra = REAL_SERVERS % VIRTUAL_SERVERS;
    for v in 0..VIRTUAL_SERVERS {
        let port = 8000 + v / 250;
        let _ = write!(
            out,
            "virtual_server 203.0.113.{} {port} {{\n    delay_loop 6\n    lb_algo wrr\n    lb_kind DR\n    persistence_timeout 60\n    protocol TCP\n\n",
            v % 250 + 1
        );
        let count = per_vs + usize::from(v < extra);
        for r in 0..count {
            let _ = write!(
                out,
                "    real_server 198.51.100.{} {port} {{\n        weight {}\n        TCP_CHECK {{\n            connect_timeout 3\n            retry 3\n            delay_before_retry 3\n        }}\n    }}\n",
                (v * 7 + r) % 250 + 1,
                r % 5 + 1
            );
        }
        out.push_str("}\n");
    }
    out
}
