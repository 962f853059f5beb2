//! The hand-implemented types no served kind uses yet (IntOrString, Quantity) and the scalar types the table
//! does not contain yet (double, float, unsigned), exercised through a small table of their own.

use serde_json::{json, Value};

use crate::{decode, descriptor::Registry, encode};

const TABLE: &str = "
message test.Holder
  port 1 intstr.IntOrString
  maybePort 2 intstr.IntOrString ptr omitempty
  amount 3 resource.Quantity
  ratio 4 double omitempty
  scale 5 float
  count 6 uint32 omitempty
  big 7 uint64
  numbers 8 []int32 omitempty
  signed 9 int32
";

fn round_trip(value: &Value) -> Value {
    let registry = Registry::parse(TABLE).expect("test table parses");
    let mut bytes = Vec::new();
    encode::message(&registry, 0, value, &mut bytes).expect("encodes");
    Value::Object(decode::message_fields(&registry, 0, &bytes, 0).expect("decodes"))
}

#[test]
fn int_or_string_and_quantity_keep_their_json_forms() {
    let value = json!({"port": "http", "maybePort": 8080, "amount": "1500m", "scale": 0.5, "big": 18_446_744_073_709_551_615_u64, "signed": -7});
    assert_eq!(round_trip(&value), value);
    let value = json!({"port": 0, "amount": "0", "scale": 0.0, "big": 0, "signed": 0});
    assert_eq!(round_trip(&json!({})), value, "zero values print as Go prints them");
}

#[test]
fn numeric_lists_decode_packed_and_unpacked() {
    let registry = Registry::parse(TABLE).expect("test table parses");
    // Field 8 unpacked (two varints) and then packed (one length-delimited run of two varints: -1 and 300).
    let mut bytes = vec![0x40, 0x01, 0x40, 0x02, 0x42, 0x0c];
    bytes.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0xac, 0x02]);
    let decoded = decode::message_fields(&registry, 0, &bytes, 0).expect("decodes");
    assert_eq!(decoded["numbers"], json!([1, 2, -1, 300]));
    let truncated_run = [0x42, 0x01, 0xff];
    assert!(decode::message_fields(&registry, 0, &truncated_run, 0).is_err());
}

#[test]
fn non_finite_floats_have_no_json_form() {
    let registry = Registry::parse(TABLE).expect("test table parses");
    let mut bytes = vec![0x21];
    bytes.extend_from_slice(&f64::NAN.to_le_bytes());
    assert!(decode::message_fields(&registry, 0, &bytes, 0).is_err());
}

#[test]
fn broken_tables_are_reported() {
    for (table, expected) in [
        ("  a 1 string", "field before any message"),
        ("message m\n  a x string", "bad field number"),
        ("message m\n  a 1 other.Message", "unknown message other.Message"),
        ("message m\n  a 1 string sometimes", "unsupported flag sometimes"),
        ("message m\nmessage m", "defined twice"),
    ] {
        let error = Registry::parse(table).expect_err("invalid table");
        assert!(error.contains(expected), "{error}");
    }
}
