//! `stallsim serve` under hostile load keeps answering kubectl and holds
//! its memory: a thousand idle connections, a flood of 3 MB objects and a
//! watcher that never reads, all at once, on loopback.

mod serve_support;

use std::io::Write;
use std::net::TcpStream;

use serve_support::Served;

/// The server's memory bound for the test, in bytes (`--max-bytes`).
const BYTES_MAX: u64 = 64 * 1024 * 1024;

/// Idle connections opened and held through the test.
const IDLE_CONNECTIONS: usize = 1000;

/// Bytes of data in each flooded object: a 3 MB body, under the 3 MiB a
/// request may carry.
const OBJECT_DATA_BYTES: usize = 3_000_000;

/// Objects sent in the flood: more than the bound holds.
const FLOOD_OBJECTS: usize = 30;

/// What the process may hold beyond the bound: the program, a thousand
/// connections' buffers, and the answers and requests in flight (a LIST
/// of every stored object is copied once to be sent). Measured on the
/// build machine: 83 MiB resident in all (without a bound, 400 such
/// objects took the server to 2.5 GB).
const RESIDENT_SLACK_BYTES: u64 = BYTES_MAX;

const CONFIG_MAPS: &str = "/api/v1/namespaces/default/configmaps";

fn code(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {:?}", &answer[..answer.len().min(200)]))
}

#[test]
fn idle_connections_a_flood_and_a_stuck_watcher_leave_kubectl_answered() {
    let bytes_max = BYTES_MAX.to_string();
    let served = Served::start("load", &["--max-bytes", &bytes_max]);

    let idle: Vec<TcpStream> = (0..IDLE_CONNECTIONS)
        .map(|_| TcpStream::connect(served.address).expect("an idle connection"))
        .collect();

    // A watcher that asks and never reads a byte of the answer.
    let mut stuck = TcpStream::connect(served.address).expect("a connection");
    let watch = format!("GET {CONFIG_MAPS}?watch=true HTTP/1.1\r\nHost: stallsim\r\n\r\n");
    stuck
        .write_all(watch.as_bytes())
        .expect("the watch is asked");

    let data = "x".repeat(OBJECT_DATA_BYTES);
    let mut created = 0;
    let mut refused = 0;
    for round in 0..FLOOD_OBJECTS {
        let body = format!(
            r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"flood-{round}"}},"data":{{"d":"{data}"}}}}"#
        );
        let headers = "Content-Type: application/json\r\n";
        let answer = served.http("POST", CONFIG_MAPS, headers, body.as_bytes());
        match code(&answer) {
            201 => created += 1,
            507 => {
                assert!(answer.contains("database space exceeded"), "{answer}");
                refused += 1;
            }
            other => panic!("{other}: {}", &answer[..answer.len().min(400)]),
        }
        if round % 10 == 0 {
            let version = served.ok(&["version", "-o", "json"]);
            assert!(version.contains("serverVersion"), "{version}");
        }
    }
    assert!(
        created > 0 && refused > 0,
        "{created} created, {refused} refused"
    );

    let names = served.ok(&["get", "configmaps", "-o", "name"]);
    assert_eq!(names.lines().count(), created, "{names}");
    served.ok(&["delete", "configmap", "flood-0"]);
    let resources = served.ok(&["api-resources", "-o", "name"]);
    assert!(resources.contains("configmaps"), "{resources}");

    let resident = served.resident_bytes();
    println!(
        "{IDLE_CONNECTIONS} idle connections, a stuck watcher, {created} objects of 3 MB \
         stored and {refused} refused: resident {} MiB with --max-bytes {} MiB",
        resident >> 20,
        BYTES_MAX >> 20
    );
    assert!(
        resident < BYTES_MAX + RESIDENT_SLACK_BYTES,
        "resident {resident} bytes"
    );
    drop(idle);
    drop(stuck);
}
