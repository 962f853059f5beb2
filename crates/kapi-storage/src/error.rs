use crate::{KeyValue, Revision};

/// Why a storage operation failed. The API layer maps each variant onto one `metav1.Status` reason.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A create found the key already present.
    #[error("key {key} already exists")]
    AlreadyExists {
        /// The key.
        key: String,
    },
    /// The key does not exist.
    #[error("key {key} not found")]
    NotFound {
        /// The key.
        key: String,
    },
    /// A compare-and-swap found a different `mod_revision`. Carries the current value so that callers can retry
    /// without another read.
    #[error("key {key} was modified: expected revision {expected}, found {}", current.mod_revision)]
    Conflict {
        /// The key.
        key: String,
        /// The revision the caller expected.
        expected: Revision,
        /// The value that is stored now.
        current: Box<KeyValue>,
    },
    /// A [`Preconditions`](crate::Preconditions) check failed.
    #[error("{message}")]
    PreconditionFailed {
        /// The key.
        key: String,
        /// A kube-apiserver-style explanation, e.g. `Precondition failed: UID in precondition: a, UID in object meta: b`.
        message: String,
    },
    /// The requested revision was compacted away.
    #[error("required revision {requested} has been compacted (compacted revision {compacted})")]
    Expired {
        /// The revision asked for.
        requested: Revision,
        /// The store's compacted revision.
        compacted: Revision,
    },
    /// The requested revision is newer than the store's current one.
    #[error("revision {requested} is newer than the current revision {current}")]
    RevisionTooLarge {
        /// The revision asked for.
        requested: Revision,
        /// The store's current revision.
        current: Revision,
    },
    /// A continue token that this store did not issue, or that belongs to another prefix.
    #[error("invalid continue token: {reason}")]
    InvalidContinue {
        /// What is wrong with it.
        reason: String,
    },
    /// The backend failed (I/O error, full disk, lost connection). Reads may still work.
    #[error("storage backend error: {message}")]
    Backend {
        /// The backend's own message.
        message: String,
    },
    /// The store is shutting down or was closed.
    #[error("storage is closed")]
    Closed,
}

impl Error {
    /// Builds an [`Error::Backend`] from anything printable.
    pub fn backend(err: impl std::fmt::Display) -> Self {
        Self::Backend {
            message: err.to_string(),
        }
    }
}

/// The result type of storage operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
