//! Per-task budgets over the protocol: a load's `watchdog`, the fault it gives, `ps`
//! showing each task's budgets, and the `budget_exceeded` line in `dmesg`.

mod common;

use common::{TestServer, ok};
use serde_json::json;

const SPIN: &str = "\
.name \"spin\"
.entry main
.text
main:
    JMP main
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watchdog_faults_only_its_task_and_ps_and_dmesg_show_it() {
    let s = TestServer::start_exec().await;
    let mut c = s.client().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("spin.mvasm");
    std::fs::write(&src, SPIN).expect("write");
    let guarded = ok(&c
        .rpc(json!({"cmd": "load", "path": src, "watchdog": 5000}))
        .await)["image"]["pid"]
        .as_u64()
        .expect("pid");
    let free = ok(&c.rpc(json!({"cmd": "load", "path": src})).await)["image"]["pid"]
        .as_u64()
        .expect("pid");
    ok(&c.rpc(json!({"cmd": "step", "steps": 100_000})).await);

    let ps = ok(&c.rpc(json!({"cmd": "ps"})).await)["tasks"]["tasks"].clone();
    let task = |pid: u64| {
        ps.as_array()
            .and_then(|a| a.iter().find(|t| t["pid"] == pid))
            .cloned()
            .expect("task in ps")
    };
    let g = task(guarded);
    assert_eq!(g["state"], "faulted");
    assert_eq!(g["fault"]["name"], "WATCHDOG");
    assert_eq!(g["budgets"]["watchdog"]["limit"], 5000);
    assert_eq!(g["budgets"]["watchdog"]["hits"], 1);
    let f = task(free);
    assert_ne!(f["state"], "faulted", "the other task runs on");
    assert!(f["budgets"]["watchdog"].get("limit").is_none(), "off");
    assert_eq!(f["budgets"]["handles"]["limit"], 64);
    assert_eq!(f["budgets"]["values"]["limit"], 128);

    let logs = ok(&c.rpc(json!({"cmd": "dmesg"})).await)["logs"].clone();
    let line = logs
        .as_array()
        .and_then(|l| l.iter().find(|l| l["message"] == "budget exceeded"))
        .cloned()
        .expect("a budget_exceeded line");
    assert_eq!(line["pid"], guarded);
    assert_eq!(line["budget"], "watchdog");
    assert_eq!(line["limit"], 5000);
    s.stop().await;
}
