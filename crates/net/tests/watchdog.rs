//! The watchdog: a host that blocks its thread is named with the wall time
//! of its poll; one that never returns is reported and aborts the process.

use std::time::Duration;

use stallsim_net::{Builder, FailureKind, Stop};

#[test]
fn a_poll_longer_than_the_bound_fails_the_run_naming_the_host() {
    let mut sim = Builder::new()
        .seed(1)
        .watchdog(Duration::from_millis(200), Duration::from_secs(30))
        .build();
    sim.host("quick", || async {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    });
    sim.host("blocker", || async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        std::thread::sleep(Duration::from_millis(300));
        tokio::time::sleep(Duration::from_secs(3600)).await;
    });
    assert_eq!(
        sim.run_until(Duration::from_secs(60), &mut || false),
        Stop::Failed
    );
    let failure = sim.failure().expect("failed").clone();
    assert_eq!(failure.host.as_deref(), Some("blocker"));
    assert_eq!(failure.at, Duration::from_secs(5));
    let FailureKind::Blocked { wall, .. } = failure.kind else {
        panic!("{failure}");
    };
    assert!(wall >= Duration::from_millis(300), "{wall:?}");
    assert!(
        failure
            .to_string()
            .contains("blocker blocked its thread for 0.3 s"),
        "{failure}"
    );
}

#[test]
fn a_world_without_a_watchdog_reads_no_wall_time() {
    let mut sim = Builder::new().seed(1).build();
    sim.host("blocker", || async {
        std::thread::sleep(Duration::from_millis(300));
        tokio::time::sleep(Duration::from_secs(3600)).await;
    });
    assert_eq!(
        sim.run_until(Duration::from_secs(60), &mut || false),
        Stop::Deadline
    );
}

/// The child's part of the test below: a poll that never returns.
const CHILD: &str = "STALLSIM_WATCHDOG_CHILD";

#[test]
fn a_poll_that_never_returns_is_reported_and_aborts() {
    if std::env::var_os(CHILD).is_some() {
        let mut sim = Builder::new()
            .seed(1)
            .watchdog(Duration::from_millis(100), Duration::from_millis(500))
            .build();
        sim.host("stuck", || async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            loop {
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        sim.run_until(Duration::from_secs(60), &mut || false);
        unreachable!("the watchdog aborts the process");
    }
    let output = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "a_poll_that_never_returns_is_reported_and_aborts",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .output()
        .expect("the child runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("host stuck blocked its thread for")
            && stderr.contains("at simulated 2.000s"),
        "{stderr}"
    );
}
