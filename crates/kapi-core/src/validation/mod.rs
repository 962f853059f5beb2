//! Name, label, annotation and metadata rules, with kube-apiserver's messages.
//!
//! The `is_*` functions return the list of problems with a string (empty when valid), worded like upstream's
//! `k8s.io/apimachinery/pkg/util/validation`; callers turn each into a [`FieldError`](crate::FieldError). Note the
//! two length messages upstream uses: object names say `must be no more than 253 characters`, label keys and
//! values say `must be no more than 63 bytes`.
//!
//! [`NameRule`] picks the rule a resource's `metadata.name` follows; [`object_meta`] validates a whole
//! `metadata` object on create and update.

pub mod object_meta;

pub use object_meta::{
    validate_annotations, validate_builtin_finalizers, validate_field_manager, validate_finalizers, validate_labels,
    validate_object_meta, validate_object_meta_update, validate_owner_references, TOTAL_ANNOTATION_SIZE_LIMIT_BYTES,
};

/// Longest DNS-1123 subdomain (and so most object names).
pub const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;
/// Longest DNS-1123 or DNS-1035 label (namespaces, services).
pub const DNS1123_LABEL_MAX_LENGTH: usize = 63;
/// Longest label value and label key name part.
pub const LABEL_VALUE_MAX_LENGTH: usize = 63;
/// Characters `metadata.generateName` draws its 5-character suffix from (no vowels, no confusable digits).
pub const GENERATE_NAME_ALPHABET: &str = "bcdfghjklmnpqrstvwxz2456789";
/// Length of the random suffix added to `metadata.generateName`.
pub const GENERATE_NAME_SUFFIX_LENGTH: usize = 5;
/// Longest generateName prefix kept before the suffix is appended.
pub const GENERATE_NAME_MAX_PREFIX_LENGTH: usize = 63 - GENERATE_NAME_SUFFIX_LENGTH;

const DNS1123_LABEL_FORMAT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_MESSAGE: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \
                                     '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FORMAT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_MESSAGE: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric \
                                         characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FORMAT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_MESSAGE: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', \
                                     start with an alphabetic character, and end with an alphanumeric character";
const LABEL_KEY_FORMAT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_KEY_MESSAGE: &str =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FORMAT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_MESSAGE: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', \
                                   '_' or '.', and must start and end with an alphanumeric character";
const CONFIG_MAP_KEY_FORMAT: &str = "[-._a-zA-Z0-9]+";
const CONFIG_MAP_KEY_MESSAGE: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";

/// Upstream's `RegexError`: the message, examples and the regex, e.g. `... (e.g. 'my-name',  or '123-abc', regex
/// used for validation is '...')` (the double space is upstream's).
pub fn regex_error(message: &str, format: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{message} (regex used for validation is '{format}')");
    }
    let mut text = format!("{message} (e.g. ");
    for (index, example) in examples.iter().enumerate() {
        if index > 0 {
            text.push_str(" or ");
        }
        text.push_str(&format!("'{example}', "));
    }
    text.push_str(&format!("regex used for validation is '{format}')"));
    text
}

/// `must be no more than N characters` (object names, config keys).
pub fn max_length_characters_error(length: usize) -> String {
    format!("must be no more than {length} characters")
}

/// `must be no more than N bytes` (label keys and values).
pub fn max_length_bytes_error(length: usize) -> String {
    format!("must be no more than {length} bytes")
}

fn is_lower_alphanumeric(byte: u8) -> bool {
    byte.is_ascii_lowercase() || byte.is_ascii_digit()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
fn matches_dns1123_label(value: &str) -> bool {
    let bytes = value.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) => {
            is_lower_alphanumeric(first)
                && is_lower_alphanumeric(last)
                && bytes.iter().all(|&byte| is_lower_alphanumeric(byte) || byte == b'-')
        }
        _ => false,
    }
}

fn matches_dns1123_subdomain(value: &str) -> bool {
    value.split('.').all(matches_dns1123_label)
}

/// `[a-z]([-a-z0-9]*[a-z0-9])?`
fn matches_dns1035_label(value: &str) -> bool {
    matches_dns1123_label(value) && value.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn matches_label_name(value: &str) -> bool {
    let bytes = value.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|&byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// Problems with `value` as a DNS-1123 subdomain (most object names), e.g. `example.com`.
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    subdomain_errors(value, max_length_characters_error)
}

/// The label-key flavour: same rule, length counted in `bytes`.
fn subdomain_errors(value: &str, length_error: fn(usize) -> String) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errors.push(length_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    if !matches_dns1123_subdomain(value) {
        errors.push(regex_error(
            DNS1123_SUBDOMAIN_MESSAGE,
            DNS1123_SUBDOMAIN_FORMAT,
            &["example.com"],
        ));
    }
    errors
}

/// Problems with `value` as a DNS-1123 label (namespace names), e.g. `my-name`.
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > DNS1123_LABEL_MAX_LENGTH {
        errors.push(max_length_characters_error(DNS1123_LABEL_MAX_LENGTH));
    }
    if !matches_dns1123_label(value) {
        if matches_dns1123_subdomain(value) {
            errors.push("must not contain dots".to_owned());
        } else {
            errors.push(regex_error(
                DNS1123_LABEL_MESSAGE,
                DNS1123_LABEL_FORMAT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errors
}

/// Problems with `value` as a DNS-1035 label (service names, CRD plural and singular names).
pub fn is_dns1035_label(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > DNS1123_LABEL_MAX_LENGTH {
        errors.push(max_length_characters_error(DNS1123_LABEL_MAX_LENGTH));
    }
    if !matches_dns1035_label(value) {
        errors.push(regex_error(
            DNS1035_LABEL_MESSAGE,
            DNS1035_LABEL_FORMAT,
            &["my-name", "abc-123"],
        ));
    }
    errors
}

/// Problems with `value` as a qualified name: a label key, annotation key or finalizer, `[prefix/]name` where
/// the prefix is a DNS-1123 subdomain and the name at most 63 alphanumerics, `-`, `_`, `.`.
pub fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errors.push("prefix part must be non-empty".to_owned());
            } else {
                errors.extend(
                    subdomain_errors(prefix, max_length_bytes_error)
                        .into_iter()
                        .map(|error| format!("prefix part {error}")),
                );
            }
            *name
        }
        _ => {
            return vec![format!(
                "a valid label key {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(LABEL_KEY_MESSAGE, LABEL_KEY_FORMAT, &["MyName", "my.name", "123-abc"])
            )]
        }
    };
    if name.is_empty() {
        errors.push("name part must be non-empty".to_owned());
    } else if name.len() > LABEL_VALUE_MAX_LENGTH {
        errors.push(format!("name part {}", max_length_bytes_error(LABEL_VALUE_MAX_LENGTH)));
    }
    if !matches_label_name(name) {
        errors.push(format!(
            "name part {}",
            regex_error(LABEL_KEY_MESSAGE, LABEL_KEY_FORMAT, &["MyName", "my.name", "123-abc"])
        ));
    }
    errors
}

/// Problems with `value` as a label key (same rule as [`is_qualified_name`]).
pub fn is_label_key(value: &str) -> Vec<String> {
    is_qualified_name(value)
}

/// Problems with `value` as a label value: empty, or at most 63 alphanumerics, `-`, `_`, `.` starting and ending
/// alphanumeric.
pub fn is_label_value(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > LABEL_VALUE_MAX_LENGTH {
        errors.push(max_length_bytes_error(LABEL_VALUE_MAX_LENGTH));
    }
    if !value.is_empty() && !matches_label_name(value) {
        errors.push(regex_error(
            LABEL_VALUE_MESSAGE,
            LABEL_VALUE_FORMAT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errors
}

/// Problems with `value` as a ConfigMap or Secret data key.
pub fn is_config_map_key(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errors.push(max_length_characters_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    let charset_ok = !value.is_empty()
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_'));
    if !charset_ok {
        errors.push(regex_error(
            CONFIG_MAP_KEY_MESSAGE,
            CONFIG_MAP_KEY_FORMAT,
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    if value == "." {
        errors.push("must not be '.'".to_owned());
    } else if value == ".." {
        errors.push("must not be '..'".to_owned());
    } else if value.starts_with("..") {
        errors.push("must not start with '..'".to_owned());
    }
    errors
}

/// Problems with `name` as a URL path segment (RBAC objects): not `.` or `..`, no `/` or `%`.
pub fn is_path_segment_name(name: &str) -> Vec<String> {
    for illegal in [".", ".."] {
        if name == illegal {
            return vec![format!("may not be '{illegal}'")];
        }
    }
    is_path_segment_prefix(name)
}

/// Problems with `name` as the start of a path segment (a generateName for RBAC objects): no `/` or `%`.
pub fn is_path_segment_prefix(name: &str) -> Vec<String> {
    ["/", "%"]
        .into_iter()
        .filter(|illegal| name.contains(illegal))
        .map(|illegal| format!("may not contain '{illegal}'"))
        .collect()
}

/// Which rule a resource's `metadata.name` follows (upstream's `ValidateNameFunc`s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameRule {
    /// DNS-1123 subdomain: most resources, custom resources, ServiceAccounts.
    Dns1123Subdomain,
    /// DNS-1123 label: Namespaces.
    Dns1123Label,
    /// DNS-1035 label: Services.
    Dns1035Label,
    /// A URL path segment: Roles, ClusterRoles and their bindings.
    PathSegment,
    /// Anything (CertificateSigningRequests).
    Any,
}

impl NameRule {
    /// Problems with `name`. With `prefix` the value is a generateName: it may end in `-` (upstream masks the
    /// trailing dash before checking) and path-segment rules only forbid `/` and `%`.
    pub fn check(self, name: &str, prefix: bool) -> Vec<String> {
        let masked;
        let name = if prefix && matches!(self, Self::Dns1123Subdomain | Self::Dns1123Label | Self::Dns1035Label) {
            masked = mask_trailing_dash(name);
            masked.as_str()
        } else {
            name
        };
        match self {
            Self::Dns1123Subdomain => is_dns1123_subdomain(name),
            Self::Dns1123Label => is_dns1123_label(name),
            Self::Dns1035Label => is_dns1035_label(name),
            Self::PathSegment if prefix => is_path_segment_prefix(name),
            Self::PathSegment => is_path_segment_name(name),
            Self::Any => Vec::new(),
        }
    }
}

/// Upstream's `maskTrailingDash`: a generateName ending in `-` is checked with its last two characters replaced by
/// `a` (the quirk is upstream's and kept for identical verdicts).
fn mask_trailing_dash(name: &str) -> String {
    if name.len() > 1 && name.ends_with('-') {
        let cut = floor_char_boundary(name, name.len() - 2);
        format!("{}a", &name[..cut])
    } else {
        name.to_owned()
    }
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// The name kube-apiserver generates from `metadata.generateName`: the prefix cut to 58 bytes plus five characters
/// of [`GENERATE_NAME_ALPHABET`]. `random_index(n)` must return a uniformly random index below `n`; it is a
/// parameter so this crate stays free of IO and randomness.
pub fn generate_name(prefix: &str, mut random_index: impl FnMut(usize) -> usize) -> String {
    let cut = floor_char_boundary(prefix, prefix.len().min(GENERATE_NAME_MAX_PREFIX_LENGTH));
    let alphabet = GENERATE_NAME_ALPHABET.as_bytes();
    let mut name = prefix[..cut].to_owned();
    for _ in 0..GENERATE_NAME_SUFFIX_LENGTH {
        let index = random_index(alphabet.len()) % alphabet.len();
        name.push(char::from(alphabet[index]));
    }
    name
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
