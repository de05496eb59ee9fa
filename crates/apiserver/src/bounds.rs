//! [`MemoryBounds`]: how many bytes the server may hold in stored objects,
//! watch history and frames queued for watchers.

/// How many bytes the server may hold, and how they are shared out.
///
/// `bytes_max` bounds stored objects, the watch history and the frames
/// queued for watchers together: half for stored objects, a quarter for
/// the history, a quarter for the queues. Bytes are the memory a JSON
/// value holds, estimated from its strings, maps and arrays: at least its
/// JSON size. Past each share:
///
/// - a create or an update that would store more answers `507`, as an
///   etcd past its quota refuses writes ("mvcc: database space exceeded")
///   until something is deleted; deletes always go through;
/// - the history drops its oldest changes (a watch from before them gets
///   `410 Expired`, as after a compaction);
/// - the watch holding the most queued bytes is ended and its frames
///   dropped, as kube-apiserver closes a watcher that does not keep up.
///
/// Requests being read or answered are not counted: a request body is
/// bounded on its own (3 MiB), an answer lives until it is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryBounds {
    /// Stored objects, watch history and queued watch frames together.
    pub bytes_max: u64,
}

impl MemoryBounds {
    /// The default bound, 256 MiB: room for a few hundred of the largest
    /// objects a request may carry (3 MiB), or hundreds of thousands of
    /// the small ones a controller writes.
    pub const BYTES_MAX_DEFAULT: u64 = 256 * 1024 * 1024;

    /// The least bound accepted: room for one of the largest objects a
    /// request may carry, in each share.
    pub const BYTES_MAX_MIN: u64 = 16 * 1024 * 1024;

    /// The bytes of stored objects past which writes are refused.
    pub fn objects_bytes_max(&self) -> u64 {
        self.bytes_max - self.history_bytes_max() - self.watch_queues_bytes_max()
    }

    /// The bytes of watch history past which its oldest changes go.
    pub fn history_bytes_max(&self) -> u64 {
        self.bytes_max / 4
    }

    /// The bytes of frames queued for all watchers together past which the
    /// fullest watch is ended.
    pub fn watch_queues_bytes_max(&self) -> u64 {
        self.bytes_max / 4
    }
}

impl Default for MemoryBounds {
    fn default() -> Self {
        MemoryBounds {
            bytes_max: Self::BYTES_MAX_DEFAULT,
        }
    }
}
