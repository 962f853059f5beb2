//! Comparing kapi's responses with the recorded ones modulo the corpus placeholders (reference/README.md,
//! normalise.py), binding `<rv:N>` and `<continue:...>` to our values as they first appear.

use std::collections::HashMap;

use serde_json::Value;

/// Placeholder values bound during one scenario.
#[derive(Debug, Default)]
pub(crate) struct Bindings {
    /// `<rv:N>` (the whole placeholder) to our resourceVersion.
    pub(crate) rvs: HashMap<String, String>,
    /// `<continue:...>` (the whole placeholder) to our continue token.
    pub(crate) continues: HashMap<String, String>,
    /// The last object uid seen in a response, which a later request's `<uid>` stands for.
    pub(crate) last_uid: Option<String>,
    /// Object name to its uid, from responses, for requests that send `metadata.uid: <uid>` back.
    pub(crate) uids: HashMap<String, String>,
    /// The last server-set time seen, which a later request's `<time>` stands for.
    pub(crate) last_time: Option<String>,
    /// OpenAPI v3 index path (`api/v1`) to its content hash, which a later `?hash=<hash>` stands for.
    pub(crate) hashes: HashMap<String, String>,
}

fn is_rv_placeholder(text: &str) -> bool {
    text.starts_with("<rv:") && text.ends_with('>') && text[4..text.len() - 1].chars().all(|c| c.is_ascii_digit())
}

fn looks_like_uid(text: &str) -> bool {
    text.len() == 36 && text.chars().filter(|c| *c == '-').count() == 4
}

fn looks_like_time(text: &str) -> bool {
    text.len() >= 20 && text.as_bytes().get(4) == Some(&b'-') && text.contains('T')
}

impl Bindings {
    /// Replaces bound placeholders inside a request string (query values, text bodies).
    pub(crate) fn substitute(&self, text: &str) -> String {
        if let Some(token) = self.continues.get(text) {
            return token.clone();
        }
        if let Some(token) = self.encode_continue(text) {
            return token;
        }
        let mut out = text.to_owned();
        if let Some(uid) = &self.last_uid {
            out = out.replace("<uid>", uid);
        }
        if let Some(time) = &self.last_time {
            out = out.replace("<time>", time);
        }
        for (placeholder, value) in &self.rvs {
            out = out.replace(placeholder.as_str(), value);
        }
        out = self.unbound_rvs(&out);
        expand_repeats(&out)
    }

    /// A continue token no response showed (one the capture built on purpose): base64url of its JSON with the
    /// resourceVersion as a number, as the README describes.
    fn encode_continue(&self, text: &str) -> Option<String> {
        use base64::Engine;
        let json = text.strip_prefix("<continue:")?.strip_suffix('>')?;
        let mut token: Value = serde_json::from_str(json).ok()?;
        let rv = token.get("rv").and_then(Value::as_str).map(|rv| self.substitute(rv))?;
        token["rv"] = Value::from(rv.parse::<i64>().unwrap_or(0));
        let bytes = serde_json::to_vec(&token).ok()?;
        Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A request may name an RV no response showed yet (one in the future, or before the scenario): count on
    /// from the newest bound one, as the recording's numbering is in increasing order.
    fn unbound_rvs(&self, text: &str) -> String {
        let Some(start) = text.find("<rv:") else {
            return text.to_owned();
        };
        let Some(end) = text[start..].find('>') else {
            return text.to_owned();
        };
        let wanted: u64 = text[start + 4..start + end].parse().unwrap_or(0);
        let newest = self
            .rvs
            .iter()
            .filter_map(|(placeholder, value)| {
                let number: u64 = placeholder
                    .trim_start_matches("<rv:")
                    .trim_end_matches('>')
                    .parse()
                    .ok()?;
                Some((number, value.parse::<u64>().ok()?))
            })
            .max();
        let value = match newest {
            Some((number, value)) if wanted < number => value.saturating_sub(number - wanted),
            Some((number, value)) => value + wanted.saturating_sub(number),
            None => wanted,
        };
        let replaced = format!("{}{value}{}", &text[..start], &text[start + end + 1..]);
        self.unbound_rvs(&replaced)
    }

    /// Remembers the content hashes of an OpenAPI v3 index.
    pub(crate) fn record_hashes(&mut self, value: &Value) {
        for (path, entry) in value["paths"].as_object().into_iter().flatten() {
            let hash = entry["serverRelativeURL"]
                .as_str()
                .and_then(|url| url.split_once("?hash="));
            if let Some((_, hash)) = hash {
                self.hashes.insert(path.clone(), hash.to_owned());
            }
        }
    }

    /// Remembers the uid of every named object in a response.
    pub(crate) fn record_uids(&mut self, value: &Value) {
        match value {
            Value::Object(map) => {
                let name = value.pointer("/metadata/name").and_then(Value::as_str);
                let uid = value.pointer("/metadata/uid").and_then(Value::as_str);
                if let (Some(name), Some(uid)) = (name, uid) {
                    self.uids.insert(name.to_owned(), uid.to_owned());
                }
                map.values().for_each(|item| self.record_uids(item));
            }
            Value::Array(items) => items.iter().for_each(|item| self.record_uids(item)),
            _ => {}
        }
    }

    /// Substitutes placeholders in every string of a JSON request body; `metadata.uid` takes the uid of the
    /// object of that name.
    pub(crate) fn substitute_value(&self, value: &Value) -> Value {
        let mut substituted = self.substitute_strings(value);
        let name = value.pointer("/metadata/name").and_then(Value::as_str);
        if let (Some(uid), Some(Value::String(text))) = (
            name.and_then(|name| self.uids.get(name)),
            value.pointer("/metadata/uid"),
        ) {
            if text == "<uid>" {
                substituted["metadata"]["uid"] = Value::String(uid.clone());
            }
        }
        substituted
    }

    fn substitute_strings(&self, value: &Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.substitute(text)),
            Value::Array(items) => Value::Array(items.iter().map(|item| self.substitute_strings(item)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, item)| (key.clone(), self.substitute_strings(item)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// Expands `<'x' * N>` (request bodies too large to store) into N copies of `x`.
fn expand_repeats(text: &str) -> String {
    let Some(start) = text.find("<'") else {
        return text.to_owned();
    };
    let rest = &text[start + 2..];
    let Some(quote) = rest.find("' * ") else {
        return text.to_owned();
    };
    let unit = &rest[..quote];
    let after = &rest[quote + 4..];
    let Some(end) = after.find('>') else {
        return text.to_owned();
    };
    let Ok(count) = after[..end].parse::<usize>() else {
        return text.to_owned();
    };
    format!(
        "{}{}{}",
        &text[..start],
        unit.repeat(count),
        expand_repeats(&after[end + 1..])
    )
}

/// Splits an expected string with embedded placeholders into literal pieces; placeholders match anything.
pub(crate) fn glob_match(expected: &str, actual: &str) -> bool {
    let mut pieces: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut rest = expected;
    while let Some(start) = rest.find('<') {
        let Some(end) = rest[start..].find('>') else {
            break;
        };
        let candidate = &rest[start..start + end + 1];
        let is_placeholder = candidate == "<uid>"
            || candidate == "<time>"
            || candidate == "<age>"
            || candidate == "<gen>"
            || candidate == "<hash>"
            || is_rv_placeholder(candidate);
        current.push_str(&rest[..start]);
        if is_placeholder {
            pieces.push(std::mem::take(&mut current));
        } else {
            current.push_str(candidate);
        }
        rest = &rest[start + end + 1..];
    }
    current.push_str(rest);
    pieces.push(current);
    if pieces.len() == 1 {
        return expected == actual;
    }
    let mut position = 0;
    for (index, piece) in pieces.iter().enumerate() {
        if index == 0 {
            if !actual.starts_with(piece.as_str()) {
                return false;
            }
            position = piece.len();
        } else if index == pieces.len() - 1 {
            return actual.len() >= position + piece.len() && actual[position..].ends_with(piece.as_str());
        } else {
            match actual[position..].find(piece.as_str()) {
                Some(found) => position += found + piece.len(),
                None => return false,
            }
        }
    }
    true
}

/// Compares `actual` with `expected`, binding placeholders; returns the first difference as `path: why`.
pub(crate) fn match_value(expected: &Value, actual: &Value, bindings: &mut Bindings, path: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::String(want), got) if is_rv_placeholder(want) => {
            let Some(got) = got.as_str() else {
                return Err(format!("{path}: expected {want}, got {got}"));
            };
            match bindings.rvs.get(want) {
                Some(bound) if bound == got => Ok(()),
                Some(bound) => Err(format!("{path}: {want} is {bound}, got {got}")),
                None => {
                    bindings.rvs.insert(want.clone(), got.to_owned());
                    Ok(())
                }
            }
        }
        (Value::String(want), got) if want.starts_with("<continue:") => match got.as_str() {
            Some(token) if !token.is_empty() => {
                bindings.continues.insert(want.clone(), token.to_owned());
                Ok(())
            }
            _ => Err(format!("{path}: expected a continue token, got {got}")),
        },
        (Value::String(want), _) if want == "<age>" => Ok(()),
        (Value::String(want), Value::String(got)) if want == "<uid>" => {
            if looks_like_uid(got) {
                if path.ends_with(".metadata.uid") {
                    bindings.last_uid = Some(got.clone());
                }
                Ok(())
            } else {
                Err(format!("{path}: expected a uid, got {got:?}"))
            }
        }
        (Value::String(want), Value::String(got)) if want == "<time>" => {
            if looks_like_time(got) {
                bindings.last_time = Some(got.clone());
                Ok(())
            } else {
                Err(format!("{path}: expected a time, got {got:?}"))
            }
        }
        (Value::String(want), Value::String(got)) => {
            if glob_match(want, got) {
                Ok(())
            } else {
                Err(format!("{path}: expected {want:?}, got {got:?}"))
            }
        }
        (Value::Object(want), Value::Object(got)) => {
            // Keys can hold placeholders too (managedFields `k:{"uid":"<uid>"}`).
            let mut matched_keys = Vec::new();
            for (key, want_value) in want {
                let child = format!("{path}.{key}");
                let got_key = if got.contains_key(key) {
                    Some(key.as_str())
                } else {
                    got.keys()
                        .map(String::as_str)
                        .find(|candidate| !want.contains_key(*candidate) && glob_match(key, candidate))
                };
                match got_key {
                    Some(got_key) => {
                        match_value(want_value, &got[got_key], bindings, &child)?;
                        matched_keys.push(got_key.to_owned());
                    }
                    None => return Err(format!("{child}: missing (expected {want_value})")),
                }
            }
            if let Some(extra) = got.keys().find(|key| !matched_keys.contains(key)) {
                return Err(format!("{path}.{extra}: unexpected (got {})", got[extra]));
            }
            Ok(())
        }
        (Value::Array(want), Value::Array(got)) => {
            if want.len() != got.len() {
                return Err(format!(
                    "{path}: expected {} items, got {}: {actual}",
                    want.len(),
                    got.len()
                ));
            }
            for (index, (want_item, got_item)) in want.iter().zip(got).enumerate() {
                match_value(want_item, got_item, bindings, &format!("{path}[{index}]"))?;
            }
            Ok(())
        }
        _ if expected == actual => Ok(()),
        _ => Err(format!("{path}: expected {expected}, got {actual}")),
    }
}

/// Binds the `<rv:N>` placeholders of `expected` to the values at the same places in `actual`, ignoring every
/// difference (for recorded bodies known not to be what the server sent).
pub(crate) fn bind_only(expected: &Value, actual: &Value, bindings: &mut Bindings) {
    match (expected, actual) {
        (Value::String(want), Value::String(got)) if is_rv_placeholder(want) => {
            bindings.rvs.entry(want.clone()).or_insert_with(|| got.clone());
        }
        (Value::Object(want), Value::Object(got)) => {
            for (key, want_value) in want {
                if let Some(got_value) = got.get(key) {
                    bind_only(want_value, got_value, bindings);
                }
            }
        }
        (Value::Array(want), Value::Array(got)) => {
            for (want_item, got_item) in want.iter().zip(got) {
                bind_only(want_item, got_item, bindings);
            }
        }
        _ => {}
    }
}

#[test]
fn glob_matches_embedded_placeholders() {
    assert!(glob_match(
        "too old resource version: <rv:1> (<rv:2>)",
        "too old resource version: 3 (7)"
    ));
    assert!(!glob_match("configmaps \"a\" not found", "configmaps \"b\" not found"));
    assert!(glob_match("<uid>", "8b0c5f0e-1111-2222-3333-444455556666"));
    assert_eq!(expand_repeats("a<'x' * 3>b"), "axxxb");
}
