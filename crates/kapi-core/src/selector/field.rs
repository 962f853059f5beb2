//! Field selectors: the grammar and matching of `k8s.io/apimachinery/pkg/fields`.
//!
//! Which fields a resource supports, and what they are called, is the registry's business: it checks and renames
//! terms with [`FieldSelector::transform`] (failing with [`SelectorError::unknown_field`] or
//! [`SelectorError::field_label_not_supported`]) and matches against the flat field map it derives from each
//! object.

use std::{
    collections::{BTreeMap, HashMap},
    fmt,
};

use super::SelectorError;

/// Anything field values can be looked up in: a flat map like `{"metadata.name": "x", "type": "Opaque"}`.
pub trait Fields {
    /// The value of `field`, if the object has it.
    fn field(&self, field: &str) -> Option<&str>;
}

impl Fields for BTreeMap<String, String> {
    fn field(&self, field: &str) -> Option<&str> {
        self.get(field).map(String::as_str)
    }
}

impl Fields for HashMap<String, String> {
    fn field(&self, field: &str) -> Option<&str> {
        self.get(field).map(String::as_str)
    }
}

impl Fields for [(&str, &str)] {
    fn field(&self, field: &str) -> Option<&str> {
        self.iter().find(|(name, _)| *name == field).map(|(_, value)| *value)
    }
}

impl<T: Fields + ?Sized> Fields for &T {
    fn field(&self, field: &str) -> Option<&str> {
        (**self).field(field)
    }
}

/// How a [`FieldRequirement`] compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldOperator {
    /// `field=value` or `field==value`.
    Equals,
    /// `field!=value`.
    NotEquals,
}

/// One term of a field selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRequirement {
    /// The field path, e.g. `metadata.name`.
    pub field: String,
    /// The comparison.
    pub operator: FieldOperator,
    /// The value, unescaped.
    pub value: String,
}

impl FieldRequirement {
    /// Whether `fields` satisfy this term; a missing field compares as the empty string, like upstream.
    pub fn matches(&self, fields: &(impl Fields + ?Sized)) -> bool {
        let actual = fields.field(&self.field).unwrap_or("");
        match self.operator {
            FieldOperator::Equals => actual == self.value,
            FieldOperator::NotEquals => actual != self.value,
        }
    }
}

impl fmt::Display for FieldRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let operator = match self.operator {
            FieldOperator::Equals => "=",
            FieldOperator::NotEquals => "!=",
        };
        write!(f, "{}{operator}{}", self.field, escape_value(&self.value))
    }
}

/// A parsed field selector: terms that must all hold. The empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    requirements: Vec<FieldRequirement>,
}

impl FieldSelector {
    /// The selector that matches everything.
    pub fn everything() -> Self {
        Self::default()
    }

    /// Parses a `fieldSelector` query value with upstream's messages. Terms are split on unescaped commas and
    /// examined in sorted order, as upstream does (which decides which bad term an error names).
    pub fn parse(selector: &str) -> Result<Self, SelectorError> {
        let mut terms = split_terms(selector);
        terms.sort_unstable();
        let mut requirements = Vec::new();
        for term in terms.into_iter().filter(|term| !term.is_empty()) {
            let Some((field, operator, raw_value)) = split_term(term) else {
                return Err(SelectorError(format!(
                    "invalid selector: '{selector}'; can't understand '{term}'"
                )));
            };
            let value = unescape_value(raw_value)?;
            requirements.push(FieldRequirement {
                field: field.to_owned(),
                operator,
                value,
            });
        }
        Ok(Self { requirements })
    }

    /// A selector from terms.
    pub fn from_requirements(requirements: Vec<FieldRequirement>) -> Self {
        Self { requirements }
    }

    /// Whether the selector has no terms.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The terms.
    pub fn requirements(&self) -> &[FieldRequirement] {
        &self.requirements
    }

    /// Whether `fields` satisfy every term.
    pub fn matches(&self, fields: &(impl Fields + ?Sized)) -> bool {
        self.requirements.iter().all(|requirement| requirement.matches(fields))
    }

    /// The value `field` must equal for a match, if an `=` term fixes it (used to authorize a single-object
    /// watch/list with `metadata.name=x` as a get of `x`).
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.requirements
            .iter()
            .find(|requirement| requirement.operator == FieldOperator::Equals && requirement.field == field)
            .map(|requirement| requirement.value.as_str())
    }

    /// Rewrites every term through `convert(field, value) -> (field, value)`: the registry's field-label
    /// conversion, which also rejects unsupported fields. Terms converted to an empty field are dropped.
    pub fn transform(
        &self,
        mut convert: impl FnMut(&str, &str) -> Result<(String, String), SelectorError>,
    ) -> Result<Self, SelectorError> {
        let mut requirements = Vec::with_capacity(self.requirements.len());
        for requirement in &self.requirements {
            let (field, value) = convert(&requirement.field, &requirement.value)?;
            if !field.is_empty() {
                requirements.push(FieldRequirement {
                    field,
                    operator: requirement.operator,
                    value,
                });
            }
        }
        Ok(Self { requirements })
    }

    /// Checks every term's field against `supported`, failing like upstream's default conversion
    /// (`"x" is not a known field selector: ...`) when `supported` is `metadata.name` and `metadata.namespace`,
    /// or with `field label not supported: x` otherwise.
    pub fn check_supported(&self, supported: &[&str]) -> Result<(), SelectorError> {
        let default_set =
            supported.len() == 2 && supported.contains(&"metadata.name") && supported.contains(&"metadata.namespace");
        for requirement in &self.requirements {
            if !supported.contains(&requirement.field.as_str()) {
                return Err(if default_set {
                    SelectorError::unknown_field(&requirement.field)
                } else {
                    SelectorError::field_label_not_supported(&requirement.field)
                });
            }
        }
        Ok(())
    }
}

impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::write_comma_separated(f, &self.requirements)
    }
}

impl std::str::FromStr for FieldSelector {
    type Err = SelectorError;

    fn from_str(selector: &str) -> Result<Self, Self::Err> {
        Self::parse(selector)
    }
}

/// Splits on commas not preceded by an unconsumed backslash.
fn split_terms(selector: &str) -> Vec<&str> {
    if selector.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (index, ch) in selector.char_indices() {
        if escaped {
            escaped = false;
        } else if ch == '\\' {
            escaped = true;
        } else if ch == ',' {
            terms.push(&selector[start..index]);
            start = index + 1;
        }
    }
    terms.push(&selector[start..]);
    terms
}

/// Finds the first position where `!=`, `==` or `=` starts (in that preference at each position).
fn split_term(term: &str) -> Option<(&str, FieldOperator, &str)> {
    for (index, _) in term.char_indices() {
        let rest = &term[index..];
        for (operator, kind) in [
            ("!=", FieldOperator::NotEquals),
            ("==", FieldOperator::Equals),
            ("=", FieldOperator::Equals),
        ] {
            if let Some(value) = rest.strip_prefix(operator) {
                return Some((&term[..index], kind, value));
            }
        }
    }
    None
}

/// Undoes `\\`, `\,` and `\=`; any other escape, a trailing backslash, or a bare `,` or `=` is an error.
fn unescape_value(value: &str) -> Result<String, SelectorError> {
    if !value.contains(['\\', ',', '=']) {
        return Ok(value.to_owned());
    }
    let mut out = String::with_capacity(value.len());
    let mut escaped = false;
    for ch in value.chars() {
        if escaped {
            match ch {
                '\\' | ',' | '=' => out.push(ch),
                other => {
                    return Err(SelectorError(format!(
                        "invalid field selector: invalid escape sequence: \\{other}"
                    )))
                }
            }
            escaped = false;
        } else {
            match ch {
                '\\' => escaped = true,
                // Upstream prints the rune with %v, i.e. as its code point number.
                ',' | '=' => {
                    return Err(SelectorError(format!(
                        "invalid field selector: unescaped character in value: {}",
                        ch as u32
                    )))
                }
                other => out.push(other),
            }
        }
    }
    if escaped {
        return Err(SelectorError(
            "invalid field selector: invalid escape sequence: \\".to_owned(),
        ));
    }
    Ok(out)
}

/// Escapes `\`, `,` and `=` so a value survives [`FieldSelector::parse`].
pub(crate) fn escape_value(value: &str) -> String {
    value.replace('\\', "\\\\").replace(',', "\\,").replace('=', "\\=")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn matches_like_the_recorded_lists() {
        // list_field_selectors: five ConfigMaps cm-a..cm-e in ns-test; two Secrets.
        let configmaps: Vec<BTreeMap<String, String>> = ["cm-a", "cm-b", "cm-c", "cm-d", "cm-e"]
            .iter()
            .map(|name| fields(&[("metadata.name", name), ("metadata.namespace", "ns-test")]))
            .collect();
        let names = |selector: &str| -> Vec<String> {
            let selector = FieldSelector::parse(selector).expect("selector parses");
            configmaps
                .iter()
                .filter(|f| selector.matches(*f))
                .map(|f| f["metadata.name"].clone())
                .collect()
        };
        assert_eq!(names("metadata.name=cm-b"), ["cm-b"]);
        assert_eq!(names("metadata.name!=cm-b"), ["cm-a", "cm-c", "cm-d", "cm-e"]);
        assert_eq!(names("metadata.namespace=ns-test").len(), 5);
        assert!(names("metadata.namespace!=ns-test").is_empty());
        assert_eq!(names("metadata.name=cm-a,metadata.namespace=ns-test"), ["cm-a"]);
        assert_eq!(names("metadata.name==cm-c"), ["cm-c"]);
        assert_eq!(names("").len(), 5);
        let custom = fields(&[("metadata.name", "custom1"), ("type", "example.com/custom")]);
        let opaque = fields(&[("metadata.name", "opaque1"), ("type", "Opaque")]);
        for selector in ["type=example.com/custom", "type!=Opaque"] {
            let selector = FieldSelector::parse(selector).expect("selector parses");
            assert!(selector.matches(&custom));
            assert!(!selector.matches(&opaque));
        }
    }

    #[test]
    fn recorded_errors() {
        // list_field_selector_unsupported
        assert_eq!(
            FieldSelector::parse("metadata.name in (a,b)").map_err(|error| error.0),
            Err("invalid selector: 'metadata.name in (a,b)'; can't understand 'b)'".to_owned())
        );
        let default_fields = ["metadata.name", "metadata.namespace"];
        for (selector, message) in [
            (
                "data.k=cm-a",
                "\"data.k\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
            ),
            (
                "metadata.labels=x",
                "\"metadata.labels\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
            ),
        ] {
            let parsed = FieldSelector::parse(selector).expect("syntax is fine");
            assert_eq!(
                parsed.check_supported(&default_fields).map_err(|error| error.0),
                Err(message.to_owned())
            );
        }
        let secret_fields = ["metadata.name", "metadata.namespace", "type"];
        let parsed = FieldSelector::parse("spec.foo=bar").expect("syntax is fine");
        assert_eq!(
            parsed
                .check_supported(&secret_fields)
                .map_err(|error| error.to_api_error().message().to_owned()),
            Err("field label not supported: spec.foo".to_owned())
        );
        assert!(FieldSelector::parse("type=x")
            .expect("valid")
            .check_supported(&secret_fields)
            .is_ok());
    }

    #[test]
    fn escapes() {
        let selector = FieldSelector::parse(r"a=x\,y\=z\\w,b!=").expect("valid");
        assert_eq!(selector.requirements()[0].value, r"x,y=z\w");
        assert_eq!(selector.requirements()[1].value, "");
        assert_eq!(selector.to_string(), r"a=x\,y\=z\\w,b!=");
        assert_eq!(FieldSelector::parse(&selector.to_string()), Ok(selector));
        let errors = [
            (r"a=\x", r"invalid field selector: invalid escape sequence: \x"),
            (r"a=x\", r"invalid field selector: invalid escape sequence: \"),
            ("a==b=c", "invalid field selector: unescaped character in value: 61"),
            ("a", "invalid selector: 'a'; can't understand 'a'"),
        ];
        for (input, message) in errors {
            assert_eq!(
                FieldSelector::parse(input).map_err(|error| error.0),
                Err(message.to_owned()),
                "{input}"
            );
        }
    }

    #[test]
    fn operators_missing_fields_and_exact_match() {
        let selector = FieldSelector::parse("b!=x,a==1,,c=").expect("valid");
        // Sorted term order: "a==1" < "b!=x" < "c=".
        assert_eq!(selector.to_string(), "a=1,b!=x,c=");
        assert!(
            selector.matches(&fields(&[("a", "1")])),
            "missing fields compare as empty"
        );
        assert!(!selector.matches(&fields(&[("a", "1"), ("b", "x")])));
        assert!(!selector.matches(&fields(&[("a", "1"), ("c", "set")])));
        assert_eq!(selector.requires_exact_match("a"), Some("1"));
        assert_eq!(selector.requires_exact_match("b"), None);
        assert!(selector.matches(&[("a", "1")][..]));
        let renamed = selector
            .transform(|field, value| match field {
                "a" => Ok(("spec.a".to_owned(), value.to_owned())),
                "c" => Ok((String::new(), String::new())),
                _ => Ok((field.to_owned(), value.to_owned())),
            })
            .expect("transform succeeds");
        assert_eq!(renamed.to_string(), "spec.a=1,b!=x");
        assert!(selector
            .transform(|field, _| Err(SelectorError::unknown_field(field)))
            .is_err());
        assert!(FieldSelector::everything().is_empty());
        assert_eq!("x=1".parse::<FieldSelector>().map(|s| s.requirements().len()), Ok(1));
    }
}
