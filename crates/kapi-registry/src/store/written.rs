//! The store's own writes, decoded: handed to its watch cache, which would otherwise parse the bytes the store
//! has just encoded and encode them once more (a tenth of the server's CPU under concurrent creates).

use std::{collections::HashMap, sync::Mutex};

use bytes::Bytes;
use kapi_storage::KeyValue;

use super::Decoded;

/// At most this many writes wait for the watch cache; beyond it the cache decodes as usual. Entries leave when
/// the cache takes them, when the write fails, or when a newer write of the key replaces them.
const LIMIT: usize = 4096;

/// Decoded forms of written objects, by storage key. A form is valid only for the exact bytes it was made for
/// (the same allocation storage delivers in the write's event), so a form never meets another version.
#[derive(Debug, Default)]
pub(super) struct WrittenForms {
    forms: Mutex<HashMap<String, (Bytes, Decoded)>>,
}

impl WrittenForms {
    /// Offers the decoded form of `bytes`, about to be written under `key`.
    pub(super) fn offer(&self, key: &str, bytes: &Bytes, decoded: Decoded) {
        let Ok(mut forms) = self.forms.lock() else {
            return;
        };
        if forms.len() < LIMIT || forms.contains_key(key) {
            forms.insert(key.to_owned(), (bytes.clone(), decoded));
        }
    }

    /// The form offered for exactly `kv`'s bytes, if any.
    pub(super) fn take(&self, kv: &KeyValue) -> Option<Decoded> {
        let mut forms = self.forms.lock().ok()?;
        let (bytes, _) = forms.get(&kv.key)?;
        if !same_allocation(bytes, &kv.value) {
            return None;
        }
        forms.remove(&kv.key).map(|(_, decoded)| decoded)
    }

    /// Drops the form offered for `bytes` under `key` (its write failed).
    pub(super) fn withdraw(&self, key: &str, bytes: &Bytes) {
        if let Ok(mut forms) = self.forms.lock() {
            if forms
                .get(key)
                .is_some_and(|(offered, _)| same_allocation(offered, bytes))
            {
                forms.remove(key);
            }
        }
    }
}

/// Whether two `Bytes` view the same memory. Equal contents are not enough: the form must be of this version,
/// and holding `offered` keeps its allocation from being reused by another.
fn same_allocation(offered: &Bytes, delivered: &Bytes) -> bool {
    offered.as_ptr() == delivered.as_ptr() && offered.len() == delivered.len()
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::store::{encoded::ApiForm, StringPairs};

    fn form(name: &str) -> Decoded {
        Decoded {
            form: ApiForm::Value(json!({"metadata": {"name": name}})),
            labels: StringPairs::default(),
            fields: StringPairs::default(),
            terminating: false,
        }
    }

    fn kv(key: &str, value: &Bytes) -> KeyValue {
        KeyValue {
            key: key.to_owned(),
            value: value.clone(),
            create_revision: 1,
            mod_revision: 1,
        }
    }

    fn name_of(decoded: &Decoded) -> Value {
        decoded.value(1).expect("value")["metadata"]["name"].clone()
    }

    #[test]
    fn a_form_is_taken_once_and_only_for_the_bytes_it_was_offered_for() {
        let written = WrittenForms::default();
        let bytes = Bytes::from(b"{\"a\":1}".to_vec());
        written.offer("/k", &bytes, form("first"));
        // Equal contents in another allocation (e.g. read back from storage) are another version.
        let copy = Bytes::from(bytes.to_vec());
        assert!(written.take(&kv("/k", &copy)).is_none());
        assert!(written.take(&kv("/other", &bytes)).is_none());
        let taken = written.take(&kv("/k", &bytes)).expect("offered form");
        assert_eq!(name_of(&taken), json!("first"));
        assert!(written.take(&kv("/k", &bytes)).is_none());
    }

    #[test]
    fn a_failed_write_withdraws_its_form_and_a_newer_write_replaces_it() {
        let written = WrittenForms::default();
        let old = Bytes::from(b"old".to_vec());
        let new = Bytes::from(b"new".to_vec());
        written.offer("/k", &old, form("old"));
        written.offer("/k", &new, form("new"));
        assert!(written.take(&kv("/k", &old)).is_none());
        // Withdrawing another version's bytes leaves the current offer alone.
        written.withdraw("/k", &old);
        written.withdraw("/k", &new);
        assert!(written.take(&kv("/k", &new)).is_none());
    }

    #[test]
    fn offers_beyond_the_limit_are_not_kept() {
        let written = WrittenForms::default();
        let bytes: Vec<Bytes> = (0..=LIMIT).map(|i| Bytes::from(i.to_string())).collect();
        for (i, value) in bytes.iter().enumerate() {
            written.offer(&format!("/k{i}"), value, form("x"));
        }
        assert!(written.take(&kv(&format!("/k{LIMIT}"), &bytes[LIMIT])).is_none());
        assert!(written.take(&kv("/k0", &bytes[0])).is_some());
    }
}
