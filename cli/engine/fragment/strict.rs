//! Reads a typed value out of a JSON `Value` and names every field the type passed over (a
//! field it does not have), by its path. The fields are the ones the type's `Deserialize` skips
//! as `IgnoredAny`; the path is built only when one is found, from keys borrowed from the
//! value, so a fragment without an unknown field is read without a copy of any key.

use std::cell::RefCell;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Error, Value};

/// `value` as `T`, and the paths of the fields `T` has no place for (`ports[0].hostPID`).
pub fn deserialize<'de, T: de::Deserialize<'de>>(
    value: &'de Value,
) -> Result<(T, Vec<String>), Error> {
    let unknown = RefCell::new(Vec::new());
    let typed = T::deserialize(Strict {
        value,
        path: Path::Root,
        unknown: &unknown,
    })?;
    Ok((typed, unknown.into_inner()))
}

/// Where a value sits in the fragment.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Item(&'a Path<'a>, usize),
    Field(&'a Path<'a>, &'a str),
}

impl Path<'_> {
    fn write(&self, out: &mut String) {
        match self {
            Path::Root => {}
            Path::Item(parent, index) => {
                parent.write(out);
                out.push('[');
                out.push_str(&index.to_string());
                out.push(']');
            }
            Path::Field(parent, key) => {
                parent.write(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
        }
    }
}

/// A value of the fragment, read for a visitor.
struct Strict<'de, 'p> {
    value: &'de Value,
    path: Path<'p>,
    unknown: &'p RefCell<Vec<String>>,
}

impl<'de> Strict<'de, '_> {
    fn seq<V: Visitor<'de>>(self, items: &'de [Value], visitor: V) -> Result<V::Value, Error> {
        let mut seq = Items {
            items: items.iter().enumerate(),
            path: self.path,
            unknown: self.unknown,
        };
        let value = visitor.visit_seq(&mut seq)?;
        match seq.items.len() {
            0 => Ok(value),
            _ => Err(de::Error::invalid_length(
                items.len(),
                &"fewer elements in array",
            )),
        }
    }

    fn map<V: Visitor<'de>>(
        self,
        map: &'de serde_json::Map<String, Value>,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let mut fields = Fields {
            entries: map.iter(),
            pending: None,
            path: self.path,
            unknown: self.unknown,
        };
        let value = visitor.visit_map(&mut fields)?;
        match fields.entries.len() {
            0 => Ok(value),
            _ => Err(de::Error::invalid_length(
                map.len(),
                &"fewer elements in map",
            )),
        }
    }
}

/// Methods that read no array or object: serde_json's own, so values and errors are its.
macro_rules! as_serde_json {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            self.value.$method(visitor)
        }
    )*};
}

/// serde_json's `&Value` deserializer, except that arrays and objects are read through
/// [`Items`] and [`Fields`], which keep the path. Left as serde_json reads them: enums (the
/// Kubernetes types hold none; nothing inside a variant is checked) and map keys other than
/// strings (read as strings here; the Kubernetes types' maps are keyed by strings).
impl<'de> Deserializer<'de> for Strict<'de, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Array(items) => self.seq(items, visitor),
            Value::Object(map) => self.map(map, visitor),
            scalar => scalar.deserialize_any(visitor),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Array(items) => self.seq(items, visitor),
            other => other.deserialize_seq(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Object(map) => self.map(map, visitor),
            other => other.deserialize_map(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.value {
            Value::Array(items) => self.seq(items, visitor),
            Value::Object(map) => self.map(map, visitor),
            other => other.deserialize_struct(name, fields, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.value.deserialize_unit_struct(name, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.value.deserialize_enum(name, variants, visitor)
    }

    /// A field the type has no place for: its path is noted, and it reads as nothing.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let mut path = String::new();
        self.path.write(&mut path);
        self.unknown.borrow_mut().push(path);
        visitor.visit_unit()
    }

    as_serde_json! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_bytes deserialize_byte_buf deserialize_unit
        deserialize_identifier
    }
}

/// The items of an array, each read with its index in the path.
struct Items<'de, 'p> {
    items: std::iter::Enumerate<std::slice::Iter<'de, Value>>,
    path: Path<'p>,
    unknown: &'p RefCell<Vec<String>>,
}

impl<'de> SeqAccess<'de> for Items<'de, '_> {
    type Error = Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        let Some((index, value)) = self.items.next() else {
            return Ok(None);
        };
        let path = Path::Item(&self.path, index);
        seed.deserialize(Strict {
            value,
            path,
            unknown: self.unknown,
        })
        .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// The members of an object, each value read with its key in the path.
struct Fields<'de, 'p> {
    entries: serde_json::map::Iter<'de>,
    pending: Option<(&'de str, &'de Value)>,
    path: Path<'p>,
    unknown: &'p RefCell<Vec<String>>,
}

impl<'de> MapAccess<'de> for Fields<'de, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.pending = Some((key, value));
        seed.deserialize(BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Error> {
        let Some((key, value)) = self.pending.take() else {
            return Err(de::Error::custom("value is missing"));
        };
        seed.deserialize(Strict {
            value,
            path: Path::Field(&self.path, key),
            unknown: self.unknown,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, Volume};
    use proptest::prelude::*;
    use serde_json::{Map, json};

    /// serde_ignored's reading (the crate this replaced), with its paths as the engine wrote
    /// them: the reference the reader is held to.
    fn ignored<T: de::DeserializeOwned>(value: &Value) -> Result<(T, Vec<String>), String> {
        let mut unknown = Vec::new();
        let typed = serde_ignored::deserialize(value, |path| unknown.push(reference_path(&path)))
            .map_err(|e: Error| e.to_string())?;
        Ok((typed, unknown))
    }

    fn reference_path(path: &serde_ignored::Path<'_>) -> String {
        use serde_ignored::Path as P;
        match path {
            P::Root => String::new(),
            P::Seq { parent, index } => format!("{}[{index}]", reference_path(parent)),
            P::Map { parent, key } => match reference_path(parent) {
                p if p.is_empty() => key.clone(),
                p => format!("{p}.{key}"),
            },
            P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
                reference_path(parent)
            }
        }
    }

    fn read<T: de::DeserializeOwned>(value: &Value) -> Result<(T, Vec<String>), String> {
        deserialize(value).map_err(|e| e.to_string())
    }

    fn container() -> Value {
        json!({
            "name": "helper", "image": "busybox:1.36", "args": ["-c", "x"],
            "env": [{"name": "A", "value": "1"},
                    {"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
            "resources": {"requests": {"cpu": "10m"}, "limits": {"memory": "16Mi"}},
            "securityContext": {"runAsNonRoot": true, "runAsUser": 1000,
                                "capabilities": {"drop": ["ALL"]}},
            "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 10},
            "volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": true}],
            "restartPolicy": "Always"
        })
    }

    #[test]
    fn names_each_unknown_field_by_its_path() {
        let mut c = container();
        c["ports"][0]["hostPID"] = json!(true);
        c["resources"]["limitz"] = json!({"cpu": "1"});
        c["imagePulPolicy"] = json!("Always");
        let (typed, unknown) = read::<Container>(&c).unwrap();
        assert_eq!(typed.name, "helper");
        assert_eq!(
            unknown,
            ["ports[0].hostPID", "resources.limitz", "imagePulPolicy"]
        );
        assert_eq!(Ok((typed, unknown)), ignored::<Container>(&c));
    }

    /// Each method reads as serde_json's does, also for a visitor that takes more than the
    /// method asks for (a map's visitor takes a unit, which `deserialize_map` refuses).
    #[test]
    fn typed_reads_refuse_what_serde_json_refuses() {
        let serde_json_says = |v: &Value| {
            serde_json::from_value::<Map<String, Value>>(v.clone()).map_err(|e| e.to_string())
        };
        for v in [
            Value::Null,
            json!("x"),
            json!([]),
            json!({"a": "b"}),
            json!({"a": 1}),
        ] {
            let read = read::<Map<String, Value>>(&v).map(|(typed, _)| typed);
            assert_eq!(read, serde_json_says(&v), "{v}");
        }
        let read = read::<Option<Vec<u16>>>(&json!([1, 70000])).map(|(typed, _)| typed);
        assert_eq!(
            read.unwrap_err(),
            "invalid value: integer `70000`, expected u16"
        );
    }

    /// The objects of `value`, by their paths of keys and indexes.
    fn objects(value: &Value, at: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
        match value {
            Value::Object(map) => {
                out.push(at.clone());
                for (k, v) in map {
                    at.push(json!(k));
                    objects(v, at, out);
                    at.pop();
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    at.push(json!(i));
                    objects(v, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }

    fn object_at<'a>(value: &'a mut Value, path: &[Value]) -> &'a mut Map<String, Value> {
        let target = path.iter().fold(value, |v, step| match step {
            Value::String(k) => &mut v[k.as_str()],
            step => &mut v[step.as_u64().unwrap_or_default() as usize],
        });
        target.as_object_mut().expect("a path of an object")
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (0u64..70_000).prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "[a-zA-Z0-9/:.-]{0,8}".prop_map(Value::from),
            Just(json!([])),
            Just(json!({})),
            Just(json!(["x", 1])),
            Just(json!({"name": "n", "x": 1})),
        ]
    }

    fn key() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "name",
            "image",
            "args",
            "env",
            "value",
            "ports",
            "containerPort",
            "protocol",
            "resources",
            "limits",
            "requests",
            "securityContext",
            "capabilities",
            "drop",
            "runAsUser",
            "httpGet",
            "port",
            "path",
            "periodSeconds",
            "volumeMounts",
            "mountPath",
            "readOnly",
            "restartPolicy",
            "hostPID",
            "bogus",
            "emptyDir",
            "configMap",
            "items",
            "key",
            "defaultMode",
        ])
        .prop_map(str::to_owned)
    }

    proptest! {
        /// On a container or a volume changed at a few random places (a member set to any
        /// value, known key or not, or removed), the typed value, the unknown fields' paths
        /// and any error's message are serde_ignored's.
        #[test]
        fn agrees_with_serde_ignored(
            edits in prop::collection::vec((any::<prop::sample::Index>(), key(), leaf(), any::<bool>()), 0..4),
            volume in any::<bool>(),
        ) {
            let mut value = match volume {
                true => json!({"name": "data", "configMap": {"name": "c", "items": [{"key": "k", "path": "p"}], "defaultMode": 420}}),
                false => container(),
            };
            for (at, key, leaf, remove) in edits {
                let mut paths = Vec::new();
                objects(&value, &mut Vec::new(), &mut paths);
                let map = object_at(&mut value, &paths[at.index(paths.len())]);
                match remove {
                    true => drop(map.shift_remove(&key)),
                    false => drop(map.insert(key, leaf)),
                }
            }
            match volume {
                true => prop_assert_eq!(read::<Volume>(&value), ignored::<Volume>(&value)),
                false => prop_assert_eq!(read::<Container>(&value), ignored::<Container>(&value)),
            }
        }
    }
}
