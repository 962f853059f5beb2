//! The simple JSONPath subset CRDs use in printer columns, selectable fields and scale paths: `.a.b`,
//! `.a[0]`, `.a['key']`, optionally wrapped in `{...}`.

use serde_json::Value;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// An object member.
    Field(String),
    /// A list index.
    Index(usize),
}

/// Parses a path; `None` for syntax outside the subset (filters, wildcards, recursive descent).
pub fn parse(path: &str) -> Option<Vec<Step>> {
    let path = path.trim();
    let path = path
        .strip_prefix('{')
        .and_then(|inner| inner.strip_suffix('}'))
        .unwrap_or(path);
    let mut rest = path.strip_prefix('$').unwrap_or(path);
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let name = &after[..end];
            if name.is_empty() || name.contains(['*', '?', '@', '(']) {
                return None;
            }
            steps.push(Step::Field(name.to_owned()));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let inner = after[..end].trim();
            let quoted = inner
                .strip_prefix('\'')
                .and_then(|text| text.strip_suffix('\''))
                .or_else(|| inner.strip_prefix('"').and_then(|text| text.strip_suffix('"')));
            match quoted {
                Some(name) => steps.push(Step::Field(name.to_owned())),
                None => steps.push(Step::Index(inner.parse().ok()?)),
            }
            rest = &after[end + 1..];
        } else {
            return None;
        }
    }
    Some(steps)
}

/// The value at `steps`, if present.
pub fn lookup<'a>(value: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    steps.iter().try_fold(value, |node, step| match step {
        Step::Field(name) => node.get(name.as_str()),
        Step::Index(index) => node.get(*index),
    })
}

/// Sets the value at `steps`, creating objects on the way; `false` when a list index is missing or a
/// non-object is in the way.
pub fn set(value: &mut Value, steps: &[Step], new: Value) -> bool {
    let Some((last, parents)) = steps.split_last() else {
        *value = new;
        return true;
    };
    let mut node = value;
    for step in parents {
        node = match step {
            Step::Field(name) => {
                let Some(map) = node.as_object_mut() else {
                    return false;
                };
                map.entry(name.clone())
                    .or_insert_with(|| Value::Object(serde_json::Map::new()))
            }
            Step::Index(index) => match node.get_mut(*index) {
                Some(next) => next,
                None => return false,
            },
        };
        if node.is_null() {
            *node = Value::Object(serde_json::Map::new());
        }
    }
    match last {
        Step::Field(name) => match node.as_object_mut() {
            Some(map) => {
                map.insert(name.clone(), new);
                true
            }
            None => false,
        },
        Step::Index(index) => match node.get_mut(*index) {
            Some(slot) => {
                *slot = new;
                true
            }
            None => false,
        },
    }
}

/// The dotted field name of a simple path (`.spec.color` → `spec.color`), as field selectors spell it.
pub fn field_name(path: &str) -> String {
    path.trim().trim_start_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn paths_of_the_subset_parse_and_resolve() {
        let object = json!({"spec": {"items": [{"name": "a"}], "labels": {"a.b": "x"}}});
        let steps = parse(".spec.items[0].name").expect("parses");
        assert_eq!(lookup(&object, &steps), Some(&json!("a")));
        let steps = parse("{.spec.labels['a.b']}").expect("parses");
        assert_eq!(lookup(&object, &steps), Some(&json!("x")));
        assert!(parse(".spec.items[*].name").is_none());
        let mut target = json!({});
        assert!(set(&mut target, &parse(".spec.replicas").expect("parses"), json!(3)));
        assert_eq!(target, json!({"spec": {"replicas": 3}}));
    }
}
