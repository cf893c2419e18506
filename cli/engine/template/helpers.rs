//! The helpers templates may use: `{{num x}}` and `{{json x}}` (unescaped, checked), `{{concat
//! …}}`, and `{{fail "message"}}`, which stops rendering with a typed `Refusal`.

use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext as HbContext,
    RenderError, RenderErrorReason, ScopedJson,
};
use serde_json::Value;

/// The message of `{{fail}}`: the pattern refuses these parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

impl Refusal {
    /// The refusal in `error`'s source chain (however many blocks and partials wrap it).
    pub fn find(error: &RenderError) -> Option<&Refusal> {
        let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(e) = current {
            if let Some(refusal) = e.downcast_ref::<Refusal>() {
                return Some(refusal);
            }
            current = e.source();
        }
        None
    }
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_string())
}

pub(super) fn new_registry() -> Handlebars<'static> {
    let mut registry = Handlebars::new();
    registry.set_strict_mode(true);
    registry.register_escape_fn(quote);
    registry.register_helper(
        "num",
        Box::new(RawHelper {
            name: "num",
            format: format_num,
        }),
    );
    registry.register_helper(
        "json",
        Box::new(RawHelper {
            name: "json",
            format: format_json,
        }),
    );
    registry.register_helper("concat", Box::new(ConcatHelper));
    registry.register_helper("fail", Box::new(FailHelper));
    registry
}

fn param<'a>(
    h: &'a Helper<'_>,
    helper: &'static str,
    index: usize,
) -> Result<&'a Value, RenderError> {
    match h.param(index) {
        Some(p) if !p.is_value_missing() => Ok(p.value()),
        Some(p) => Err(RenderErrorReason::Other(format!(
            "{helper}: variable {:?} not found",
            p.relative_path().map(String::as_str).unwrap_or("?")
        ))
        .into()),
        None => Err(RenderErrorReason::ParamNotFoundForIndex(helper, index).into()),
    }
}

/// A helper that writes one value unescaped, formatted by `format` (which may refuse it):
/// `{{num x}}` (a number or boolean) and `{{json x}}` (any value as JSON, i.e. YAML flow style).
struct RawHelper {
    name: &'static str,
    format: fn(&Value) -> Result<String, String>,
}

impl HelperDef for RawHelper {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut HbContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let text = (self.format)(param(h, self.name, 0)?)
            .map_err(|m| RenderErrorReason::Other(format!("{}: {m}", self.name)))?;
        out.write(&text).map_err(Into::into)
    }
}

fn format_num(v: &Value) -> Result<String, String> {
    match v {
        Value::Number(_) | Value::Bool(_) => Ok(v.to_string()),
        other => Err(format!("{other} is not a number or boolean")),
    }
}

fn format_json(v: &Value) -> Result<String, String> {
    serde_json::to_string(v).map_err(|e| e.to_string())
}

/// `{{fail "message" …}}`: stops rendering with the message (for parameter combinations the
/// schema alone cannot express).
struct FailHelper;

impl HelperDef for FailHelper {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut HbContext<'reg, 'rc>,
        _: &mut dyn Output,
    ) -> HelperResult {
        let parts: Vec<String> = h
            .params()
            .iter()
            .map(|p| {
                p.value()
                    .as_str()
                    .map_or_else(|| p.value().to_string(), str::to_string)
            })
            .collect();
        Err(RenderErrorReason::NestedError(Box::new(Refusal(parts.concat()))).into())
    }
}

/// `{{concat a b …}}`: the pieces joined; escaped like any expression.
struct ConcatHelper;

impl HelperDef for ConcatHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut HbContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let mut joined = String::new();
        for i in 0..h.params().len() {
            match param(h, "concat", i)? {
                Value::String(s) => joined.push_str(s),
                Value::Null => {}
                other => joined.push_str(&other.to_string()),
            }
        }
        Ok(ScopedJson::Derived(Value::String(joined)))
    }
}
