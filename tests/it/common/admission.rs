//! An offline MutatingAdmissionPolicy: evaluates an exported policy's CEL with the `cel` crate
//! on a pod and applies its mutations as the API server does (k8s.io/apiserver
//! `admission/plugin/policy/mutating`): match conditions (an error obeys the failure policy),
//! variables, then each mutation in order on the result of the one before — a `JSONPatch`
//! list of operations applied as RFC 6902, or an `ApplyConfiguration` object checked against
//! the 1.37 schema (no undeclared field, no atomic list, map or struct: the check that denied
//! the first exporter) and merged like server-side apply.
//!
//! What the `cel` crate lacks of Kubernetes' CEL environment is provided here: the typed
//! object construction (`Object.spec.initContainers{…}`, each type resolved in the Pod schema
//! and its field names checked, and the type names checked against the field paths as
//! `CheckTypeNamesMatchFieldPathNames` does), the `JSONPatch{…}` type, and the Kubernetes
//! list library's `indexOf`/`lastIndexOf`. The strings extension (`join`, `substring`,
//! `startsWith`…) is the crate's own (`cel::extensions::strings`). Not modelled: the CEL cost
//! budget and the static type check (the crate checks types at run time).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use cel::common::types::{CelInt, CelStruct, DYN_TYPE, LIST_TYPE, Type};
use cel::common::value::{CowVal, Val};
use cel::objects::{Key, Map as CelMap};
use cel::{Context, Env, ExecutionError, Program, StructType};
use serde_json::{Map, Value, json};

use super::json_patch::{Op, apply_patch};
use super::k8s_schema::{Node, Schema, schema, unescape};

/// What the policy did to a pod.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// A match condition was false: the pod is admitted unchanged. The failing conditions.
    Skipped(Vec<String>),
    /// The mutations ran: the pod as admitted.
    Admitted(Value),
    /// The request is refused, with the API server's message.
    Denied(String),
}

/// A struct type of the Pod schema (`Object.spec.initContainers`), or `JSONPatch`, that CEL
/// object literals construct.
struct ObjectType {
    ty: Type,
    fields: BTreeSet<String>,
}

impl StructType for ObjectType {
    fn get_type(&self) -> &Type {
        &self.ty
    }

    fn new_value<'b, 'v>(
        &self,
        fields: BTreeMap<String, CowVal<'b, 'v>>,
    ) -> Result<Box<dyn Val + 'v>, ExecutionError> {
        let mut s = CelStruct::new(self.ty.name().to_owned());
        for (name, value) in fields {
            if !self.fields.contains(&unescape(&name)) {
                return Err(ExecutionError::function_error(
                    self.ty.name(),
                    format!("field {name} is not declared in schema"),
                ));
            }
            s.add_field_value(name, CowVal::Owned(value.into_owned()));
        }
        Ok(Box::new(s))
    }
}

/// Kubernetes' `<list>.indexOf(<value>)`.
fn index_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    position(args, false)
}

/// Kubernetes' `<list>.lastIndexOf(<value>)`.
fn last_index_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    position(args, true)
}

fn position<'b, 'v>(
    args: Vec<CowVal<'b, 'v>>,
    last: bool,
) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [list, wanted] = args.as_slice() else {
        return Err(ExecutionError::invalid_argument_count(2, args.len()));
    };
    let items = list
        .as_ref()
        .as_iterable()
        .ok_or_else(|| ExecutionError::function_error("indexOf", "not a list"))?;
    let mut iter = items.iter();
    let mut found = -1i64;
    let mut i = 0i64;
    while let Some(item) = iter.next() {
        if item.equals(wanted.as_ref()) {
            found = i;
            if !last {
                break;
            }
        }
        i += 1;
    }
    Ok(CowVal::owned(CelInt::from(found)))
}

/// The CEL environment for `expressions`: the standard library, the strings extension, the
/// Kubernetes list functions, `JSONPatch` and every Pod object type they construct.
fn environment(expressions: &[&str]) -> Result<Arc<Env>, String> {
    let schema = schema();
    let mut env = Env::stdlib();
    cel::extensions::strings(&mut env).map_err(|e| e.to_string())?;
    env.add_member_overload(
        "indexOf",
        "k8s_list_index_of",
        LIST_TYPE,
        vec![DYN_TYPE],
        index_of,
    )
    .map_err(|e| e.to_string())?;
    env.add_member_overload(
        "lastIndexOf",
        "k8s_list_last_index_of",
        LIST_TYPE,
        vec![DYN_TYPE],
        last_index_of,
    )
    .map_err(|e| e.to_string())?;
    let patch = ObjectType {
        ty: Type::new_struct("JSONPatch".into()),
        fields: ["op", "path", "from", "value"].map(String::from).into(),
    };
    env.add_type(patch).map_err(|e| e.to_string())?;
    let mut names = BTreeSet::new();
    for expr in expressions {
        names.extend(type_names(expr));
    }
    for name in names {
        let node = schema
            .type_at(schema.pod(), &name)
            .ok_or_else(|| format!("type {name} is not a struct of the Pod schema"))?;
        let Node::Struct { fields, .. } = schema.node(node) else {
            return Err(format!("type {name} is not a struct"));
        };
        let t = ObjectType {
            ty: Type::new_struct(name.clone()),
            fields: fields.keys().cloned().collect(),
        };
        env.add_type(t).map_err(|e| e.to_string())?;
    }
    Ok(Arc::new(env))
}

/// The `Object…` type names an expression constructs (outside string literals).
fn type_names(expr: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let chars: Vec<char> = expr.chars().collect();
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) => {
                if c == '\\' {
                    i += 1;
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '"' || c == '\'' => quote = Some(c),
            None if expr[char_offset(&chars, i)..].starts_with("Object")
                && (i == 0 || !is_ident(chars[i - 1])) =>
            {
                let mut j = i;
                while j < chars.len() && (is_ident(chars[j]) || chars[j] == '.') {
                    j += 1;
                }
                let name: String = chars[i..j].iter().collect();
                let mut k = j;
                while k < chars.len() && chars[k].is_whitespace() {
                    k += 1;
                }
                if chars.get(k) == Some(&'{') {
                    out.insert(name);
                }
                i = j;
                continue;
            }
            None => {}
        }
        i += 1;
    }
    out
}

fn char_offset(chars: &[char], i: usize) -> usize {
    chars[..i].iter().map(|c| c.len_utf8()).sum()
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Runs `program` with `object` and `variables` bound.
fn evaluate(
    env: &Arc<Env>,
    program: &Program,
    object: &Value,
    variables: &HashMap<Key, cel::Value>,
) -> Result<cel::Value, String> {
    let mut ctx = Context::with_env(env.clone());
    ctx.add_variable("object", object)
        .map_err(|e| e.to_string())?;
    ctx.add_variable_from_value(
        "variables",
        cel::Value::Map(CelMap {
            map: Arc::new(variables.clone()),
        }),
    );
    program.execute(&ctx).map_err(|e| e.to_string())
}

/// A CEL value as JSON; a struct must be named `expected` (when given), and its fields'
/// structs after their field paths.
pub fn to_json(value: &cel::Value, expected: Option<&str>) -> Result<Value, String> {
    Ok(match value {
        cel::Value::Null => Value::Null,
        cel::Value::Bool(b) => json!(b),
        cel::Value::Int(i) => json!(i),
        cel::Value::UInt(u) => json!(u),
        cel::Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => json!(*f as i64),
        cel::Value::Float(f) => json!(f),
        cel::Value::String(s) => json!(s.as_str()),
        cel::Value::List(items) => Value::Array(
            items
                .iter()
                .map(|i| to_json(i, expected))
                .collect::<Result<_, _>>()?,
        ),
        cel::Value::Map(map) => {
            let mut out = Map::new();
            for (k, v) in map.map.iter() {
                let Key::String(k) = k else {
                    return Err(format!("a map key that is not a string: {k:?}"));
                };
                out.insert(k.to_string(), to_json(v, None)?);
            }
            Value::Object(out)
        }
        cel::Value::Struct(s) => {
            if let Some(want) = expected
                && s.name() != want
            {
                return Err(format!(
                    "unexpected type name {:?}, expected {want:?}, which matches field name path from root Object type",
                    s.name()
                ));
            }
            let mut out = Map::new();
            for (field, v) in s.field_values() {
                let v = cel::Value::try_from(v.as_ref()).map_err(|e| e.to_string())?;
                let path = format!("{}.{field}", s.name());
                out.insert(unescape(&field), to_json(&v, Some(&path))?);
            }
            Value::Object(out)
        }
        other => return Err(format!("a value JSON cannot hold: {other:?}")),
    })
}

fn ops(value: &cel::Value) -> Result<Vec<Op>, String> {
    let cel::Value::List(items) = value else {
        return Err("JSONPatchType.expression should evaluate to array".into());
    };
    items
        .iter()
        .map(|item| {
            let cel::Value::Struct(s) = item else {
                return Err(format!("not a JSONPatch: {item:?}"));
            };
            if s.name() != "JSONPatch" {
                return Err(format!("not a JSONPatch: {}", s.name()));
            }
            let field = |name: &str| -> Result<Option<cel::Value>, String> {
                s.field_value(name)
                    .map(|v| cel::Value::try_from(v).map_err(|e| e.to_string()))
                    .transpose()
            };
            let text = |name: &str| -> Result<String, String> {
                match field(name)? {
                    Some(cel::Value::String(s)) => Ok(s.to_string()),
                    other => Err(format!("JSONPatch {name} is not a string: {other:?}")),
                }
            };
            let value = match field("value")? {
                Some(v) => {
                    let root = match &v {
                        cel::Value::Struct(s) => Some(s.name().to_string()),
                        _ => None,
                    };
                    Some(to_json(&v, root.as_deref())?)
                }
                None => None,
            };
            Ok(Op {
                op: text("op")?,
                path: text("path")?,
                value,
            })
        })
        .collect()
}

/// An ApplyConfiguration result, checked and merged into `pod`.
fn apply_configuration(
    schema: &Schema,
    pod: &mut Value,
    result: &cel::Value,
) -> Result<(), String> {
    if !matches!(result, cel::Value::Struct(s) if s.name() == "Object") {
        return Err(format!(
            "unsupported return type from ApplyConfiguration expression: {result:?}"
        ));
    }
    let patch = to_json(result, Some("Object")).map_err(|e| format!("type mismatch: {e}"))?;
    let undeclared = schema.undeclared(schema.pod(), &patch);
    if let Some(path) = undeclared.first() {
        return Err(format!(
            "error applying patch: failed to convert patch object to typed object: {path}: field not declared in schema"
        ));
    }
    let atomics = schema.atomics(schema.pod(), &patch);
    if !atomics.is_empty() {
        return Err(format!(
            "error applying patch: invalid ApplyConfiguration: may not mutate atomic arrays, maps or structs: {}",
            atomics.join(", ")
        ));
    }
    schema.apply_merge(schema.pod(), pod, &patch);
    Ok(())
}

fn strings_of(policy: &Value, list: &str, key: &str) -> Vec<(String, String)> {
    policy["spec"][list]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default().to_string(),
                c[key].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Every CEL expression of a policy (match conditions, variables, mutations).
pub fn expressions(policy: &Value) -> Vec<String> {
    let mut out: Vec<String> = strings_of(policy, "matchConditions", "expression")
        .into_iter()
        .chain(strings_of(policy, "variables", "expression"))
        .map(|(_, e)| e)
        .collect();
    for m in policy["spec"]["mutations"].as_array().into_iter().flatten() {
        for field in ["applyConfiguration", "jsonPatch"] {
            if let Some(e) = m[field]["expression"].as_str() {
                out.push(e.to_string());
            }
        }
    }
    out
}

/// A mutation, compiled.
enum Mutation {
    /// An ApplyConfiguration expression.
    Apply(Program),
    /// A JSONPatch expression.
    Json(Program),
}

/// A policy with its expressions compiled once, to admit many pods.
pub struct Compiled {
    name: String,
    fail: bool,
    env: Arc<Env>,
    conditions: Vec<(String, Program)>,
    variables: Vec<(String, Program)>,
    mutations: Vec<Mutation>,
}

impl Compiled {
    /// Compiles every expression of `policy`; an expression that does not compile is the
    /// error the API server reports when it evaluates it.
    pub fn new(policy: &Value) -> Result<Compiled, String> {
        let all = expressions(policy);
        let env = environment(&all.iter().map(String::as_str).collect::<Vec<_>>())?;
        let compile = |what: &str, expr: &str| {
            env.compile(expr)
                .map_err(|e| format!("{what}: compilation failed: {e}"))
        };
        let named = |list: &str| -> Result<Vec<(String, Program)>, String> {
            strings_of(policy, list, "expression")
                .into_iter()
                .map(|(name, expr)| Ok((name.clone(), compile(&name, &expr)?)))
                .collect()
        };
        let mut mutations = Vec::new();
        for m in policy["spec"]["mutations"].as_array().into_iter().flatten() {
            mutations.push(match m["patchType"].as_str() {
                Some("ApplyConfiguration") => Mutation::Apply(compile(
                    "applyConfiguration",
                    m["applyConfiguration"]["expression"]
                        .as_str()
                        .unwrap_or_default(),
                )?),
                Some("JSONPatch") => Mutation::Json(compile(
                    "jsonPatch",
                    m["jsonPatch"]["expression"].as_str().unwrap_or_default(),
                )?),
                other => return Err(format!("unknown patchType {other:?}")),
            });
        }
        Ok(Compiled {
            name: policy["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            fail: policy["spec"]["failurePolicy"].as_str() != Some("Ignore"),
            conditions: named("matchConditions")?,
            variables: named("variables")?,
            mutations,
            env,
        })
    }

    /// Runs the policy (bound by a binding of the same name) on `pod`, as the API server
    /// admits a Pod CREATE.
    pub fn admit(&self, pod: &Value) -> Verdict {
        let schema = schema();
        let deny = |error: String| {
            if self.fail {
                Verdict::Denied(format!(
                    "policy '{name}' with binding '{name}' denied request: {error}",
                    name = self.name
                ))
            } else {
                Verdict::Admitted(pod.clone())
            }
        };
        let none = HashMap::new();
        let mut failing = Vec::new();
        for (condition, program) in &self.conditions {
            match evaluate(&self.env, program, pod, &none) {
                Ok(cel::Value::Bool(true)) => {}
                Ok(cel::Value::Bool(false)) => failing.push(condition.clone()),
                Ok(other) => {
                    return deny(format!(
                        "matchCondition {condition} is not a bool: {other:?}"
                    ));
                }
                Err(e) => return deny(format!("matchCondition {condition}: {e}")),
            }
        }
        if !failing.is_empty() {
            return Verdict::Skipped(failing);
        }
        let mut object = pod.clone();
        for m in &self.mutations {
            let mut variables = HashMap::new();
            for (var, program) in &self.variables {
                match evaluate(&self.env, program, &object, &variables) {
                    Ok(v) => {
                        variables.insert(Key::String(Arc::new(var.clone())), v);
                    }
                    Err(e) => return deny(format!("variable {var}: {e}")),
                }
            }
            let result = match m {
                Mutation::Apply(program) => evaluate(&self.env, program, &object, &variables)
                    .and_then(|v| apply_configuration(schema, &mut object, &v)),
                Mutation::Json(program) => evaluate(&self.env, program, &object, &variables)
                    .and_then(|v| ops(&v))
                    .and_then(|ops| {
                        apply_patch(&mut object, &ops).map_err(|e| format!("JSONPath: {e}"))
                    })
                    .map(|_| ()),
            };
            if let Err(e) = result {
                return deny(e);
            }
        }
        Verdict::Admitted(object)
    }
}

/// Runs the policy on `pod` (compiling it first; a compilation error denies, as the API
/// server's failure policy `Fail` does).
pub fn admit(policy: &Value, pod: &Value) -> Verdict {
    match Compiled::new(policy) {
        Ok(compiled) => compiled.admit(pod),
        Err(e) => {
            let name = policy["metadata"]["name"].as_str().unwrap_or_default();
            Verdict::Denied(format!(
                "policy '{name}' with binding '{name}' denied request: {e}"
            ))
        }
    }
}
