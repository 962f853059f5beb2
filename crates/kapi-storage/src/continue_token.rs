//! Continue tokens, in kube-apiserver's format so that the API layer can hand them to clients unchanged:
//! base64url (no padding) of `{"v":"meta.k8s.io/v1","rv":<revision>,"start":"<next key, relative to the prefix>"}`.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use serde::{Deserialize, Serialize};

use crate::{Error, Result, Revision};

const VERSION: &str = "meta.k8s.io/v1";

#[derive(Serialize, Deserialize)]
struct Wire<'a> {
    v: std::borrow::Cow<'a, str>,
    rv: i64,
    start: std::borrow::Cow<'a, str>,
}

/// A decoded continue token: where the next page starts and which snapshot it reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContinueToken {
    /// The revision of the first page's snapshot.
    pub revision: Revision,
    /// The first key of the next page, relative to the listed prefix.
    pub start: String,
}

impl ContinueToken {
    /// The token that continues a list of `prefix` after `last_key` (the last key returned).
    pub fn after(prefix: &str, last_key: &str, revision: Revision) -> Self {
        let relative = last_key.strip_prefix(prefix).unwrap_or(last_key);
        // "\0" sorts right after the key itself, so the next page starts at the following key.
        Self {
            revision,
            start: format!("{relative}\u{0}"),
        }
    }

    /// The opaque string handed to clients.
    pub fn encode(&self) -> String {
        let wire = Wire {
            v: VERSION.into(),
            rv: i64::try_from(self.revision).unwrap_or(i64::MAX),
            start: self.start.as_str().into(),
        };
        // Serializing a struct of strings and an integer cannot fail.
        let json = serde_json::to_vec(&wire).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    /// Parses a token a client sent back.
    pub fn decode(token: &str) -> Result<Self> {
        let invalid = |reason: &str| Error::InvalidContinue {
            reason: reason.to_owned(),
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(token.trim_end_matches('='))
            .map_err(|_| invalid("not base64url"))?;
        let wire: Wire<'_> = serde_json::from_slice(&bytes).map_err(|_| invalid("not a continue token"))?;
        if wire.v != VERSION {
            return Err(invalid("unsupported version"));
        }
        let revision = u64::try_from(wire.rv)
            .ok()
            .filter(|rv| *rv > 0)
            .ok_or_else(|| invalid("incorrect encoded start resourceVersion (version meta.k8s.io/v1)"))?;
        if wire.start.is_empty() {
            return Err(invalid("encoded start key is empty"));
        }
        // A token names a key *below* the listed prefix; refuse anything that could climb out of it.
        if wire.start.split('/').any(|segment| segment == "..") || wire.start.starts_with('/') {
            return Err(invalid("encoded start key is not a relative key"));
        }
        Ok(Self {
            revision,
            start: wire.start.into_owned(),
        })
    }

    /// The absolute key the next page starts at.
    pub fn start_key(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_matches_kube_apiserver_layout() {
        let token = ContinueToken::after("/registry/configmaps/ns/", "/registry/configmaps/ns/cm-2", 42);
        let encoded = token.encode();
        let json = URL_SAFE_NO_PAD.decode(&encoded).expect("base64url");
        assert_eq!(
            std::str::from_utf8(&json).expect("utf8"),
            r#"{"v":"meta.k8s.io/v1","rv":42,"start":"cm-2\u0000"}"#
        );
        assert_eq!(ContinueToken::decode(&encoded).expect("decodes"), token);
        assert_eq!(
            token.start_key("/registry/configmaps/ns/"),
            "/registry/configmaps/ns/cm-2\0"
        );
    }

    #[test]
    fn rejects_garbage_foreign_and_escaping_tokens() {
        for bad in [
            "",
            "!!!",
            "aGVsbG8",
            &URL_SAFE_NO_PAD.encode(r#"{"v":"x","rv":1,"start":"a"}"#),
        ] {
            assert!(
                matches!(ContinueToken::decode(bad), Err(Error::InvalidContinue { .. })),
                "{bad}"
            );
        }
        let escaping = URL_SAFE_NO_PAD.encode(r#"{"v":"meta.k8s.io/v1","rv":3,"start":"../secrets/x"}"#);
        assert!(ContinueToken::decode(&escaping).is_err());
        let zero_rv = URL_SAFE_NO_PAD.encode(r#"{"v":"meta.k8s.io/v1","rv":0,"start":"a"}"#);
        assert!(ContinueToken::decode(&zero_rv).is_err());
    }
}
