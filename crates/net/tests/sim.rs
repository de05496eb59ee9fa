//! The simulated network: in-order delivery under a latency spread, resets
//! counted, crashes closing sockets, a frozen process sending nothing,
//! partitions cutting links, and time
//! jumping over idle stretches.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use stallsim_net::{Builder, Sim, Stop, TcpListener, TcpStream};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

const PORT: u16 = 7000;
const LIMIT: Duration = Duration::from_secs(600);

/// A server that echoes every line it reads, on host `server`.
fn echo_server(sim: &mut Sim) {
    sim.host("server", || async {
        let listener = TcpListener::bind(("0.0.0.0", PORT)).await.expect("free");
        while let Ok((stream, _)) = listener.accept().await {
            tokio::task::spawn_local(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if write
                        .write_all(format!("{line}\n").as_bytes())
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
}

#[test]
fn a_connection_keeps_its_order_under_a_latency_spread() {
    let mut sim = Builder::new()
        .seed(3)
        .latency(Duration::from_millis(1), Duration::from_millis(150))
        .build();
    echo_server(&mut sim);
    let lines = 500;
    let echoed = sim
        .run_client("client", LIMIT, async move {
            let stream = TcpStream::connect(("server", PORT))
                .await
                .expect("connects");
            let (read, mut write) = stream.into_split();
            let writer = tokio::task::spawn_local(async move {
                for n in 0..lines {
                    write
                        .write_all(format!("{n}\n").as_bytes())
                        .await
                        .expect("writes");
                    // Small writes spread over time, each its own segment.
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                write
            });
            let mut read = BufReader::new(read).lines();
            let mut seen = Vec::new();
            while seen.len() < lines {
                let line = read.next_line().await.expect("reads").expect("a line");
                seen.push(line.parse::<usize>().expect("a number"));
            }
            drop(writer.await);
            seen
        })
        .expect("every line comes back within the limit");
    assert_eq!(echoed, (0..lines).collect::<Vec<_>>());
    assert_eq!(sim.segments().resets, 0, "{:?}", sim.segments());
}

#[test]
fn a_connection_dropped_with_unread_bytes_is_reset_and_counted() {
    let mut sim = Builder::new().seed(1).build();
    echo_server(&mut sim);
    sim.run_client("client", LIMIT, async {
        let mut stream = TcpStream::connect(("server", PORT))
            .await
            .expect("connects");
        stream.write_all(b"unread\n").await.expect("writes");
        // The echo arrives and is never read.
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(stream);
        tokio::time::sleep(Duration::from_millis(100)).await;
    })
    .expect("ends");
    let segments = sim.segments();
    assert_eq!(segments.syns, 1, "{segments:?}");
    assert_eq!(segments.resets, 1, "{segments:?}");
}

#[test]
fn a_crashed_process_closes_its_connections_and_a_restart_listens_again() {
    let mut sim = Builder::new().seed(1).build();
    echo_server(&mut sim);
    let closed = Rc::new(Cell::new(false));
    let seen_closed = Rc::clone(&closed);
    sim.host("client", move || {
        let closed = Rc::clone(&seen_closed);
        async move {
            let stream = TcpStream::connect(("server", PORT))
                .await
                .expect("connects");
            let mut read = BufReader::new(stream);
            let mut rest = Vec::new();
            // Ends with the server's FIN when its process dies; closing this
            // side lets the dead process's socket finish closing and free
            // the port (turmoil-net has no SO_REUSEADDR).
            let _ = read.read_to_end(&mut rest).await;
            drop(read);
            closed.set(true);
            std::future::pending::<()>().await;
        }
    });
    let answer = Rc::new(RefCell::new(String::new()));
    let slot = Rc::clone(&answer);
    sim.host("second", move || {
        let slot = Rc::clone(&slot);
        async move {
            // Asks after the server's restart.
            tokio::time::sleep(Duration::from_secs(3)).await;
            let stream = TcpStream::connect(("server", PORT))
                .await
                .expect("listens again");
            let (read, mut write) = stream.into_split();
            write.write_all(b"again\n").await.expect("writes");
            let mut line = String::new();
            BufReader::new(read)
                .read_line(&mut line)
                .await
                .expect("reads");
            *slot.borrow_mut() = line;
        }
    });
    assert_eq!(
        sim.run_until(Duration::from_secs(1), &mut || false),
        Stop::Deadline
    );
    assert!(!closed.get(), "nothing closes a live connection");
    sim.crash("server");
    assert!(!sim.is_host_running("server"));
    sim.run_until(Duration::from_secs(2), &mut || false);
    assert!(closed.get(), "the peer sees the connection end");
    sim.bounce("server");
    sim.run_until(Duration::from_secs(5), &mut || false);
    assert_eq!(*answer.borrow(), "again\n");
}

#[test]
fn a_frozen_process_runs_no_more_and_sends_nothing() {
    let mut sim = Builder::new().seed(1).build();
    let ticks = Rc::new(Cell::new(0u32));
    let counted = Rc::clone(&ticks);
    sim.host("server", move || {
        let ticks = Rc::clone(&counted);
        async move {
            let listener = TcpListener::bind(("0.0.0.0", PORT)).await.expect("free");
            let (_stream, _) = listener.accept().await.expect("one client");
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                ticks.set(ticks.get() + 1);
            }
        }
    });
    let ended = Rc::new(Cell::new(false));
    let seen_ended = Rc::clone(&ended);
    sim.host("client", move || {
        let ended = Rc::clone(&seen_ended);
        async move {
            let mut stream = TcpStream::connect(("server", PORT))
                .await
                .expect("connects");
            let mut rest = Vec::new();
            let _ = stream.read_to_end(&mut rest).await;
            ended.set(true);
        }
    });
    sim.run_until(Duration::from_secs(1), &mut || false);
    let before = ticks.get();
    assert!(before > 0, "the server runs until frozen");
    let sent = sim.segments();
    sim.freeze("server");
    assert!(!sim.is_host_running("server"));
    sim.run_until(Duration::from_secs(60), &mut || false);
    assert_eq!(ticks.get(), before, "a frozen process is never polled");
    assert!(!ended.get(), "no FIN or reset leaves a frozen process");
    assert_eq!(sim.segments(), sent, "nothing is sent after the freeze");
}

#[test]
fn a_partition_drops_segments_until_repaired() {
    let mut sim = Builder::new().seed(1).build();
    echo_server(&mut sim);
    let connected = Rc::new(Cell::new(false));
    let flag = Rc::clone(&connected);
    sim.host("client", move || {
        let flag = Rc::clone(&flag);
        async move {
            // Each try's SYN is lost while the link is cut (nothing retransmits).
            loop {
                let attempt = TcpStream::connect(("server", PORT));
                if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(1), attempt).await {
                    flag.set(true);
                    return std::future::pending::<()>().await;
                }
            }
        }
    });
    sim.partition("client", "server");
    sim.run_until(Duration::from_secs(5), &mut || false);
    assert!(!connected.get(), "no connection across a cut link");
    assert!(sim.segments().dropped >= 4, "{:?}", sim.segments());
    sim.repair("client", "server");
    sim.run_until(Duration::from_secs(10), &mut || false);
    assert!(connected.get(), "the link works again once repaired");
}

#[test]
fn idle_time_passes_in_one_step() {
    let mut sim = Builder::new().seed(1).build();
    let woke = Rc::new(Cell::new(0u32));
    let count = Rc::clone(&woke);
    sim.host("sleeper", move || {
        let count = Rc::clone(&count);
        async move {
            loop {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                count.set(count.get() + 1);
            }
        }
    });
    let mut rounds = 0;
    while sim.elapsed() < Duration::from_secs(10 * 3600) {
        sim.run_until(Duration::from_secs(10 * 3600), &mut || false);
        rounds += 1;
    }
    assert_eq!(rounds, 1);
    assert_eq!(woke.get(), 10);
    assert_eq!(sim.elapsed(), Duration::from_secs(10 * 3600));
}

#[test]
fn a_server_names_its_peer_by_the_host_it_connects_from() {
    let mut sim = Builder::new().seed(1).build();
    let seen: Rc<RefCell<Vec<Option<String>>>> = Rc::default();
    let names = Rc::clone(&seen);
    sim.host("server", move || {
        let names = Rc::clone(&names);
        async move {
            let listener = TcpListener::bind(("0.0.0.0", PORT)).await.expect("free");
            while let Ok((_stream, peer)) = listener.accept().await {
                let name = stallsim_net::host_name(peer.ip()).map(|n| n.to_string());
                names.borrow_mut().push(name);
            }
        }
    });
    let connect = |after: Duration| async move {
        tokio::time::sleep(after).await;
        let _stream = TcpStream::connect(("server", PORT))
            .await
            .expect("connects");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    sim.host("grm-1", move || connect(Duration::from_secs(1)));
    sim.run_client("grm-0", LIMIT, async move {
        connect(Duration::ZERO).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    })
    .expect("connects within the limit");
    assert_eq!(
        *seen.borrow(),
        [Some("grm-0".to_string()), Some("grm-1".to_string())]
    );
    assert_eq!(
        stallsim_net::host_name("10.9.8.7".parse().expect("an address")),
        None
    );
}

/// A world whose host `server` echoes, and whose host `broken` runs
/// `task` in a spawned task after a second.
fn world_with_broken_task<F, Fut>(polls_per_instant_max: u32, task: F) -> Sim
where
    F: Fn() -> Fut + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let mut sim = Builder::new()
        .seed(1)
        .polls_per_instant_max(polls_per_instant_max)
        .build();
    echo_server(&mut sim);
    let task = Rc::new(task);
    sim.host("broken", move || {
        let task = Rc::clone(&task);
        async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            tokio::task::spawn_local(task());
            std::future::pending::<()>().await;
        }
    });
    sim
}

#[test]
fn a_panicking_task_fails_the_run_with_its_message_host_and_time() {
    let mut sim = world_with_broken_task(100, || async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let capacity: usize = usize::MAX >> 2;
        let _ = tokio::sync::Semaphore::new(capacity);
    });
    let failure = run_to_failure(&mut sim);
    assert_eq!(failure.host.as_deref(), Some("broken"));
    assert_eq!(failure.at, Duration::from_millis(1500));
    let stallsim_net::FailureKind::Panicked { message, location } = &failure.kind else {
        panic!("expected a panic, got {failure:?}");
    };
    assert!(
        message.contains("a semaphore may not have more than MAX_PERMITS permits"),
        "{message}"
    );
    assert!(
        location
            .as_deref()
            .is_some_and(|l| l.starts_with("tokio-") && l.contains("src/sync/")),
        "{location:?}"
    );
    assert!(
        failure
            .to_string()
            .starts_with("a task of broken panicked: a semaphore"),
        "{failure}"
    );
    // The run is over: time stands where it broke, and the host is gone.
    assert_eq!(
        sim.run_until(Duration::from_secs(20), &mut || false),
        Stop::Failed
    );
    assert_eq!(sim.elapsed(), Duration::from_millis(1500));
    assert!(!sim.is_host_running("broken"));
}

#[test]
fn a_panic_in_a_host_s_first_task_fails_the_run_too() {
    let mut sim = Builder::new().seed(1).build();
    sim.host("broken", || async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        panic!("main task gives up");
    });
    let failure = run_to_failure(&mut sim);
    assert_eq!(
        (failure.host.as_deref(), failure.at),
        (Some("broken"), Duration::from_secs(2))
    );
    assert_eq!(
        failure.kind,
        stallsim_net::FailureKind::Panicked {
            message: "main task gives up".to_string(),
            location: failure_location(&failure),
        }
    );
    assert!(
        failure_location(&failure).is_some_and(|l| l.starts_with("crates/net/tests/sim.rs:")),
        "{failure:?}"
    );
}

/// Runs `sim` for up to 10s, which must end in a failure, and returns it.
fn run_to_failure(sim: &mut Sim) -> stallsim_net::HostFailure {
    assert_eq!(
        sim.run_until(Duration::from_secs(10), &mut || false),
        Stop::Failed
    );
    sim.failure().expect("a failed run has a failure").clone()
}

fn failure_location(failure: &stallsim_net::HostFailure) -> Option<String> {
    match &failure.kind {
        stallsim_net::FailureKind::Panicked { location, .. } => location.clone(),
        _ => None,
    }
}

#[test]
fn a_panic_outside_every_host_fails_the_run_without_a_host() {
    let mut sim = Builder::new().seed(1).build();
    sim.host("spawner", || async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        // Spawned on the runtime itself, as kube::Client's buffer worker is.
        drop(tokio::spawn(async { panic!("outside") }));
        std::future::pending::<()>().await;
    });
    let failure = run_to_failure(&mut sim);
    assert_eq!(
        (failure.host.as_deref(), failure.at),
        (None, Duration::from_secs(1))
    );
    assert!(
        failure
            .to_string()
            .starts_with("a task outside any host panicked: outside"),
        "{failure}"
    );
}

#[test]
fn a_task_that_never_lets_time_pass_freezes_its_host_and_fails_the_run() {
    let mut sim = world_with_broken_task(100, || async {
        loop {
            tokio::task::yield_now().await;
        }
    });
    let failure = run_to_failure(&mut sim);
    assert_eq!(
        (failure.host.as_deref(), failure.at, &failure.kind),
        (
            Some("broken"),
            Duration::from_secs(1),
            &stallsim_net::FailureKind::Froze { polls: 101 }
        )
    );
    assert!(failure
        .to_string()
        .starts_with("broken froze: polled 101 times"));
}

#[test]
fn a_failure_is_the_same_in_every_run_of_a_seed() {
    let failure = |seed: u64| {
        let mut sim = Builder::new()
            .seed(seed)
            .latency(Duration::from_millis(1), Duration::from_millis(30))
            .build();
        echo_server(&mut sim);
        sim.host("client", || async {
            let stream = TcpStream::connect(("server", PORT))
                .await
                .expect("connects");
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            for n in 0..50u32 {
                write
                    .write_all(format!("{n}\n").as_bytes())
                    .await
                    .expect("writes");
                let line = lines.next_line().await.expect("reads").expect("a line");
                assert_ne!(line, "37", "the echo of 37 breaks the client");
            }
        });
        assert_eq!(
            sim.run_until(Duration::from_secs(60), &mut || false),
            Stop::Failed
        );
        sim.failure().cloned().expect("a failure")
    };
    let first = failure(7);
    assert_eq!(first.host.as_deref(), Some("client"));
    assert_eq!(first, failure(7));
    assert_ne!(
        first.at,
        failure(8).at,
        "the latencies, and so the time, follow the seed"
    );
}

#[test]
fn run_client_reports_a_failed_assertion_inside_the_client() {
    let outcome = std::panic::catch_unwind(|| {
        let mut sim = Builder::new().seed(1).build();
        sim.run_client("client", LIMIT, async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            assert_eq!(1 + 1, 3, "arithmetic in the client");
        })
    });
    let payload = outcome.expect_err("the client's assertion fails the call");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("a task of client panicked"), "{message}");
    assert!(message.contains("arithmetic in the client"), "{message}");
}
