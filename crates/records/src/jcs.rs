//! JCS (RFC 8785) of a `serde_json::Value`, byte for byte what `serde_json_canonicalizer` writes (a property test
//! holds the two equal), at a fraction of its cost: that crate parses every object key back into a JSON value
//! to sort it, and with ten keys an entry that was most of an export's verification time. Strings are escaped
//! as serde_json escapes them, which is what JCS asks for (ECMAScript's `JSON.stringify`); integers up to 2^53
//! print as their digits, as a double does; every other number goes to the crate.

use serde_json::Value;
use std::cmp::Ordering;

/// The JCS bytes of `v`.
pub fn to_vec(v: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write(&mut out, v);
    out
}

/// The JCS bytes of object `v` without its top-level property `skip` (what a signature inside a document
/// covers); any other value as [`to_vec`].
pub fn to_vec_without(v: &Value, skip: &str) -> Vec<u8> {
    let Value::Object(map) = v else { return to_vec(v) };
    let mut out = Vec::with_capacity(256);
    write_object(&mut out, map, Some(skip));
    out
}

/// Appends the JCS bytes of `v` to `out`.
pub fn write(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(out, map, None),
    }
}

/// An object's properties in JCS order, without `skip`. serde_json's map is usually ordered by the names'
/// bytes already, which is JCS's order unless names mix characters beyond the BMP with U+E000..U+FFFF: then
/// it is written as it is, and sorted only when it is not in order.
fn write_object(out: &mut Vec<u8>, map: &serde_json::Map<String, Value>, skip: Option<&str>) {
    let props = || map.iter().filter(|(k, _)| Some(k.as_str()) != skip);
    let in_order = props().zip(props().skip(1)).all(|(a, b)| utf16_order(a.0, b.0) == Ordering::Less);
    out.push(b'{');
    let mut first = true;
    let mut put = |out: &mut Vec<u8>, k: &str, item: &Value| {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        write_str(out, k);
        out.push(b':');
        write(out, item);
    };
    if in_order {
        for (k, item) in props() {
            put(out, k, item);
        }
    } else {
        let mut sorted: Vec<(&String, &Value)> = props().collect();
        sorted.sort_unstable_by(|a, b| utf16_order(a.0, b.0));
        for (k, item) in sorted {
            put(out, k, item);
        }
    }
    out.push(b'}');
}

/// A JSON string as JCS writes it: serde_json's escaping (`\"`, `\\`, `\b\f\n\r\t`, other controls as
/// `\u00xx`, nothing else escaped).
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).expect("writing to memory does not fail");
}

/// Integers a double holds exactly print as their digits; anything else is formatted by the JCS crate.
fn write_number(out: &mut Vec<u8>, n: &serde_json::Number) {
    const EXACT: u64 = 1 << 53;
    if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= EXACT) {
        out.extend_from_slice(i.to_string().as_bytes());
    } else if let Some(u) = n.as_u64().filter(|u| *u <= EXACT) {
        out.extend_from_slice(u.to_string().as_bytes());
    } else {
        out.extend(serde_json_canonicalizer::to_vec(n).expect("a JSON number is finite"));
    }
}

/// JCS sorts properties by their names' UTF-16 code units. For names without characters beyond the BMP
/// that is the order of their UTF-8 bytes.
fn utf16_order(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() { a.cmp(b) } else { a.encode_utf16().cmp(b.encode_utf16()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
            ".*".prop_map(Value::String),
            "[\\u{0}-\\u{1f}\"\\\\/\\u{7f}\\u{2028}\\u{FFFF}\\u{10000}-\\u{10FFFF}a-z]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-zA-Z_\\u{e000}\\u{ffff}\\u{10000}-\\u{10ffff}é中]{0,4}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn the_same_bytes_as_the_jcs_crate(v in value()) {
            prop_assert_eq!(to_vec(&v), serde_json_canonicalizer::to_vec(&v).unwrap());
        }
    }

    #[test]
    fn keys_sort_by_utf16_code_units() {
        // U+10000 is D800 DC00 in UTF-16: before U+E000, though after it in UTF-8.
        let v = serde_json::json!({"\u{e000}": 1, "\u{10000}": 2, "a": 3, "B": 4});
        assert_eq!(String::from_utf8(to_vec(&v)).unwrap(), "{\"B\":4,\"a\":3,\"\u{10000}\":2,\"\u{e000}\":1}");
        assert_eq!(to_vec(&v), serde_json_canonicalizer::to_vec(&v).unwrap());
    }
}
