//! Lists under the `merge` strategy: item merging, `$patch` items, `$deleteFromPrimitiveList`, and the order of
//! the merged list (`$setElementOrder` > the patch's order > the server's order).

use kapi_openapi::SchemaNode;
use serde_json::{Map, Value};

use super::{
    bad_arg_type, bad_patch_type, directive_target, gofmt, merge_map, no_merge_key, without_directives, FieldMeta,
    Result, StrategicMergeError, BAD_SET_ELEMENT_ORDER_FORMAT, DELETE_DIRECTIVE, DIRECTIVE_MARKER, MERGE_DIRECTIVE,
    NO_LIST_OF_LISTS, REPLACE_DIRECTIVE, SET_ELEMENT_ORDER_PREFIX,
};

const MAP_TYPE: &str = "map[string]interface {}";
const LIST_TYPE: &str = "[]interface {}";

/// Whether a list holds objects (merged by key) or scalars (merged as a set).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Items {
    Maps,
    Scalars,
}

/// The kind of the items of `lists` together; they must all have one Go type, and not be lists.
fn item_kind(lists: &[&[Value]]) -> Result<Items> {
    let mut first: Option<&'static str> = None;
    for item in lists.iter().flat_map(|list| list.iter()) {
        let go_type = gofmt::go_type_name(item);
        match first {
            None => {
                if item.is_array() {
                    return Err(StrategicMergeError::Unprocessable(NO_LIST_OF_LISTS.to_owned()));
                }
                if item.is_null() {
                    // Go dereferences the missing type here and fails; say what is wrong instead.
                    return Err(StrategicMergeError::Malformed(format!(
                        "list element types are not identical: {}",
                        gofmt::go_v_lists(lists)
                    )));
                }
                first = Some(go_type);
            }
            Some(expected) if expected != go_type => {
                return Err(StrategicMergeError::Malformed(format!(
                    "list element types are not identical: {}",
                    gofmt::go_v_lists(lists)
                )));
            }
            Some(_) => {}
        }
    }
    match first {
        Some(MAP_TYPE) => Ok(Items::Maps),
        Some(_) => Ok(Items::Scalars),
        None => Err(StrategicMergeError::Malformed(
            "no elements in any of the given slices".to_owned(),
        )),
    }
}

/// What identifies an item for ordering: its merge key's value for objects, the item itself for scalars.
fn identity<'v>(item: &'v Value, merge_key: Option<&str>, items: Items) -> Option<&'v Value> {
    match items {
        Items::Maps => item.get(merge_key.unwrap_or_default()),
        Items::Scalars => Some(item),
    }
}

fn position(list: &[Value], item: &Value, merge_key: Option<&str>, items: Items) -> Option<usize> {
    let wanted = identity(item, merge_key, items);
    list.iter()
        .position(|candidate| identity(candidate, merge_key, items) == wanted)
}

fn has_directive(item: &Value, directive: &str) -> bool {
    item.get(DIRECTIVE_MARKER).and_then(Value::as_str) == Some(directive)
}

/// Merges `patch` into `original` for a list whose strategy is `merge`; `is_delete_list` when `patch` is a
/// `$deleteFromPrimitiveList`.
pub(super) fn merge_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    item_schema: Option<SchemaNode<'_>>,
    merge_key: Option<&str>,
    is_delete_list: bool,
) -> Result<Vec<Value>> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let items = item_kind(&[&original, &patch])?;
    // What orders the result: the patch's items and the server's (after deletions), as identities only.
    let (patch_order, server_order, merged) = match items {
        Items::Scalars => {
            if is_delete_list {
                return Ok(original.into_iter().filter(|item| !patch.contains(item)).collect());
            }
            let mut both = original.clone();
            both.extend(patch.iter().cloned());
            let merged = deduplicate_scalars(both);
            (patch, original, merged)
        }
        Items::Maps => {
            let Some(key) = merge_key.filter(|key| !key.is_empty()) else {
                return Err(StrategicMergeError::Malformed(
                    "cannot merge lists without merge key for type struct".to_owned(),
                ));
            };
            let (original, patch) = apply_special_items(original, patch, key)?;
            let patch_order = order_skeleton(&patch, key);
            let server_order = order_skeleton(&original, key);
            let merged = merge_items(original, patch, key, item_schema)?;
            (patch_order, server_order, merged)
        }
    };
    let (in_patch, server_only) = partition(merged, &patch_order, merge_key, items)?;
    normalize_element_order(in_patch, server_only, &patch_order, &server_order, merge_key, items)
}

/// The items of a list of objects reduced to what ordering compares, their merge key (`{key: value}`); an item
/// without the key (or not an object) stays whole, for the error that names it.
fn order_skeleton(list: &[Value], merge_key: &str) -> Vec<Value> {
    list.iter()
        .map(|item| match item.get(merge_key) {
            Some(value) if item.is_object() => {
                let mut skeleton = Map::with_capacity(1);
                skeleton.insert(merge_key.to_owned(), value.clone());
                Value::Object(skeleton)
            }
            _ => item.clone(),
        })
        .collect()
}

/// `$patch: delete` items remove the matching items; a `$patch: replace` item makes the other items the whole
/// list. Returns the original list after deletions and the patch's plain items.
fn apply_special_items(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut plain = Vec::with_capacity(patch.len());
    let mut replace = false;
    for item in patch {
        let Value::Object(fields) = &item else {
            return Err(bad_arg_type(MAP_TYPE, &item));
        };
        match fields.get(DIRECTIVE_MARKER) {
            None => plain.push(item),
            Some(directive) => match directive.as_str() {
                Some(DELETE_DIRECTIVE) => {
                    let Some(key_value) = fields.get(merge_key) else {
                        return Err(no_merge_key(fields, merge_key));
                    };
                    original.retain(|candidate| candidate.get(merge_key) != Some(key_value));
                }
                Some(REPLACE_DIRECTIVE) => replace = true,
                Some(MERGE_DIRECTIVE) => {
                    return Err(StrategicMergeError::Malformed(
                        "merging lists cannot yet be specified in the patch".to_owned(),
                    ))
                }
                _ => return Err(bad_patch_type(directive, fields)),
            },
        }
    }
    if replace {
        Ok((plain, Vec::new()))
    } else {
        Ok((original, plain))
    }
}

/// Merges each patch item into the original item with the same merge key, or appends it.
fn merge_items(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
    item_schema: Option<SchemaNode<'_>>,
) -> Result<Vec<Value>> {
    for item in patch {
        let Value::Object(fields) = item else {
            return Err(bad_arg_type(MAP_TYPE, &item));
        };
        let Some(key_value) = fields.get(merge_key) else {
            return Err(no_merge_key(&fields, merge_key));
        };
        let found = original
            .iter()
            .position(|candidate| candidate.get(merge_key) == Some(key_value));
        match found {
            Some(index) => {
                let current = match std::mem::take(&mut original[index]) {
                    Value::Object(map) => map,
                    other => return Err(bad_arg_type(MAP_TYPE, &other)),
                };
                original[index] = Value::Object(merge_map(current, fields, item_schema)?);
            }
            None => original.push(Value::Object(fields)),
        }
    }
    Ok(original)
}

/// upstream's `deduplicateScalars`: a later duplicate is replaced by the last item (the order is restored
/// afterwards by [`normalize_element_order`]).
fn deduplicate_scalars(mut items: Vec<Value>) -> Vec<Value> {
    let mut i = 0;
    while i + 1 < items.len() {
        let mut j = i + 1;
        while j < items.len() {
            if items[i] == items[j] {
                items.swap_remove(j);
            } else {
                j += 1;
            }
        }
        i += 1;
    }
    items
}

/// Splits `merged` into the items `by` names (in `merged`'s order) and the others.
fn partition(
    merged: Vec<Value>,
    by: &[Value],
    merge_key: Option<&str>,
    items: Items,
) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut named = Vec::with_capacity(merged.len());
    let mut others = Vec::with_capacity(merged.len());
    for item in merged {
        let present = match (items, merge_key.filter(|key| !key.is_empty())) {
            (Items::Maps, Some(key)) => {
                let Value::Object(fields) = &item else {
                    return Err(bad_arg_type(MAP_TYPE, &item));
                };
                let Some(key_value) = fields.get(key) else {
                    return Err(no_merge_key(fields, key));
                };
                by.iter().any(|candidate| candidate.get(key) == Some(key_value))
            }
            _ => by.contains(&item),
        };
        if present {
            named.push(item);
        } else {
            others.push(item);
        }
    }
    Ok((named, others))
}

/// Sorts the patch's items by `patch_order` and the server-only items by `server_order`, then interleaves
/// them: a server-only item goes first only when the server had it before the next patch item.
fn normalize_element_order(
    in_patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: Option<&str>,
    items: Items,
) -> Result<Vec<Value>> {
    let in_patch = normalize_slice_order(in_patch, patch_order, merge_key, items)?;
    let server_only = normalize_slice_order(server_only, server_order, merge_key, items)?;
    let mut merged = Vec::with_capacity(in_patch.len() + server_only.len());
    let mut left = server_only.into_iter().peekable();
    let mut right = in_patch.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => {
                match (
                    position(server_order, l, merge_key, items),
                    position(server_order, r, merge_key, items),
                ) {
                    (Some(li), Some(ri)) => li < ri,
                    _ => false,
                }
            }
        };
        let next = if take_left { left.next() } else { right.next() };
        merged.extend(next);
    }
    Ok(merged)
}

/// Sorts `to_sort` (stably) by the positions of its items in `order`; for objects every item of both lists
/// must carry the merge key, and `$patch: delete` items go last.
fn normalize_slice_order(
    to_sort: Vec<Value>,
    order: &[Value],
    merge_key: Option<&str>,
    items: Items,
) -> Result<Vec<Value>> {
    let mut to_sort = to_sort;
    let mut deletions = Vec::new();
    if items == Items::Maps {
        let key = merge_key.unwrap_or_default();
        for item in to_sort.iter().chain(order) {
            let Value::Object(fields) = item else {
                return Err(bad_arg_type(MAP_TYPE, item));
            };
            if !fields.contains_key(key) {
                return Err(no_merge_key(fields, key));
            }
        }
        let (keep, delete): (Vec<Value>, Vec<Value>) = to_sort
            .into_iter()
            .partition(|item| !has_directive(item, DELETE_DIRECTIVE));
        to_sort = keep;
        deletions = delete;
    }
    // Items the order does not name keep their relative order, after the named ones.
    let mut keyed: Vec<(usize, Value)> = to_sort
        .into_iter()
        .map(|item| (position(order, &item, merge_key, items).unwrap_or(usize::MAX), item))
        .collect();
    keyed.sort_by_key(|(index, _)| *index);
    let mut sorted: Vec<Value> = keyed.into_iter().map(|(_, item)| item).collect();
    sorted.append(&mut deletions);
    Ok(sorted)
}

/// Processes every `$setElementOrder/<list>` of a patch map: merges the named list (when the patch has it) and
/// puts the result in the directive's order; the list is then removed from the patch.
pub(super) fn merge_element_orders(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    schema: Option<SchemaNode<'_>>,
) -> Result<()> {
    let directives: Vec<String> = patch
        .keys()
        .filter(|key| key.starts_with(SET_ELEMENT_ORDER_PREFIX))
        .cloned()
        .collect();
    for directive in directives {
        let Some(order) = patch.shift_remove(&directive) else {
            continue;
        };
        let Value::Array(order) = order else {
            return Err(bad_arg_type(LIST_TYPE, &order));
        };
        let field = directive_target(&directive, SET_ELEMENT_ORDER_PREFIX)
            .ok_or_else(|| StrategicMergeError::BadRequest(BAD_SET_ELEMENT_ORDER_FORMAT.to_owned()))?
            .to_owned();
        let original_list = take_list(original, &field)?;
        // The patch's list is consumed here, so the map merge does not see it again.
        let patch_list = match patch.shift_remove(&field) {
            None => None,
            Some(Value::Array(items)) => Some(items),
            Some(other) => return Err(bad_arg_type(LIST_TYPE, &other)),
        };
        let meta = FieldMeta::lookup(schema, &field);
        let merge_key = meta.merge_key;
        let empty = Vec::new();
        validate_patch_order(patch_list.as_ref().unwrap_or(&empty), &order, merge_key)?;
        // Upstream finds the items' kind after merging; keep its error order (merge errors first).
        let kind = item_kind(&[
            original_list.as_ref().unwrap_or(&empty),
            patch_list.as_ref().unwrap_or(&empty),
        ]);
        let old = original_list.as_ref().unwrap_or(&empty);
        let server_order = match (&kind, merge_key.filter(|key| !key.is_empty())) {
            (Ok(Items::Maps), Some(key)) => order_skeleton(old, key),
            _ => old.clone(),
        };
        let merged = match (original_list, patch_list) {
            (Some(current), None) => current,
            (None, Some(added)) => match without_directives(Value::Array(added)) {
                Some(Value::Array(added)) => added,
                _ => continue,
            },
            (Some(current), Some(changes)) => {
                if meta.merges() {
                    merge_list(current, changes, meta.items(), merge_key, false)?
                } else {
                    changes
                }
            }
            (None, None) => continue,
        };
        let items = kind?;
        let (in_order, server_only) = partition(merged, &order, merge_key, items)?;
        let ordered = normalize_element_order(in_order, server_only, &order, &server_order, merge_key, items)?;
        original.insert(field, Value::Array(ordered));
    }
    Ok(())
}

/// Takes the list `field` out of `map` (its slot keeps its place, empty, until the merged list is put back).
fn take_list(map: &mut Map<String, Value>, field: &str) -> Result<Option<Vec<Value>>> {
    match map.get_mut(field) {
        None => Ok(None),
        Some(Value::Array(items)) => Ok(Some(std::mem::take(items))),
        Some(other) => Err(bad_arg_type(LIST_TYPE, other)),
    }
}

/// The patch's items (deletions and other directives aside) must appear in the `$setElementOrder` list, in its
/// relative order.
fn validate_patch_order(patch: &[Value], order: &[Value], merge_key: Option<&str>) -> Result<()> {
    if patch.is_empty() || order.is_empty() {
        return Ok(());
    }
    let key = merge_key.filter(|key| !key.is_empty());
    let mut plain = Vec::with_capacity(patch.len());
    for item in patch {
        if key.is_some() {
            if !item.is_object() {
                return Err(bad_arg_type(MAP_TYPE, item));
            }
            if has_directive(item, DELETE_DIRECTIVE) {
                continue;
            }
        }
        plain.push(item);
    }
    let (mut patch_index, mut order_index) = (0, 0);
    while patch_index < plain.len() && order_index < order.len() {
        let item = plain[patch_index];
        if item.get(DIRECTIVE_MARKER).is_some() {
            patch_index += 1;
            continue;
        }
        let wanted = &order[order_index];
        let equal = match key {
            None => item == wanted,
            Some(key) => {
                let (Value::Object(item_fields), Value::Object(wanted_fields)) = (item, wanted) else {
                    let not_map = if item.is_object() { wanted } else { item };
                    return Err(bad_arg_type(MAP_TYPE, not_map));
                };
                let Some(left) = item_fields.get(key) else {
                    return Err(no_merge_key(item_fields, key));
                };
                let Some(right) = wanted_fields.get(key) else {
                    return Err(no_merge_key(wanted_fields, key));
                };
                left == right
            }
        };
        if equal {
            patch_index += 1;
        }
        order_index += 1;
    }
    if patch_index < plain.len() && order_index >= order.len() {
        return Err(StrategicMergeError::Malformed(format!(
            "the order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER_PREFIX} list:\n{}",
            gofmt::go_v(&Value::Array(patch.to_vec())),
            gofmt::go_v(&Value::Array(order.to_vec()))
        )));
    }
    Ok(())
}
