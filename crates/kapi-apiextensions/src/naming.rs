//! Which of a CRD's requested names it may have (apiextensions-apiserver's naming condition controller):
//! a name another CRD of the same group has accepted (its plural, singular and short names share one space,
//! its kind and list kind another) stays unaccepted, and `NamesAccepted` says which conflict remains.

use std::collections::HashSet;

use serde_json::{json, Map, Value};

/// The outcome for one CRD: the names it may have and its `NamesAccepted` condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Naming {
    /// The new `status.acceptedNames`.
    pub accepted: Value,
    /// `True` or `False`.
    pub status: &'static str,
    /// `NoConflicts`, or the kind of the last conflict found (`PluralConflict`, `KindConflict`, ...).
    pub reason: &'static str,
    /// `no conflicts found`, or which name is in use.
    pub message: String,
}

fn text<'a>(names: &'a Value, key: &str) -> &'a str {
    names.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn short_names(names: &Value) -> Vec<&str> {
    names
        .get("shortNames")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// The resource names and the kinds the CRDs of `group` in `crds` have accepted (`crd` itself included,
/// as upstream counts its own accepted names too).
fn claimed<'a>(crds: &'a [Value], group: &str) -> (HashSet<&'a str>, HashSet<&'a str>) {
    let mut resources = HashSet::new();
    let mut kinds = HashSet::new();
    for other in crds {
        if other.pointer("/spec/group").and_then(Value::as_str) != Some(group) {
            continue;
        }
        let Some(accepted) = other.pointer("/status/acceptedNames") else {
            continue;
        };
        resources.insert(text(accepted, "plural"));
        resources.insert(text(accepted, "singular"));
        resources.extend(short_names(accepted));
        kinds.insert(text(accepted, "kind"));
        kinds.insert(text(accepted, "listKind"));
    }
    (resources, kinds)
}

/// `Err` with upstream's message when `requested` is new to this CRD and some CRD has claimed it.
fn fresh_or_ours(requested: &str, accepted: &str, claimed: &HashSet<&str>) -> Result<(), String> {
    if requested == accepted || !claimed.contains(requested) {
        return Ok(());
    }
    Err(format!("{requested:?} is already in use"))
}

/// The names `crd` may accept given every CRD in `crds` (which should hold `crd`'s current state). `None`
/// when its accepted names already equal its requested ones: nothing to decide.
pub fn decide(crd: &Value, crds: &[Value]) -> Option<Naming> {
    let requested = crd.pointer("/spec/names").cloned().unwrap_or_else(|| json!({}));
    let accepted = crd
        .pointer("/status/acceptedNames")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if requested == accepted {
        return None;
    }
    let group = crd.pointer("/spec/group").and_then(Value::as_str).unwrap_or_default();
    let (resources, kinds) = claimed(crds, group);
    let mut next: Map<String, Value> = accepted.as_object().cloned().unwrap_or_default();
    let mut conflict: Option<(&'static str, String)> = None;
    // Every name is checked so the accepted names are the best match possible; the last conflict is reported.
    let mut claim = |key: &str, reason: &'static str, space: &HashSet<&str>, next: &mut Map<String, Value>| {
        let wanted = text(&requested, key);
        match fresh_or_ours(wanted, text(&accepted, key), space) {
            Ok(()) => {
                if let Some(value) = requested.get(key) {
                    next.insert(key.to_owned(), value.clone());
                }
            }
            Err(message) => conflict = Some((reason, message)),
        }
    };
    claim("plural", "PluralConflict", &resources, &mut next);
    claim("singular", "SingularConflict", &resources, &mut next);
    let wanted_short = short_names(&requested);
    let accepted_short = short_names(&accepted);
    if wanted_short != accepted_short {
        let own_plural = text(&accepted, "plural");
        let own_singular = text(&accepted, "singular");
        let in_use: Vec<String> = wanted_short
            .iter()
            .filter(|name| !accepted_short.contains(name))
            // Our own accepted plural and singular are claimed by ourselves.
            .filter(|name| **name != own_plural && **name != own_singular)
            .filter_map(|name| fresh_or_ours(name, "", &resources).err())
            .collect();
        match in_use.len() {
            0 => {
                if let Some(value) = requested.get("shortNames") {
                    next.insert("shortNames".to_owned(), value.clone());
                } else {
                    next.remove("shortNames");
                }
            }
            // Go's aggregate error: one message alone, several in brackets.
            1 => conflict = Some(("ShortNamesConflict", in_use.concat())),
            _ => conflict = Some(("ShortNamesConflict", format!("[{}]", in_use.join(", ")))),
        }
    }
    let mut claim_kind = |key: &str, reason: &'static str, next: &mut Map<String, Value>| {
        let wanted = text(&requested, key);
        match fresh_or_ours(wanted, text(&accepted, key), &kinds) {
            Ok(()) => {
                if let Some(value) = requested.get(key) {
                    next.insert(key.to_owned(), value.clone());
                }
            }
            Err(message) => conflict = Some((reason, message)),
        }
    };
    claim_kind("kind", "KindConflict", &mut next);
    claim_kind("listKind", "ListKindConflict", &mut next);
    match requested.get("categories") {
        Some(categories) => next.insert("categories".to_owned(), categories.clone()),
        None => next.remove("categories"),
    };
    let (status, reason, message) = match conflict {
        Some((reason, message)) => ("False", reason, message),
        None => ("True", "NoConflicts", "no conflicts found".to_owned()),
    };
    Some(Naming {
        accepted: Value::Object(next),
        status,
        reason,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd(group: &str, names: Value, accepted: Value) -> Value {
        json!({"spec": {"group": group, "names": names}, "status": {"acceptedNames": accepted}})
    }

    #[test]
    fn accepted_names_need_no_decision() {
        let names = json!({"plural": "as", "singular": "a", "kind": "A", "listKind": "AList"});
        let own = crd("g.io", names.clone(), names);
        assert_eq!(decide(&own, std::slice::from_ref(&own)), None);
    }

    #[test]
    fn conflicts_are_per_group_and_the_last_one_is_reported() {
        let taken =
            json!({"plural": "as", "singular": "a", "shortNames": ["x", "y"], "kind": "A", "listKind": "AList"});
        let other = crd("g.io", taken.clone(), taken.clone());
        let elsewhere = crd("h.io", json!({}), json!({"plural": "bs", "singular": "b", "kind": "B"}));
        let wanted = json!({"plural": "bs", "singular": "a", "shortNames": ["x", "y", "z"], "kind": "B",
                            "listKind": "BList", "categories": ["all"]});
        let fresh = crd("g.io", wanted, json!({"plural": "", "kind": ""}));
        let crds = [other, elsewhere, fresh.clone()];
        let naming = decide(&fresh, &crds).expect("a decision");
        assert_eq!(naming.status, "False");
        assert_eq!(naming.reason, "ShortNamesConflict");
        assert_eq!(naming.message, "[\"x\" is already in use, \"y\" is already in use]");
        assert_eq!(
            naming.accepted,
            json!({"plural": "bs", "kind": "B", "listKind": "BList", "categories": ["all"]})
        );
    }

    #[test]
    fn names_already_ours_stay_ours() {
        let accepted = json!({"plural": "as", "singular": "a", "kind": "A", "listKind": "AList"});
        let wanted = json!({"plural": "as", "singular": "a", "shortNames": ["as"], "kind": "A", "listKind": "AList"});
        let own = crd("g.io", wanted.clone(), accepted);
        let naming = decide(&own, std::slice::from_ref(&own)).expect("a decision");
        assert_eq!((naming.status, naming.reason), ("True", "NoConflicts"));
        assert_eq!(naming.message, "no conflicts found");
        assert_eq!(naming.accepted, wanted);
    }
}
