//! Continue tokens, in kube-apiserver's format so that the API layer can hand them to clients unchanged:
//! base64url (no padding) of `{"v":"meta.k8s.io/v1","rv":<revision>,"start":"<next key, relative to the prefix>"}`.
//!
//! kapi adds one field, `"p"`: a digest of the listed prefix. The start key is relative, so without it a token of
//! one list would silently continue another (`/registry/secrets/` from a `/registry/configmaps/` token);
//! [`ContinueToken::decode_for`] refuses such tokens. Tokens without the field (kube-apiserver's) are accepted
//! for any prefix.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use serde::{Deserialize, Serialize};

use crate::{Error, Result, Revision};

const VERSION: &str = "meta.k8s.io/v1";

#[derive(Serialize, Deserialize)]
struct Wire<'a> {
    v: std::borrow::Cow<'a, str>,
    rv: i64,
    start: std::borrow::Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p: Option<std::borrow::Cow<'a, str>>,
}

/// A decoded continue token: where the next page starts and which snapshot it reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContinueToken {
    /// The revision of the first page's snapshot.
    pub revision: Revision,
    /// The first key of the next page, relative to the listed prefix.
    pub start: String,
    /// A digest of the listed prefix ([`prefix_digest`](Self::prefix_digest)), when the token carries one.
    pub prefix_digest: Option<String>,
}

impl ContinueToken {
    /// The token that continues a list of `prefix` after `last_key` (the last key returned).
    pub fn after(prefix: &str, last_key: &str, revision: Revision) -> Self {
        let relative = last_key.strip_prefix(prefix).unwrap_or(last_key);
        // "\0" sorts right after the key itself, so the next page starts at the following key.
        Self {
            revision,
            start: format!("{relative}\u{0}"),
            prefix_digest: Some(Self::prefix_digest(prefix)),
        }
    }

    /// The digest of `prefix` that tokens carry: 64-bit FNV-1a in hex, stable across processes and versions so
    /// that tokens of a durable store survive restarts. It guards against mistakes, not forgery.
    pub fn prefix_digest(prefix: &str) -> String {
        let hash = prefix.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        format!("{hash:016x}")
    }

    /// The opaque string handed to clients.
    pub fn encode(&self) -> String {
        let wire = Wire {
            v: VERSION.into(),
            rv: i64::try_from(self.revision).unwrap_or(i64::MAX),
            start: self.start.as_str().into(),
            p: self.prefix_digest.as_deref().map(Into::into),
        };
        // Serializing a struct of strings and an integer cannot fail.
        let json = serde_json::to_vec(&wire).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    /// Parses a token a client sent back to continue a list of `prefix`: [`decode`](Self::decode), then
    /// [`Error::InvalidContinue`] if the token was issued for another prefix. Backends use this one.
    pub fn decode_for(token: &str, prefix: &str) -> Result<Self> {
        let decoded = Self::decode(token)?;
        match &decoded.prefix_digest {
            Some(digest) if *digest != Self::prefix_digest(prefix) => Err(Error::InvalidContinue {
                reason: "the continue token was issued for a different list".to_owned(),
            }),
            _ => Ok(decoded),
        }
    }

    /// Parses a token a client sent back, without checking which list it belongs to (see
    /// [`decode_for`](Self::decode_for)).
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
            prefix_digest: wire.p.map(std::borrow::Cow::into_owned),
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
        let digest = ContinueToken::prefix_digest("/registry/configmaps/ns/");
        assert_eq!(
            std::str::from_utf8(&json).expect("utf8"),
            format!(r#"{{"v":"meta.k8s.io/v1","rv":42,"start":"cm-2\u0000","p":"{digest}"}}"#)
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

    #[test]
    fn tokens_are_bound_to_their_prefix() {
        let token = ContinueToken::after("/registry/configmaps/", "/registry/configmaps/ns/cm", 7).encode();
        assert!(ContinueToken::decode_for(&token, "/registry/configmaps/").is_ok());
        for other in ["/registry/secrets/", "/registry/configmaps/ns/", "/registry/configmaps"] {
            assert!(
                matches!(
                    ContinueToken::decode_for(&token, other),
                    Err(Error::InvalidContinue { .. })
                ),
                "{other}"
            );
        }
        // kube-apiserver's tokens carry no digest and continue any list.
        let upstream = URL_SAFE_NO_PAD.encode(r#"{"v":"meta.k8s.io/v1","rv":3,"start":"cm\u0000"}"#);
        let decoded = ContinueToken::decode_for(&upstream, "/registry/secrets/").expect("upstream token");
        assert_eq!(decoded.start_key("/registry/secrets/"), "/registry/secrets/cm\0");
        assert_eq!(decoded.prefix_digest, None);
    }

    #[test]
    fn prefix_digest_is_stable() {
        // FNV-1a test vectors: the digest must never change, or durable stores' tokens break on upgrade.
        assert_eq!(ContinueToken::prefix_digest(""), "cbf29ce484222325");
        assert_eq!(ContinueToken::prefix_digest("a"), "af63dc4c8601ec8c");
    }
}
