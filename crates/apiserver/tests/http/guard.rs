//! What guards a face on a real socket: connection timeouts (on a paused
//! clock, over an in-memory stream) and the bearer token.

use std::time::Duration;

use stallsim_apiserver::{ApiServerConfig, ConnectionTimeouts};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::raw::{connect, exchange, face, local, raw_request, request};

const TIMEOUTS: ConnectionTimeouts = ConnectionTimeouts::KUBE_APISERVER;

/// Reads until the server closes the connection; what it sent.
async fn read_to_close(stream: &mut tokio::io::DuplexStream) -> Vec<u8> {
    let mut received = Vec::new();
    let _ = stream.read_to_end(&mut received).await;
    received
}

#[tokio::test(start_paused = true)]
async fn a_connection_that_sends_nothing_is_closed_after_the_idle_timeout() {
    local(async {
        let face = face(ApiServerConfig::default()).with_timeouts(TIMEOUTS);
        let (mut client, task) = connect(&face);
        let start = tokio::time::Instant::now();
        assert!(read_to_close(&mut client).await.is_empty());
        assert_eq!(start.elapsed(), TIMEOUTS.idle);
        task.await.unwrap().unwrap();
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_header_sent_too_slowly_is_cut_off_after_the_header_timeout() {
    local(async {
        let face = face(ApiServerConfig::default()).with_timeouts(TIMEOUTS);
        let (mut client, _task) = connect(&face);
        let start = tokio::time::Instant::now();
        client
            .write_all(b"GET /api HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        assert!(read_to_close(&mut client).await.is_empty());
        assert_eq!(start.elapsed(), TIMEOUTS.header_read);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_kept_alive_connection_is_served_then_closed_once_idle() {
    local(async {
        let face = face(ApiServerConfig::default()).with_timeouts(TIMEOUTS);
        let (mut client, _task) = connect(&face);
        let keep_alive = b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n";
        for _ in 0..2 {
            client.write_all(keep_alive).await.unwrap();
            tokio::time::sleep(TIMEOUTS.idle - Duration::from_secs(1)).await;
        }
        let answered = tokio::time::Instant::now();
        let received = read_to_close(&mut client).await;
        let text = String::from_utf8_lossy(&received);
        assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 2, "{text}");
        assert_eq!(answered.elapsed(), Duration::from_secs(1));
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_watch_is_not_idle_while_it_lasts() {
    local(async {
        let face = face(ApiServerConfig::default()).with_timeouts(TIMEOUTS);
        let start = tokio::time::Instant::now();
        let watch = request(
            "GET",
            "/api/v1/configmaps?watch=true&timeoutSeconds=300",
            None,
        );
        let answer = exchange(&face, watch).await;
        assert_eq!(answer.code, 200);
        assert_eq!(start.elapsed(), Duration::from_secs(300));
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_body_sent_too_slowly_is_504() {
    local(async {
        let face = face(ApiServerConfig::default()).with_timeouts(TIMEOUTS);
        let (client, _task) = connect(&face);
        let (mut read, mut write) = tokio::io::split(client);
        let head = "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\n\
                    Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{";
        write.write_all(head.as_bytes()).await.unwrap();
        let mut received = Vec::new();
        let _ = read.read_to_end(&mut received).await;
        let text = String::from_utf8_lossy(&received);
        assert!(text.starts_with("HTTP/1.1 504"), "{text}");
        assert!(
            text.contains("request did not complete within requested timeout"),
            "{text}"
        );
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_token_is_required_once_set() {
    local(async {
        let face = face(ApiServerConfig::default()).with_token("s3cret");
        exchange(&face, request("GET", "/api", None))
            .await
            .assert_status(401, "Unauthorized");
        for wrong in ["Bearer s3cre", "Bearer s3cretx", "Basic s3cret", "s3cret"] {
            let headers = format!("Authorization: {wrong}\r\n");
            exchange(&face, raw_request("GET", "/api", &headers, b""))
                .await
                .assert_status(401, "Unauthorized");
        }
        let headers = "Authorization: Bearer s3cret\r\n";
        let answer = exchange(&face, raw_request("GET", "/api", headers, b"")).await;
        assert_eq!(answer.code, 200, "{answer:?}");
        let headers = "Authorization: bearer s3cret\r\n";
        let answer = exchange(&face, raw_request("GET", "/version", headers, b"")).await;
        assert_eq!(
            answer.code, 200,
            "the scheme is case-insensitive: {answer:?}"
        );
    })
    .await;
}
