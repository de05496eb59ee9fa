//! Tests of the fake API server's HTTP face: raw HTTP over an in-memory
//! stream, and `kube::Client` over a loopback socket.

mod bad_input;
mod controller;
mod guard;
mod kube_client;
mod paging;
mod raw;
mod support;
