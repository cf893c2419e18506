//! Asking for pattern parameters from their schema (type-aware, defaults shown, validated with
//! the same rules as `--set`, enums as a select, booleans as yes/no, secrets masked), and
//! `add`'s use of it: prompting for the required parameters a run lacks.

use anyhow::Result;
use clap::Args;
use serde_json::Value;

use crate::engine::catalogue::Catalogue;
use crate::engine::params::{ParamError, ParamSpec, ParamType};
use crate::engine::process::PatternRequest;
use crate::ui::prompt::{Prompter, TextQuestion};

use crate::request::{Request, Resolution};

/// Whether to ask for what is missing.
#[derive(Debug, Clone, Args)]
pub struct AskArgs {
    /// Ask for missing required parameters even when stdin is not a terminal (the answers
    /// are read from the terminal).
    #[arg(short = 'i', long = "interactive")]
    pub interactive: bool,
    /// Never ask: a missing required parameter is an error, even on a terminal.
    #[arg(long = "no-input", conflicts_with = "interactive")]
    pub no_input: bool,
}

/// A value as `--set` text (lists comma-separated).
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(","),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Asks for one parameter of `pattern`. Returns the answer as a typed value (validated by
/// the parameter's type, as `--set` is), or `None` when nobody answered or an optional
/// parameter was left empty.
pub fn ask_param(
    prompter: &mut dyn Prompter,
    pattern: &str,
    spec: &ParamSpec,
) -> Result<Option<Value>> {
    let default = spec.default.as_ref().map(value_text);
    let mut prompt = format!("{pattern} · {} ({})", spec.name, spec.kind.as_str());
    if spec.kind == ParamType::List {
        prompt.push_str(", comma-separated");
    }
    if prompter.interactive() && !spec.description.is_empty() {
        let dim = crate::ui::DIM;
        prompter.show(&format!(
            "  {dim}{}{dim:#}\n",
            crate::ui::clean(&spec.description)
        ))?;
    }
    match spec.kind {
        ParamType::Enum => {
            let mut items = spec.values.clone();
            let optional = !spec.required && default.is_none();
            if optional {
                items.insert(0, "(none)".to_string());
            }
            let at = default
                .as_ref()
                .and_then(|d| items.iter().position(|v| v == d))
                .unwrap_or(0);
            let chosen = prompter.select(&prompt, &items, at)?;
            Ok(chosen
                .filter(|i| !(optional && *i == 0))
                .map(|i| Value::String(items[i].clone())))
        }
        ParamType::Bool => {
            let default = spec
                .default
                .as_ref()
                .and_then(Value::as_bool)
                .unwrap_or(false);
            Ok(prompter.confirm(&prompt, default)?.map(Value::Bool))
        }
        _ => {
            let validate = |text: &str| {
                spec.parse_text(text).map(drop).map_err(|e| {
                    let problem = match e {
                        ParamError::Invalid { problem, .. } => problem,
                        other => other.to_string(),
                    };
                    // A refused secret is not shown either.
                    match spec.secret {
                        true => problem.replace(&format!("{text:?}"), "the value"),
                        false => problem,
                    }
                })
            };
            let answer = prompter.text(&TextQuestion {
                prompt: &prompt,
                default,
                optional: !spec.required,
                secret: spec.secret,
                validate: &validate,
            })?;
            // The validator accepted the text: its typed value is the answer.
            match answer.filter(|a| !a.is_empty()) {
                None => Ok(None),
                Some(text) => Ok(Some(spec.parse_text(&text)?)),
            }
        }
    }
}

/// Resolves `request`; on a terminal, asks for every required parameter it lacks (typed
/// answers join the request) and resolves again. Without one, the error lists them all.
pub fn resolve_asking(
    request: &mut Request,
    catalogue: &Catalogue,
    prompter: &mut dyn Prompter,
) -> Result<Vec<PatternRequest>> {
    let missing = match request.resolve(catalogue)? {
        Resolution::Resolved(requests) => {
            prompter.finish();
            return Ok(requests);
        }
        Resolution::NeedsInput(missing) => missing,
    };
    if !prompter.interactive() {
        return Err(missing.into());
    }
    for m in &missing.patterns {
        let pattern = catalogue.get(&m.pattern)?;
        for name in &m.names {
            let Some(spec) = pattern.spec().params.iter().find(|p| &p.name == name) else {
                continue;
            };
            if let Some(answer) = ask_param(prompter, &m.instance, spec)? {
                request.answer(&m.instance, name, answer);
            }
        }
    }
    prompter.finish();
    match request.resolve(catalogue)? {
        Resolution::Resolved(requests) => Ok(requests),
        Resolution::NeedsInput(still) => Err(still.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// Answers from a script; every text answer goes through the question's validator, the
    /// way the terminal re-asks: a refused answer is recorded and the next one is tried.
    #[derive(Default)]
    struct Scripted {
        answers: VecDeque<String>,
        refused: Vec<String>,
        prompts: Vec<String>,
    }

    impl Prompter for Scripted {
        fn interactive(&self) -> bool {
            true
        }
        fn text(&mut self, q: &TextQuestion<'_>) -> Result<Option<String>> {
            self.prompts.push(q.prompt.to_string());
            loop {
                let a = self.answers.pop_front().expect("an answer");
                let a = match (&q.default, a.is_empty()) {
                    (Some(d), true) => d.clone(),
                    _ => a,
                };
                match (q.validate)(&a) {
                    Ok(()) => return Ok(Some(a)),
                    Err(e) => self.refused.push(e),
                }
            }
        }
        fn select(&mut self, p: &str, items: &[String], _: usize) -> Result<Option<usize>> {
            self.prompts.push(p.to_string());
            let a = self.answers.pop_front().expect("an answer");
            Ok(items.iter().position(|i| *i == a))
        }
        fn multi_select(
            &mut self,
            _: &str,
            _: &[String],
            _: &[String],
        ) -> Result<Option<Vec<usize>>> {
            unreachable!()
        }
        fn confirm(&mut self, p: &str, _: bool) -> Result<Option<bool>> {
            self.prompts.push(p.to_string());
            Ok(Some(self.answers.pop_front().expect("an answer") == "y"))
        }
        fn show(&mut self, _: &str) -> Result<()> {
            Ok(())
        }
    }

    fn param(id: &str, name: &str) -> ParamSpec {
        let p = Catalogue::builtin().get(id).unwrap();
        p.spec()
            .params
            .iter()
            .find(|s| s.name == name)
            .unwrap()
            .clone()
    }

    #[test]
    fn a_refused_answer_is_asked_again_with_the_type_rule() {
        let mut p = Scripted {
            answers: ["Not_A_Host", "db.shop.svc"].map(String::from).into(),
            ..Default::default()
        };
        let got = ask_param(&mut p, "wait-for", &param("wait-for", "host")).unwrap();
        assert_eq!(got, Some(Value::String("db.shop.svc".into())));
        assert_eq!(p.refused.len(), 1);
        assert!(p.refused[0].contains("not a DNS name"), "{:?}", p.refused);
        assert_eq!(p.prompts, ["wait-for · host (dns-name)"]);
    }

    #[test]
    fn enums_select_booleans_confirm_defaults_stay() {
        let mut p = Scripted {
            answers: ["tcp", "y", ""].map(String::from).into(),
            ..Default::default()
        };
        let mode = ask_param(&mut p, "wait-for", &param("wait-for", "mode")).unwrap();
        let https = ask_param(&mut p, "wait-for", &param("wait-for", "https")).unwrap();
        let image = ask_param(&mut p, "wait-for", &param("wait-for", "image")).unwrap();
        assert_eq!(mode, Some(Value::String("tcp".into())));
        assert_eq!(https, Some(Value::Bool(true)));
        assert_eq!(image, Some(Value::String("busybox:1.36.1".into())));
    }

    /// The wizard's answers join the request as typed values (a port as a number, not
    /// `--set` text) and reach the rendered helper.
    #[test]
    fn the_wizards_answers_reach_rendering_as_typed_values() {
        use crate::engine::params::Given;
        use crate::engine::process::{Action, AddAction};
        let catalogue = Catalogue::builtin();
        let mut request = Request::for_patterns(&["wait-for".to_string()], None).unwrap();
        let mut p = Scripted {
            answers: ["db.shop.svc"].map(String::from).into(),
            ..Default::default()
        };
        let requests = resolve_asking(&mut request, &catalogue, &mut p).unwrap();
        assert_eq!(p.prompts, ["wait-for · host (dns-name)"]);
        let answered: Vec<&Given> = request.params.iter().map(|e| &e.value).collect();
        assert_eq!(
            answered,
            [&Given::Value(Value::String("db.shop.svc".into()))]
        );
        let mut object = serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "app", "image": "nginx:1.27.3"}]}});
        AddAction {
            requests,
            options: request.merge_options(),
        }
        .run(&mut object)
        .unwrap();
        let rendered = object["spec"]["initContainers"][0].to_string();
        assert!(rendered.contains("db.shop.svc"), "{rendered}");
    }
}
