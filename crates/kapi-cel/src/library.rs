//! The value types of the Kubernetes CEL libraries (k8s.io/apiserver/pkg/cel/library): quantities, URLs and
//! semantic versions, and base64 for `format: byte` strings and the `byte` named format.

use std::cmp::Ordering;

/// A `resource.Quantity`: `mantissa × 10^exponent`, exact for every quantity Kubernetes accepts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Quantity {
    pub(crate) mantissa: i128,
    pub(crate) exponent: i32,
}

impl Quantity {
    /// Parses Kubernetes' quantity syntax: `<signedNumber><suffix>`, suffixes Ki..Ei, n u m "" k M G T P E, or
    /// a decimal exponent `e3`/`E-2`.
    pub(crate) fn parse(text: &str) -> Option<Quantity> {
        let bytes = text.as_bytes();
        let mut at = 0;
        let negative = match bytes.first() {
            Some(b'-') => {
                at = 1;
                true
            }
            Some(b'+') => {
                at = 1;
                false
            }
            _ => false,
        };
        let digits_start = at;
        let mut mantissa: i128 = 0;
        let mut exponent: i32 = 0;
        let mut seen_digit = false;
        while let Some(c) = bytes.get(at).filter(|c| c.is_ascii_digit()) {
            mantissa = mantissa.checked_mul(10)?.checked_add(i128::from(c - b'0'))?;
            seen_digit = true;
            at += 1;
        }
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            while let Some(c) = bytes.get(at).filter(|c| c.is_ascii_digit()) {
                mantissa = mantissa.checked_mul(10)?.checked_add(i128::from(c - b'0'))?;
                exponent -= 1;
                seen_digit = true;
                at += 1;
            }
        }
        if !seen_digit || at == digits_start {
            return None;
        }
        let suffix = &text[at..];
        let (multiplier, extra_exponent): (i128, i32) = match suffix {
            "" => (1, 0),
            "Ki" => (1 << 10, 0),
            "Mi" => (1 << 20, 0),
            "Gi" => (1 << 30, 0),
            "Ti" => (1 << 40, 0),
            "Pi" => (1 << 50, 0),
            "Ei" => (1 << 60, 0),
            "n" => (1, -9),
            "u" => (1, -6),
            "m" => (1, -3),
            "k" => (1, 3),
            "M" => (1, 6),
            "G" => (1, 9),
            "T" => (1, 12),
            "P" => (1, 15),
            "E" => (1, 18),
            _ => {
                let rest = suffix.strip_prefix(['e', 'E'])?;
                let value: i32 = rest.parse().ok()?;
                if !(-50..=50).contains(&value) {
                    return None;
                }
                (1, value)
            }
        };
        let mantissa = mantissa.checked_mul(multiplier)?;
        Some(Quantity {
            mantissa: if negative { -mantissa } else { mantissa },
            exponent: exponent + extra_exponent,
        })
    }

    fn normalized(&self) -> (i128, i32) {
        let (mut mantissa, mut exponent) = (self.mantissa, self.exponent);
        if mantissa == 0 {
            return (0, 0);
        }
        while mantissa % 10 == 0 {
            mantissa /= 10;
            exponent += 1;
        }
        (mantissa, exponent)
    }

    pub(crate) fn compare(&self, other: &Quantity) -> Ordering {
        let (a, ae) = self.normalized();
        let (b, be) = other.normalized();
        if a.signum() != b.signum() {
            return a.signum().cmp(&b.signum());
        }
        let common = ae.min(be);
        let scale = |m: i128, e: i32| {
            10_i128
                .checked_pow((e - common) as u32)
                .and_then(|factor| m.checked_mul(factor))
        };
        match (scale(a, ae), scale(b, be)) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => self.as_f64().partial_cmp(&other.as_f64()).unwrap_or(Ordering::Equal),
        }
    }

    pub(crate) fn as_f64(&self) -> f64 {
        self.mantissa as f64 * 10_f64.powi(self.exponent)
    }

    /// The value as an int64, if it is a whole number in range.
    pub(crate) fn as_i64(&self) -> Option<i64> {
        let (mantissa, exponent) = self.normalized();
        if exponent < 0 {
            return None;
        }
        let value = mantissa.checked_mul(10_i128.checked_pow(exponent as u32)?)?;
        i64::try_from(value).ok()
    }

    pub(crate) fn is_integer(&self) -> bool {
        self.as_i64().is_some()
    }

    pub(crate) fn add(&self, other: &Quantity) -> Option<Quantity> {
        let common = self.exponent.min(other.exponent);
        let scale = |q: &Quantity| {
            10_i128
                .checked_pow((q.exponent - common) as u32)
                .and_then(|f| q.mantissa.checked_mul(f))
        };
        Some(Quantity {
            mantissa: scale(self)?.checked_add(scale(other)?)?,
            exponent: common,
        })
    }

    pub(crate) fn negated(&self) -> Quantity {
        Quantity {
            mantissa: -self.mantissa,
            exponent: self.exponent,
        }
    }

    pub(crate) fn sign(&self) -> i64 {
        self.mantissa.signum() as i64
    }
}

/// A parsed URL (Go's `url.ParseRequestURI`: an absolute URI or an absolute path).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Url {
    pub(crate) raw: String,
    pub(crate) scheme: String,
    pub(crate) host: String,
    pub(crate) path: String,
    pub(crate) query: String,
}

impl Url {
    pub(crate) fn parse(text: &str) -> Option<Url> {
        if text.is_empty() || text.chars().any(|c| c.is_control() || c == ' ') {
            return None;
        }
        let without_fragment = text.split('#').next().unwrap_or(text);
        let (before_query, query) = match without_fragment.split_once('?') {
            Some((before, query)) => (before, query.to_owned()),
            None => (without_fragment, String::new()),
        };
        if before_query.starts_with('/') {
            return Some(Url {
                raw: text.to_owned(),
                scheme: String::new(),
                host: String::new(),
                path: before_query.to_owned(),
                query,
            });
        }
        let (scheme, rest) = before_query.split_once(':')?;
        let mut chars = scheme.chars();
        if !chars.next()?.is_ascii_alphabetic() || !chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
            return None;
        }
        let (host, path) = match rest.strip_prefix("//") {
            Some(authority_and_path) => {
                let (authority, path) = match authority_and_path.find('/') {
                    Some(index) => (&authority_and_path[..index], &authority_and_path[index..]),
                    None => (authority_and_path, ""),
                };
                let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
                (host.to_owned(), path.to_owned())
            }
            // An opaque URI (`mailto:x`) must not be relative for ParseRequestURI.
            None if rest.starts_with('/') || !rest.is_empty() => (String::new(), rest.to_owned()),
            None => return None,
        };
        Some(Url {
            raw: text.to_owned(),
            scheme: scheme.to_owned(),
            host,
            path,
            query,
        })
    }

    /// The host without the port; IPv6 brackets removed.
    pub(crate) fn hostname(&self) -> String {
        if let Some(rest) = self.host.strip_prefix('[') {
            return rest.split(']').next().unwrap_or_default().to_owned();
        }
        self.host.split(':').next().unwrap_or_default().to_owned()
    }

    pub(crate) fn port(&self) -> String {
        let after_host = match self.host.strip_prefix('[') {
            Some(rest) => rest.split_once(']').map(|(_, after)| after).unwrap_or_default(),
            None => self.host.find(':').map_or("", |index| &self.host[index..]),
        };
        after_host.strip_prefix(':').unwrap_or_default().to_owned()
    }
}

/// A semantic version (semver 2.0.0).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Semver {
    pub(crate) major: u64,
    pub(crate) minor: u64,
    pub(crate) patch: u64,
    pub(crate) pre: Vec<String>,
}

impl Semver {
    /// Parses `MAJOR.MINOR.PATCH[-pre][+build]`; with `normalize`, a leading `v` and missing minor/patch are
    /// accepted and leading zeros dropped, as the Kubernetes semver library does.
    pub(crate) fn parse(text: &str, normalize: bool) -> Option<Semver> {
        let mut text = text;
        if normalize {
            text = text.strip_prefix('v').unwrap_or(text);
        }
        let text = text.split('+').next().unwrap_or_default();
        let (core, pre) = match text.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (text, None),
        };
        let mut parts: Vec<&str> = core.split('.').collect();
        if normalize {
            while parts.len() < 3 {
                parts.push("0");
            }
        }
        if parts.len() != 3 {
            return None;
        }
        let number = |part: &str| -> Option<u64> {
            if part.is_empty()
                || !part.chars().all(|c| c.is_ascii_digit())
                || (!normalize && part.len() > 1 && part.starts_with('0'))
            {
                return None;
            }
            part.parse().ok()
        };
        let pre = match pre {
            Some(pre) => {
                let identifiers: Vec<String> = pre.split('.').map(str::to_owned).collect();
                if identifiers
                    .iter()
                    .any(|id| id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
                {
                    return None;
                }
                identifiers
            }
            None => Vec::new(),
        };
        Some(Semver {
            major: number(parts[0])?,
            minor: number(parts[1])?,
            patch: number(parts[2])?,
            pre,
        })
    }

    pub(crate) fn compare(&self, other: &Semver) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    for (a, b) in self.pre.iter().zip(other.pre.iter()) {
                        let order = match (a.parse::<u64>(), b.parse::<u64>()) {
                            (Ok(x), Ok(y)) => x.cmp(&y),
                            (Ok(_), Err(_)) => Ordering::Less,
                            (Err(_), Ok(_)) => Ordering::Greater,
                            (Err(_), Err(_)) => a.cmp(b),
                        };
                        if order != Ordering::Equal {
                            return order;
                        }
                    }
                    self.pre.len().cmp(&other.pre.len())
                }
            })
    }
}

/// A container image reference (the Kubernetes image library, go-containerregistry's `name.ParseReference`
/// with its defaults: registry `index.docker.io`, namespace `library/`, tag `latest`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ImageRef {
    pub(crate) registry: String,
    pub(crate) repository: String,
    pub(crate) tag: String,
    pub(crate) digest: String,
}

const DEFAULT_REGISTRY: &str = "index.docker.io";

impl ImageRef {
    /// Parses `[registry/]repository[:tag][@sha256:<64 hex>]`.
    pub(crate) fn parse(text: &str) -> Option<ImageRef> {
        if let Some((base, digest)) = text.split_once('@') {
            let (algorithm, hex) = digest.split_once(':')?;
            if algorithm != "sha256" || hex.len() != 64 || !hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
                return None;
            }
            // A tag before the digest is dropped, as go-containerregistry does.
            let repository_part = Self::split_tag(base).map_or(base, |(repository, _)| repository);
            let (registry, repository) = Self::repository(repository_part)?;
            return Some(ImageRef {
                registry,
                repository,
                tag: String::new(),
                digest: digest.to_owned(),
            });
        }
        let (base, tag) = Self::split_tag(text).unwrap_or((text, "latest"));
        let tag_ok = !tag.is_empty()
            && tag.len() <= 128
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !tag_ok {
            return None;
        }
        let (registry, repository) = Self::repository(base)?;
        Some(ImageRef {
            registry,
            repository,
            tag: tag.to_owned(),
            digest: String::new(),
        })
    }

    /// `repo:tag` → (`repo`, `tag`), unless the last colon belongs to a registry's port.
    fn split_tag(text: &str) -> Option<(&str, &str)> {
        let (base, tag) = text.rsplit_once(':')?;
        (!tag.contains('/')).then_some((base, tag))
    }

    fn repository(text: &str) -> Option<(String, String)> {
        let (registry, repository) = match text.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (first.to_owned(), rest.to_owned())
            }
            _ => (DEFAULT_REGISTRY.to_owned(), text.to_owned()),
        };
        let registry = if registry == "docker.io" {
            DEFAULT_REGISTRY.to_owned()
        } else {
            registry
        };
        let valid_registry = !registry.is_empty()
            && registry
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
        let valid_repository = (2..=255).contains(&repository.len())
            && repository.split('/').all(|component| !component.is_empty())
            && repository
                .chars()
                .all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-' | '.' | '/'));
        if !valid_registry || !valid_repository {
            return None;
        }
        let repository = if registry == DEFAULT_REGISTRY && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        Some((registry, repository))
    }

    /// The digest when there is one, else the tag.
    pub(crate) fn identifier(&self) -> &str {
        if self.digest.is_empty() {
            &self.tag
        } else {
            &self.digest
        }
    }
}

const BASE64_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Decodes standard base64, padded or not.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let trimmed = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(trimmed.len() * 3 / 4);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in trimmed.bytes() {
        let value = BASE64_ALPHABET.iter().position(|a| *a == c)? as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    if trimmed.len() % 4 == 1 {
        return None;
    }
    Some(out)
}
