//! Whether a template reads the workload: decided from the parsed template (paths rooted at
//! `workload`, wherever they appear, and partials followed), not from its text. Templates that
//! do not are rendered once per parameter set and cached.
//!
//! The answer errs towards "yes" (only caching is lost): a path to the whole root context
//! (`{{json this}}` at the top, `{{json @root}}`, `{{json ../this}}`), a literal `"workload"` (as in
//! `{{lookup this "workload"}}`), a dynamic or unknown partial all count as reading it.

use handlebars::template::{DecoratorTemplate, HelperTemplate, Parameter, TemplateElement};
use handlebars::{Handlebars, Path, PathSeg, Template};

/// The root key templates see the workload under.
const ROOT: &str = "workload";

/// True when rendering template `name` of `registry` may read `workload`.
pub(super) fn reads_workload(registry: &Handlebars<'_>, name: &str) -> bool {
    let mut walk = Walk {
        registry,
        visited: Vec::new(),
    };
    walk.partial(name, 0)
}

struct Walk<'r, 'reg> {
    registry: &'r Handlebars<'reg>,
    /// Partials already walked (a partial may include itself).
    visited: Vec<String>,
}

impl Walk<'_, '_> {
    /// `depth` counts the blocks (`each`, `with`, a partial with a context) that moved the
    /// context away from the root.
    fn partial(&mut self, name: &str, depth: usize) -> bool {
        if self.visited.iter().any(|v| v == name) {
            return false;
        }
        self.visited.push(name.to_string());
        match self.registry.get_template(name) {
            Some(template) => self.template(template, depth),
            None => true,
        }
    }

    fn template(&mut self, template: &Template, depth: usize) -> bool {
        template.elements.iter().any(|e| self.element(e, depth))
    }

    fn element(&mut self, element: &TemplateElement, depth: usize) -> bool {
        match element {
            TemplateElement::RawString(_) | TemplateElement::Comment(_) => false,
            TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h) => {
                self.helper(h, depth)
            }
            TemplateElement::HelperBlock(h) => self.helper(h, depth),
            TemplateElement::DecoratorExpression(d) | TemplateElement::DecoratorBlock(d) => {
                self.decorator(d, depth)
            }
            TemplateElement::PartialExpression(d) | TemplateElement::PartialBlock(d) => {
                self.include(d, depth)
            }
            // An element a newer handlebars added: unknown.
            _ => true,
        }
    }

    fn helper(&mut self, h: &HelperTemplate, depth: usize) -> bool {
        if self.parameter(&h.name, depth) || self.arguments(&h.params, &h.hash, depth) {
            return true;
        }
        // `each` and `with` render their block in the context of their argument.
        let scoped = matches!(&h.name, Parameter::Name(n) if n == "each" || n == "with")
            && !h.params.is_empty();
        let inner = if scoped { depth + 1 } else { depth };
        h.template.as_ref().is_some_and(|t| self.template(t, inner))
            || h.inverse.as_ref().is_some_and(|t| self.template(t, depth))
    }

    fn decorator(&mut self, d: &DecoratorTemplate, depth: usize) -> bool {
        self.arguments(&d.params, &d.hash, depth)
            || d.template.as_ref().is_some_and(|t| self.template(t, depth))
    }

    /// `{{> name ctx key=value}}`: the partial's template, in `ctx` when given.
    fn include(&mut self, d: &DecoratorTemplate, depth: usize) -> bool {
        if self.arguments(&d.params, &d.hash, depth)
            || d.template.as_ref().is_some_and(|t| self.template(t, depth))
        {
            return true;
        }
        let inner = if d.params.is_empty() {
            depth
        } else {
            depth + 1
        };
        match &d.name {
            Parameter::Name(name) => self.partial(name, inner),
            // A partial chosen while rendering: unknown.
            _ => true,
        }
    }

    fn arguments(
        &mut self,
        params: &[Parameter],
        hash: &std::collections::HashMap<String, Parameter>,
        depth: usize,
    ) -> bool {
        params
            .iter()
            .chain(hash.values())
            .any(|p| self.parameter(p, depth))
    }

    fn parameter(&mut self, p: &Parameter, depth: usize) -> bool {
        match p {
            // A helper's name, or a lone variable (`{{workload}}`).
            Parameter::Name(n) => n == ROOT,
            Parameter::Path(path) => reads_root(path, depth),
            Parameter::Literal(v) => v.as_str() == Some(ROOT),
            Parameter::Subexpression(s) => self.element(&s.element, depth),
            _ => true,
        }
    }
}

/// True when `path` may name the workload: its first name is `workload` (after `..` or
/// `@root`), or it names a whole context that may be the root.
fn reads_root(path: &Path, depth: usize) -> bool {
    let segs = match path {
        Path::Relative((segs, _)) => segs,
        // `@root` alone is the root context; `@index`, `@key`… are block locals.
        Path::Local((_, name, _)) => return name == "root",
    };
    match segs.iter().find_map(|s| match s {
        PathSeg::Named(n) => Some(n.as_str()),
        _ => None,
    }) {
        Some(first) => first == ROOT,
        // `this` at the top, or `..` / `@root` anywhere: maybe the root context itself.
        None => depth == 0 || !segs.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(entry: &str, partials: &[(&str, &str)]) -> bool {
        let mut registry = Handlebars::new();
        registry.register_template_string("entry", entry).unwrap();
        for (name, text) in partials {
            registry.register_partial(name, *text).unwrap();
        }
        reads_workload(&registry, "entry")
    }

    #[test]
    fn paths_rooted_at_workload_are_found_in_any_spelling() {
        for entry in [
            "{{ workload.name }}",
            "{{workload.name}}",
            "{{~workload.namespace~}}",
            "{{#each workload.ports}}- {{containerPort}}\n{{/each}}",
            "{{#with workload}}{{name}}{{/with}}",
            "{{#if workload.labels.app}}x{{/if}}",
            "{{#if params.a}}a{{else}}{{workload.name}}{{/if}}",
            "{{json workload}}",
            "{{workload}}",
            "{{concat (concat workload.name \"-x\") \"y\"}}",
            "{{#each params.items}}{{../workload.name}}{{/each}}",
            "{{#each params.items}}{{@root.workload.name}}{{/each}}",
            "{{lookup this \"workload\"}}",
            "{{json this}}",
            "{{#each params.items}}{{json ../this}}{{/each}}",
            "{{#each params.items}}{{json @root}}{{/each}}",
        ] {
            assert!(reads(entry, &[]), "{entry}");
        }
    }

    #[test]
    fn partials_are_followed() {
        assert!(reads(
            "a: {{> labels}}",
            &[("labels", "{{workload.labels.app}}")]
        ));
        assert!(reads(
            "{{> outer}}",
            &[
                ("outer", "{{> inner}}"),
                ("inner", "{{#with workload}}{{name}}{{/with}}")
            ]
        ));
        assert!(reads("{{> part workload}}", &[("part", "{{name}}")]));
        assert!(reads("{{> missing}}", &[]));
        // A partial that includes itself ends the walk.
        assert!(!reads(
            "{{> loop}}",
            &[("loop", "{{#if params.x}}{{> loop}}{{/if}}")]
        ));
        // An unused partial does not count.
        assert!(!reads("{{params.a}}", &[("unused", "{{workload.name}}")]));
    }

    #[test]
    fn other_roots_comments_and_text_do_not_count() {
        for entry in [
            "{{params.workload}}",
            "{{params.workload.name}}",
            "{{! workload.name }}",
            "{{!-- {{workload.name}} --}}",
            "workload.name: {{instance}}",
            "{{#each params.items}}{{this}}{{/each}}",
            "{{#each params.items}}{{@index}}: {{json this}}{{/each}}",
            "{{#with params}}{{json this}}{{/with}}",
        ] {
            assert!(!reads(entry, &[]), "{entry}");
        }
    }
}
