//! kube-apiserver's storage verbs built from the compare-and-swap primitives of [`Storage`].

use bytes::Bytes;

use crate::{Deleted, Error, KeyValue, Result, Revision, Storage};

/// Conditions a delete (or update) must find true of the stored object, as in `metav1.Preconditions`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preconditions {
    /// The object's `metadata.uid` must be this.
    pub uid: Option<String>,
    /// The object's `mod_revision` (`metadata.resourceVersion`) must be this.
    pub revision: Option<Revision>,
}

impl Preconditions {
    /// Checks the stored `kv`. The uid is read from the value's `metadata.uid`: the one place where storage looks
    /// inside a value, as kube-apiserver's etcd3 store does for the same check.
    pub fn check(&self, kv: &KeyValue) -> Result<()> {
        if let Some(uid) = &self.uid {
            let stored = stored_uid(&kv.value).unwrap_or_default();
            if *uid != stored {
                return Err(Error::PreconditionFailed {
                    key: kv.key.clone(),
                    message: format!(
                        "the UID in the precondition ({uid}) does not match the UID in record ({stored}). \
                         The object might have been deleted and then recreated"
                    ),
                });
            }
        }
        if let Some(revision) = self.revision {
            if revision != kv.mod_revision {
                return Err(Error::PreconditionFailed {
                    key: kv.key.clone(),
                    message: format!(
                        "the ResourceVersion in the precondition ({revision}) does not match the ResourceVersion \
                         in record ({}). The object might have been modified",
                        kv.mod_revision
                    ),
                });
            }
        }
        Ok(())
    }
}

fn stored_uid(value: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Object {
        metadata: Option<Metadata>,
    }
    #[derive(serde::Deserialize)]
    struct Metadata {
        uid: Option<String>,
    }
    serde_json::from_slice::<Object>(value).ok()?.metadata?.uid
}

/// Deletes `key` once `preconditions` hold for its current value, retrying when a concurrent write intervenes
/// between the check and the delete (so the check always applies to the value actually deleted).
pub async fn delete_with_preconditions<S: Storage + ?Sized>(
    storage: &S,
    key: &str,
    preconditions: &Preconditions,
) -> Result<Deleted> {
    loop {
        let Some(current) = storage.get(key).await? else {
            return Err(Error::NotFound { key: key.to_owned() });
        };
        preconditions.check(&current)?;
        match storage.delete(key, Some(current.mod_revision)).await {
            Err(Error::Conflict { .. }) => continue,
            result => return result,
        }
    }
}

/// Reads `key`, lets `update` compute the new value from the current one and writes it with compare-and-swap,
/// retrying with the fresh value whenever another writer won (k8s.io/apiserver's `GuaranteedUpdate`).
///
/// `update` receives `None` when the key does not exist; returning `Ok(None)` leaves the store unchanged and
/// yields the current value (or [`Error::NotFound`] if there is none). Returning a value for a missing key creates
/// it. Errors from `update` end the loop unchanged, so callers can use their own error type.
pub async fn guaranteed_update<S, F, E>(storage: &S, key: &str, mut update: F) -> Result<KeyValue, E>
where
    S: Storage + ?Sized,
    F: FnMut(Option<&KeyValue>) -> Result<Option<Bytes>, E>,
    E: From<Error>,
{
    let mut current = storage.get(key).await?;
    loop {
        let Some(value) = update(current.as_ref())? else {
            return current.ok_or_else(|| Error::NotFound { key: key.to_owned() }.into());
        };
        let written = match &current {
            Some(kv) => storage.update(key, kv.mod_revision, value).await,
            None => storage.create(key, value).await,
        };
        current = match written {
            Ok(kv) => return Ok(kv),
            Err(Error::Conflict { current, .. }) => Some(*current),
            Err(Error::AlreadyExists { .. } | Error::NotFound { .. }) => storage.get(key).await?,
            Err(err) => return Err(err.into()),
        };
    }
}
