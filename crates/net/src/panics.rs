//! Catching the panics of simulated tasks: a process-wide panic hook that,
//! on a thread where a [`crate::Sim`] runs, keeps the first panic's message
//! and place instead of printing them.
//!
//! tokio catches a task's panic and hands it to the task's `JoinHandle`,
//! which may be long gone; the message would be lost. The hook sees every
//! panic first, on the panicking thread, so a thread-local slot tells apart
//! the simulations that several threads run at once (`explore`'s workers).
//! On a thread without a running simulation, the hook that was installed
//! before it handles the panic as usual.

use std::cell::RefCell;
use std::panic::{self, PanicHookInfo};
use std::sync::Once;

/// A panic as the hook saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Caught {
    pub message: String,
    /// `file:line:column`, with a dependency's path shortened to its crate
    /// directory (`tokio-1.54.1/src/...`).
    pub location: Option<String>,
}

thread_local! {
    /// `Some` while a simulation runs on this thread: the first panic since
    /// it was last taken.
    static SLOT: RefCell<Option<Option<Caught>>> = const { RefCell::new(None) };
}

static INSTALL: Once = Once::new();

/// Installs the hook, once per process; the hook in place before keeps
/// every panic outside a simulation.
pub(crate) fn install_hook() {
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !keep(info) {
                previous(info);
            }
        }));
    });
}

/// Records `info` in this thread's slot, if a simulation runs here; false
/// when none does (or the slot is busy), for the previous hook to handle.
fn keep(info: &PanicHookInfo<'_>) -> bool {
    SLOT.try_with(|slot| {
        let Ok(mut slot) = slot.try_borrow_mut() else {
            return false;
        };
        match slot.as_mut() {
            None => false,
            Some(first) => {
                if first.is_none() {
                    *first = Some(Caught {
                        message: payload_text(info.payload()),
                        location: info.location().map(|l| {
                            format!("{}:{}:{}", short_path(l.file()), l.line(), l.column())
                        }),
                    });
                }
                true
            }
        }
    })
    .unwrap_or(false)
}

/// A panic's message: its `&str` or `String` payload.
pub(crate) fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// A dependency's source path from its crate directory on (the registry's
/// location on this machine says nothing); other paths as they are.
fn short_path(file: &str) -> &str {
    const REGISTRY: &str = "/registry/src/";
    match file.find(REGISTRY) {
        Some(at) => {
            let index_and_rest = &file[at + REGISTRY.len()..];
            index_and_rest
                .find('/')
                .map_or(index_and_rest, |slash| &index_and_rest[slash + 1..])
        }
        None => file,
    }
}

/// While it lives, panics on this thread are kept in its slot, not printed.
pub(crate) struct Capture {
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Capture {
    pub(crate) fn start() -> Capture {
        SLOT.with(|slot| *slot.borrow_mut() = Some(None));
        Capture {
            _not_send: std::marker::PhantomData,
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = SLOT.try_with(|slot| *slot.borrow_mut() = None);
    }
}

/// The first panic kept since the last call, if any.
pub(crate) fn take() -> Option<Caught> {
    SLOT.with(|slot| slot.borrow_mut().as_mut().and_then(Option::take))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dependency_path_starts_at_its_crate() {
        assert_eq!(
            short_path("/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/tokio-1.54.1/src/sync/batch_semaphore.rs"),
            "tokio-1.54.1/src/sync/batch_semaphore.rs"
        );
        assert_eq!(
            short_path("crates/manager/src/backoff.rs"),
            "crates/manager/src/backoff.rs"
        );
    }

    #[test]
    fn a_panic_is_kept_only_while_capturing() {
        install_hook();
        assert_eq!(take(), None);
        let capture = Capture::start();
        let outcome = std::panic::catch_unwind(|| panic!("kept {}", 1));
        assert!(outcome.is_err());
        let caught = take().expect("kept");
        assert_eq!(caught.message, "kept 1");
        assert!(
            caught
                .location
                .as_deref()
                .is_some_and(|l| l.starts_with("crates/net/src/panics.rs:")),
            "{caught:?}"
        );
        assert_eq!(take(), None, "taken once");
        drop(capture);
        assert_eq!(take(), None);
    }
}
