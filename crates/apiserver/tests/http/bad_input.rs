//! Requests the face cannot read get a 4xx `Status` or a clean close, and
//! the server goes on serving.

use serde_json::json;
use stallsim_apiserver::{ApiServerConfig, HttpFace, REQUEST_BODY_BYTES_MAX};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::raw::{call, config_map, connect, exchange, face, local, raw_request, request};

const CONFIG_MAPS: &str = "/api/v1/namespaces/default/configmaps";

/// The server still answers, and holds what it held.
async fn still_serves(face: &HttpFace, config_maps: usize) {
    let list = call(face, "GET", CONFIG_MAPS, None).await;
    assert_eq!(list.code, 200);
    assert_eq!(list.json()["items"].as_array().unwrap().len(), config_maps);
}

#[tokio::test(start_paused = true)]
async fn a_body_that_is_not_json_is_400() {
    local(async {
        let face = face(ApiServerConfig::default());
        let headers = "Content-Type: application/json\r\n";
        for body in [&b"{\"metadata\": "[..], b"not json", b"", b"\xff\xfe"] {
            exchange(&face, raw_request("POST", CONFIG_MAPS, headers, body))
                .await
                .assert_status(400, "BadRequest");
        }
        // JSON, but not an object.
        call(&face, "POST", CONFIG_MAPS, Some(json!([1, 2])))
            .await
            .assert_status(400, "BadRequest");
        call(&face, "POST", CONFIG_MAPS, Some(json!({"metadata": {}})))
            .await
            .assert_status(422, "Invalid");
        still_serves(&face, 0).await;
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn unknown_paths_are_404() {
    local(async {
        let face = face(ApiServerConfig::default());
        for path in [
            "/",
            "/metrics",
            "/api/v2",
            "/apis/example.com/v1",
            "/api/v1/widgets",
            "/api/v1/namespaces/default/configmaps/a/status",
            "/api/v1/namespaces/default/namespaces",
        ] {
            call(&face, "GET", path, None)
                .await
                .assert_status(404, "NotFound");
        }
        still_serves(&face, 0).await;
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn bad_query_values_are_400() {
    local(async {
        let face = face(ApiServerConfig::default());
        call(&face, "POST", CONFIG_MAPS, Some(config_map("a", "1"))).await;
        for query in [
            "limit=many",
            "limit=-1",
            "continue=nonsense",
            "continue=99%2Fdefault%2Fa",
            "watch=maybe",
            "watch=true&timeoutSeconds=soon",
            "watch=true&timeoutSeconds=-5",
            "watch=true&resourceVersion=yesterday",
            "watch=true&allowWatchBookmarks=please",
            "labelSelector=%3D%3D%3D",
        ] {
            call(&face, "GET", &format!("{CONFIG_MAPS}?{query}"), None)
                .await
                .assert_status(400, "BadRequest");
        }
        still_serves(&face, 1).await;
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn an_oversized_body_is_413() {
    local(async {
        let face = face(ApiServerConfig::default());
        let headers = "Content-Type: application/json\r\n";
        let big = vec![b' '; REQUEST_BODY_BYTES_MAX + 1];
        // Declared too long: refused before it is read.
        exchange(&face, raw_request("POST", CONFIG_MAPS, headers, &big))
            .await
            .assert_status(413, "RequestEntityTooLarge");
        // Chunked, no length declared: refused once it grows too long.
        let mut chunked = format!(
            "POST {CONFIG_MAPS} HTTP/1.1\r\nHost: stallsim\r\nConnection: close\r\n{headers}Transfer-Encoding: chunked\r\n\r\n"
        )
        .into_bytes();
        for piece in big.chunks(64 * 1024) {
            chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            chunked.extend_from_slice(piece);
            chunked.extend_from_slice(b"\r\n");
        }
        chunked.extend_from_slice(b"0\r\n\r\n");
        exchange(&face, chunked)
            .await
            .assert_status(413, "RequestEntityTooLarge");
        still_serves(&face, 0).await;
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_body_of_another_media_type_is_415() {
    local(async {
        let face = face(ApiServerConfig::default());
        let body = serde_json::to_vec(&config_map("a", "1")).unwrap();
        for headers in [
            "Content-Type: text/plain\r\n",
            "Content-Type: application/yaml\r\n",
        ] {
            exchange(&face, raw_request("POST", CONFIG_MAPS, headers, &body))
                .await
                .assert_status(415, "UnsupportedMediaType");
        }
        // Parameters and case do not matter.
        let headers = "Content-Type: Application/JSON; charset=utf-8\r\n";
        let created = exchange(&face, raw_request("POST", CONFIG_MAPS, headers, &body)).await;
        assert_eq!(created.code, 201, "{created:?}");
        still_serves(&face, 1).await;
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_body_without_a_media_type_is_json_but_a_patch_must_name_one() {
    local(async {
        let face = face(ApiServerConfig::default());
        let body = serde_json::to_vec(&config_map("a", "1")).unwrap();
        // As kube-apiserver reads it: the official Python client sends none.
        let created = exchange(&face, raw_request("POST", CONFIG_MAPS, "", &body)).await;
        assert_eq!(created.code, 201, "{created:?}");
        let path = format!("{CONFIG_MAPS}/a");
        let replaced = exchange(&face, raw_request("PUT", &path, "", &body)).await;
        assert_eq!(replaced.code, 200, "{replaced:?}");
        let patch = serde_json::to_vec(&serde_json::json!({"data": {"value": "2"}})).unwrap();
        exchange(&face, raw_request("PATCH", &path, "", &patch))
            .await
            .assert_status(415, "UnsupportedMediaType");
        // Still JSON: a body that is not is a 400.
        exchange(&face, raw_request("POST", CONFIG_MAPS, "", b"{"))
            .await
            .assert_status(400, "BadRequest");
        still_serves(&face, 1).await;
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn an_unknown_method_is_405() {
    local(async {
        let face = face(ApiServerConfig::default());
        for method in ["OPTIONS", "TRACE", "BREW"] {
            call(&face, method, CONFIG_MAPS, None)
                .await
                .assert_status(405, "MethodNotAllowed");
        }
        call(&face, "PUT", CONFIG_MAPS, Some(config_map("a", "1")))
            .await
            .assert_status(405, "MethodNotAllowed");
        still_serves(&face, 0).await;
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn bytes_that_are_not_http_close_the_connection() {
    local(async {
        let face = face(ApiServerConfig::default());
        for garbage in [
            &b"\x00\x01\x02\r\n\r\n"[..],
            b"GET\r\n\r\n",
            b"{\"method\":\"GET\"}\n",
        ] {
            let (mut client, task) = connect(&face);
            client.write_all(garbage).await.unwrap();
            client.shutdown().await.unwrap();
            let mut answer = Vec::new();
            client.read_to_end(&mut answer).await.unwrap();
            let served = task.await.expect("the connection task never panics");
            assert!(served.is_err(), "hyper reports the malformed head");
            let answer = String::from_utf8_lossy(&answer);
            assert!(
                answer.is_empty() || answer.starts_with("HTTP/1.1 400"),
                "{answer}"
            );
        }
        still_serves(&face, 0).await;
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_client_that_leaves_a_watch_ends_it() {
    local(async {
        let face = face(ApiServerConfig::default());
        let (mut client, task) = connect(&face);
        let watch = request("GET", &format!("{CONFIG_MAPS}?watch=true"), None);
        client.write_all(&watch).await.unwrap();
        // Read the head, then leave mid-watch.
        let mut head = [0u8; 12];
        client.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 200");
        assert_eq!(face.server().borrow().watch_count(), 1);
        drop(client);
        let _ = task.await.expect("the connection task never panics");
        // The next change finds the watch's reader gone.
        call(&face, "POST", CONFIG_MAPS, Some(config_map("a", "1"))).await;
        assert_eq!(face.server().borrow().watch_count(), 0);
        still_serves(&face, 1).await;
    })
    .await;
}
