//! Tests of the fake API server, through `handle` and through `RestClient`.

mod bounds;
mod crd;
mod discovery;
mod finalizers;
mod lease;
mod load;
mod net;
mod store;
mod support;
mod watch;
