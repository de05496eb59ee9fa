//! Raw HTTP/1.1 over an in-memory stream: what the face answers, byte for
//! byte, with tokio's clock paused (timeouts and bookmarks pass at once).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use serde_json::{json, Value};
use stallsim_apiserver::{ApiServer, ApiServerConfig, HttpFace};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::task::JoinHandle;

/// Room in the in-memory stream, each way.
const STREAM_BYTES: usize = 64 * 1024;

/// A face over a fresh server whose clock starts now.
pub fn face(config: ApiServerConfig) -> HttpFace {
    let server = Rc::new(RefCell::new(ApiServer::new(config)));
    HttpFace::since(server, tokio::time::Instant::now())
}

/// One connection to `face`: the client's end, and the task serving the
/// other end (it ends when the connection does). Call within a `LocalSet`.
pub fn connect(face: &HttpFace) -> (DuplexStream, JoinHandle<Result<(), hyper::Error>>) {
    let (client, server_end) = tokio::io::duplex(STREAM_BYTES);
    let face = face.clone();
    let task = tokio::task::spawn_local(async move { face.serve_connection(server_end).await });
    (client, task)
}

/// An answer as read off the wire.
#[derive(Debug)]
pub struct Answer {
    pub code: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// A watch's events, one JSON document per line.
    pub fn events(&self) -> Vec<Value> {
        String::from_utf8_lossy(&self.body)
            .lines()
            .map(|line| serde_json::from_str(line).expect("each line is one JSON event"))
            .collect()
    }

    /// Asserts a failure `Status` with this code and reason.
    pub fn assert_status(&self, code: u16, reason: &str) {
        assert_eq!(self.code, code, "{self:?}");
        let body = self.json();
        assert_eq!(body["kind"], "Status", "{body}");
        assert_eq!(body["apiVersion"], "v1", "{body}");
        assert_eq!(body["status"], "Failure", "{body}");
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["reason"], reason, "{body}");
    }
}

/// A request with `Connection: close`, its body (if any) as JSON.
pub fn request(method: &str, target: &str, body: Option<&Value>) -> Vec<u8> {
    let body = body.map(|b| serde_json::to_vec(b).expect("JSON"));
    let content_type = if body.is_some() {
        "Content-Type: application/json\r\n"
    } else {
        ""
    };
    raw_request(
        method,
        target,
        content_type,
        body.as_deref().unwrap_or_default(),
    )
}

/// A request with the given extra header lines and body, `Connection: close`.
pub fn raw_request(method: &str, target: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "{method} {target} HTTP/1.1\r\nHost: stallsim\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Sends `bytes` on a fresh connection and reads the answer to the
/// connection's end. The writing is its own task: a server that answers
/// early may stop reading.
pub async fn exchange(face: &HttpFace, bytes: Vec<u8>) -> Answer {
    let (client, task) = connect(face);
    let (mut read, mut write) = tokio::io::split(client);
    let writer = tokio::task::spawn_local(async move {
        let _ = write.write_all(&bytes).await;
        write
    });
    let mut received = Vec::new();
    let _ = read.read_to_end(&mut received).await;
    drop(writer.await);
    let _ = task.await.expect("the connection task never panics");
    parse(&received)
}

/// One request and its answer.
pub async fn call(face: &HttpFace, method: &str, target: &str, body: Option<Value>) -> Answer {
    exchange(face, request(method, target, body.as_ref())).await
}

fn parse(received: &[u8]) -> Answer {
    let text_end = received
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no head in {:?}", String::from_utf8_lossy(received)));
    let head = String::from_utf8_lossy(&received[..text_end]).to_string();
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status line");
    let rest = &received[text_end + 4..];
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Answer { code, head, body }
}

fn dechunk(mut bytes: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let Some(line_end) = bytes.windows(2).position(|w| w == b"\r\n") else {
            return body;
        };
        let size =
            usize::from_str_radix(std::str::from_utf8(&bytes[..line_end]).unwrap().trim(), 16)
                .expect("a chunk size");
        if size == 0 {
            return body;
        }
        let start = line_end + 2;
        body.extend_from_slice(&bytes[start..start + size]);
        bytes = &bytes[start + size + 2..];
    }
}

/// Runs a test body on a `LocalSet`.
pub async fn local<F: std::future::Future>(test: F) -> F::Output {
    tokio::task::LocalSet::new().run_until(test).await
}

pub fn config_map(name: &str, value: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {"value": value},
    })
}

const CONFIG_MAPS: &str = "/api/v1/namespaces/default/configmaps";

#[tokio::test(start_paused = true)]
async fn discovery_documents_are_served() {
    local(async {
        let face = face(ApiServerConfig::default());
        let version = call(&face, "GET", "/version", None).await;
        assert_eq!(version.code, 200);
        assert!(version
            .head
            .to_ascii_lowercase()
            .contains("content-type: application/json"));
        assert_eq!(version.json()["major"], "1");
        assert_eq!(
            call(&face, "GET", "/api", None).await.json()["versions"],
            json!(["v1"])
        );
        let groups = call(&face, "GET", "/apis", None).await.json();
        assert_eq!(groups["kind"], "APIGroupList");
        let core = call(&face, "GET", "/api/v1", None).await.json();
        assert!(core["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "configmaps"));
        let leases = call(&face, "GET", "/apis/coordination.k8s.io/v1", None)
            .await
            .json();
        assert_eq!(leases["groupVersion"], "coordination.k8s.io/v1");
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn create_get_update_delete_round_trip() {
    local(async {
        let face = face(ApiServerConfig::default());
        let created = call(&face, "POST", CONFIG_MAPS, Some(config_map("a", "1"))).await;
        assert_eq!(created.code, 201);
        let created = created.json();
        assert_eq!(created["metadata"]["namespace"], "default");
        let path = format!("{CONFIG_MAPS}/a");
        assert_eq!(call(&face, "GET", &path, None).await.json(), created);
        let mut stale = created.clone();
        stale["metadata"]["resourceVersion"] = json!("0");
        call(&face, "PUT", &path, Some(stale))
            .await
            .assert_status(409, "Conflict");
        let mut update = created.clone();
        update["data"]["value"] = json!("2");
        let updated = call(&face, "PUT", &path, Some(update)).await;
        assert_eq!(updated.code, 200);
        assert_eq!(updated.json()["data"]["value"], "2");
        assert_eq!(call(&face, "DELETE", &path, None).await.code, 200);
        call(&face, "GET", &path, None)
            .await
            .assert_status(404, "NotFound");
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_watch_streams_events_until_its_timeout() {
    local(async {
        let face = face(ApiServerConfig::default());
        call(&face, "POST", CONFIG_MAPS, Some(config_map("a", "1"))).await;
        let watch = exchange(
            &face,
            request(
                "GET",
                &format!("{CONFIG_MAPS}?watch=true&timeoutSeconds=5"),
                None,
            ),
        )
        .await;
        assert_eq!(watch.code, 200);
        assert!(watch
            .head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"));
        let events = watch.events();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["type"], "ADDED");
        assert_eq!(events[0]["object"]["metadata"]["name"], "a");
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_watch_that_asks_gets_bookmarks() {
    local(async {
        let config = ApiServerConfig {
            bookmark_interval: Duration::from_secs(10),
            ..ApiServerConfig::default()
        };
        let face = face(config);
        let created = call(&face, "POST", CONFIG_MAPS, Some(config_map("a", "1"))).await.json();
        let version = created["metadata"]["resourceVersion"].as_str().unwrap().to_string();
        let target = format!(
            "{CONFIG_MAPS}?watch=1&resourceVersion={version}&allowWatchBookmarks=true&timeoutSeconds=25"
        );
        let events = exchange(&face, request("GET", &target, None)).await.events();
        let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["BOOKMARK", "BOOKMARK"]);
        assert_eq!(events[0]["object"]["metadata"]["resourceVersion"], version.as_str());
        assert_eq!(events[0]["object"]["kind"], "ConfigMap");
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_watch_from_a_compacted_version_gets_an_in_stream_410() {
    local(async {
        let config = ApiServerConfig {
            history_events_max: 2,
            ..ApiServerConfig::default()
        };
        let face = face(config);
        for name in ["a", "b", "c", "d"] {
            call(&face, "POST", CONFIG_MAPS, Some(config_map(name, "1"))).await;
        }
        let watch = exchange(
            &face,
            request(
                "GET",
                &format!("{CONFIG_MAPS}?watch=true&resourceVersion=1"),
                None,
            ),
        )
        .await;
        assert_eq!(
            watch.code, 200,
            "the expiry is in the stream, not the status line"
        );
        let events = watch.events();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["type"], "ERROR");
        assert_eq!(events[0]["object"]["kind"], "Status");
        assert_eq!(events[0]["object"]["code"], 410);
        assert_eq!(events[0]["object"]["reason"], "Expired");
    })
    .await;
}

/// A PATCH with this media type and body.
fn patch(target: &str, media_type: &str, body: &Value) -> Vec<u8> {
    let headers = format!("Content-Type: {media_type}\r\n");
    raw_request(
        "PATCH",
        target,
        &headers,
        &serde_json::to_vec(body).unwrap(),
    )
}

#[tokio::test(start_paused = true)]
async fn a_patch_merges_and_checks_the_version_it_names() {
    local(async {
        let face = face(ApiServerConfig::default());
        let created = call(&face, "POST", CONFIG_MAPS, Some(config_map("a", "1")))
            .await
            .json();
        let path = format!("{CONFIG_MAPS}/a");
        let merge = json!({"data": {"value": "2", "extra": "x"}});
        let patched = exchange(&face, patch(&path, "application/merge-patch+json", &merge)).await;
        assert_eq!(patched.code, 200, "{patched:?}");
        assert_eq!(patched.json()["data"], json!({"value": "2", "extra": "x"}));
        let strategic = json!({"data": {"extra": null}});
        let media = "application/strategic-merge-patch+json";
        let patched = exchange(&face, patch(&path, media, &strategic))
            .await
            .json();
        assert_eq!(patched["data"], json!({"value": "2"}));
        assert_eq!(patched["metadata"]["uid"], created["metadata"]["uid"]);
        // A patch that names a version other than the stored one is stale.
        let stale = json!({"metadata": {"resourceVersion": "1"}, "data": {"value": "3"}});
        exchange(&face, patch(&path, "application/merge-patch+json", &stale))
            .await
            .assert_status(409, "Conflict");
        // A JSON patch is a list of operations, and nothing else.
        let operations = json!([{"op": "replace", "path": "/data/value", "value": "4"}]);
        let patched = exchange(
            &face,
            patch(&path, "application/json-patch+json", &operations),
        )
        .await
        .json();
        assert_eq!(patched["data"], json!({"value": "4"}));
        exchange(
            &face,
            patch(&path, "application/json-patch+json", &json!({})),
        )
        .await
        .assert_status(400, "BadRequest");
        exchange(
            &face,
            patch(&path, "application/merge-patch+json", &operations),
        )
        .await
        .assert_status(400, "BadRequest");
        // Server-side apply is not served.
        for media in ["application/apply-patch+yaml", "application/json"] {
            exchange(&face, patch(&path, media, &json!({})))
                .await
                .assert_status(415, "UnsupportedMediaType");
        }
        let missing = format!("{CONFIG_MAPS}/b");
        exchange(
            &face,
            patch(&missing, "application/merge-patch+json", &merge),
        )
        .await
        .assert_status(404, "NotFound");
        assert_eq!(
            call(&face, "GET", &path, None).await.json()["data"],
            json!({"value": "4"})
        );
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn openapi_documents_name_every_served_kind() {
    local(async {
        let face = face(ApiServerConfig::default());
        let root = call(&face, "GET", "/openapi/v3", None).await.json();
        let url = root["paths"]["apis/coordination.k8s.io/v1"]["serverRelativeURL"]
            .as_str()
            .expect("leases' group version is listed")
            .to_string();
        let spec = call(&face, "GET", &url, None).await.json();
        let lease =
            &spec["paths"]["/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}"];
        assert_eq!(
            lease["patch"]["x-kubernetes-group-version-kind"]["kind"],
            "Lease"
        );
        let parameters = lease["patch"]["parameters"].as_array().unwrap();
        assert!(parameters.iter().any(|p| p["name"] == "fieldValidation"));
        call(&face, "GET", "/openapi/v3/apis/example.com/v1", None)
            .await
            .assert_status(404, "NotFound");
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_face_for_a_client_counts_its_requests_apart() {
    local(async {
        let anonymous = face(ApiServerConfig::default());
        let kubectl = anonymous.for_client("kubectl");
        call(&kubectl, "GET", CONFIG_MAPS, None).await;
        call(&kubectl, "GET", "/api/v1", None).await;
        call(&anonymous, "GET", CONFIG_MAPS, None).await;
        let server = kubectl.server().borrow();
        assert_eq!(server.load().total, 3, "all of them overall");
        let clients = server.client_loads();
        assert_eq!(clients.len(), 1, "{clients:?}");
        assert_eq!(clients[0].client, "kubectl");
        assert_eq!((clients[0].list.total, clients[0].other.total), (1, 1));
    })
    .await;
}
