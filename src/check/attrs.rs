//! Attribute blocks: each attribute looked up in the step's table in
//! `schema.rs`, typed, and checked for duplicates; required ones present;
//! `container "NAME" { … }` blocks checked against their own table.

use std::collections::HashMap;

use super::error::CheckError;
use super::pipeline::{ContainerOverride, Expr};
use super::schema::{self, Attr};
use super::types::Want;
use super::Checker;
use crate::suggest;
use crate::syntax::ast::{self, Block, BlockItem, Ident, Span};

/// The checked attributes of one block.
pub(super) struct Attrs<'e> {
    values: Vec<(&'static str, Expr, &'e ast::Expr)>,
    words: Vec<(&'static str, &'static str)>,
    word_lists: Vec<(&'static str, Vec<(&'static str, Span)>)>,
    spans: Vec<(&'static str, Span)>,
    pub containers: Vec<ContainerOverride>,
    /// `hook … { … }` blocks, unchecked: only `update` takes them.
    pub hooks: Vec<&'e ast::HookBlock>,
}

impl<'e> Attrs<'e> {
    pub fn value(&self, name: &str) -> Option<Expr> {
        self.values.iter().find(|(n, ..)| *n == name).map(|(_, v, _)| v.clone())
    }

    pub fn expr(&self, name: &str) -> Option<&'e ast::Expr> {
        self.values.iter().find(|(n, ..)| *n == name).map(|(.., e)| *e)
    }

    pub fn word(&self, name: &str) -> Option<&'static str> {
        self.words.iter().find(|(n, _)| *n == name).map(|(_, w)| *w)
    }

    /// A list of bare words, each with where it is written.
    pub fn word_list(&self, name: &str) -> Option<&[(&'static str, Span)]> {
        self.word_lists.iter().find(|(n, _)| *n == name).map(|(_, w)| w.as_slice())
    }

    /// Where an attribute's name is written, when it is.
    pub fn span(&self, name: &str) -> Option<Span> {
        self.spans.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
    }
}

impl Checker<'_> {
    pub(super) fn block<'e>(
        &mut self,
        step: &str,
        keyword: Span,
        block: Option<&'e Block>,
        attrs: &'static [Attr],
        container_attrs: Option<&'static [Attr]>,
    ) -> Attrs<'e> {
        let mut out = Attrs {
            values: Vec::new(),
            words: Vec::new(),
            word_lists: Vec::new(),
            spans: Vec::new(),
            containers: Vec::new(),
            hooks: Vec::new(),
        };
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let mut seen_containers: HashMap<String, Span> = HashMap::new();
        for item in block.map(|b| b.items.as_slice()).unwrap_or_default() {
            match item {
                BlockItem::Attribute(attribute) => {
                    let name = &attribute.name;
                    let Some(spec) = attrs.iter().find(|a| a.name == name.name) else {
                        self.unknown_attribute(step, name, attrs, container_attrs.is_some());
                        self.expr(&attribute.value);
                        continue;
                    };
                    if let Some(first) = seen.insert(spec.name, name.span) {
                        self.errors.push(CheckError::DuplicateAttribute {
                            what: "attribute",
                            name: name.name.clone(),
                            span: name.span,
                            first,
                        });
                        continue;
                    }
                    out.spans.push((spec.name, name.span));
                    match spec.want {
                        Want::Word(words) => {
                            if let Some(word) = self.word(&attribute.value, spec.name, words) {
                                out.words.push((spec.name, word));
                            }
                        }
                        Want::IntOrWord(words) if matches!(&attribute.value.kind, ast::ExprKind::Name(w) if words.contains(&w.as_str())) => {
                            if let Some(word) = self.word(&attribute.value, spec.name, words) {
                                out.words.push((spec.name, word));
                            }
                        }
                        Want::WordList(words) => {
                            if let Some(list) = self.word_list(&attribute.value, spec.name, words) {
                                out.word_lists.push((spec.name, list));
                            }
                        }
                        want => {
                            let value = self.expect(&attribute.value, want);
                            out.values.push((spec.name, value, &attribute.value));
                        }
                    }
                }
                BlockItem::Hook(hook) if step == "update" => out.hooks.push(hook),
                BlockItem::Hook(hook) => {
                    self.errors.push(CheckError::UnknownAttribute {
                        step: step.into(),
                        name: "hook".into(),
                        span: hook.keyword,
                        help: format!("hook blocks belong to `update`; `{step}` takes {}", list_attrs(attrs)),
                    });
                }
                BlockItem::Container(container) => {
                    let Some(inner_attrs) = container_attrs else {
                        let help = format!(
                            "container blocks belong to `register` and `run-task`; `{step}` takes {}",
                            list_attrs(attrs)
                        );
                        self.errors.push(CheckError::UnknownAttribute {
                            step: step.into(),
                            name: "container".into(),
                            span: container.keyword,
                            help,
                        });
                        continue;
                    };
                    let name = match container.name.kind.as_literal_str() {
                        Some(name) if !name.is_empty() => name,
                        _ => {
                            self.expr(&container.name);
                            self.invalid(
                                container.name.span,
                                "a container's name must be written out",
                                "not a plain string",
                                Some(r#"write `container "web" { … }`"#.into()),
                            );
                            String::new()
                        }
                    };
                    if !name.is_empty() {
                        if let Some(first) = seen_containers.insert(name.clone(), container.name.span) {
                            self.errors.push(CheckError::DuplicateAttribute {
                                what: "container",
                                name: name.clone(),
                                span: container.name.span,
                                first,
                            });
                        }
                    }
                    let label = format!("container \"{name}\"");
                    let inner = self.block(&label, container.keyword, Some(&container.block), inner_attrs, None);
                    out.containers.push(ContainerOverride {
                        name,
                        span: container.name.span,
                        image: inner.value("image"),
                        env: inner.value("env"),
                        secrets: inner.value("secrets"),
                        command: inner.value("command"),
                    });
                }
            }
        }
        for spec in attrs.iter().filter(|a| a.required && !seen.contains_key(a.name)) {
            let example = match spec.want {
                Want::StringList => format!("{} = [tag]", spec.name),
                _ => format!("{} = …", spec.name),
            };
            let help = match block {
                Some(_) => format!("add `{example}` to the block"),
                None => format!("add a block: `{step} … {{ {example} }}`"),
            };
            self.errors.push(CheckError::MissingAttribute {
                step: step.into(),
                name: spec.name.into(),
                span: keyword,
                help,
            });
        }
        out
    }

    /// A non-empty list of bare words from `words`, each at most once.
    fn word_list(
        &mut self,
        expr: &ast::Expr,
        attribute: &str,
        words: &'static [&'static str],
    ) -> Option<Vec<(&'static str, Span)>> {
        let ast::ExprKind::List(items) = &expr.kind else {
            self.invalid(
                expr.span,
                format!("`{attribute}` takes a list of bare words"),
                "not a list",
                Some(format!("write `{attribute} = [{}]`", words[0])),
            );
            return None;
        };
        if items.is_empty() {
            self.invalid(
                expr.span,
                format!("`{attribute}` needs at least one value"),
                "empty",
                Some(format!("write `{attribute} = [{}]`", words[0])),
            );
            return None;
        }
        let mut out: Vec<(&'static str, Span)> = Vec::new();
        for item in items {
            let word = self.word(item, attribute, words)?;
            if let Some((_, first)) = out.iter().find(|(w, _)| *w == word) {
                self.errors.push(CheckError::DuplicateAttribute {
                    what: "value",
                    name: word.into(),
                    span: item.span,
                    first: *first,
                });
                continue;
            }
            out.push((word, item.span));
        }
        Some(out)
    }

    fn unknown_attribute(&mut self, step: &str, name: &Ident, attrs: &[Attr], takes_containers: bool) {
        let mut candidates: Vec<&str> = attrs.iter().map(|a| a.name).collect();
        if takes_containers {
            candidates.push("container");
        }
        let help = if let Some(near) = suggest::nearest(&name.name, candidates.iter().copied()) {
            format!("did you mean `{near}`?")
        } else if let Some(owner) = schema::owner_of(&name.name) {
            format!("`{}` belongs to `{owner}`; `{step}` takes {}", name.name, list_attrs(attrs))
        } else if let Some((near, owner)) =
            suggest::nearest(&name.name, schema::all_names()).and_then(|near| Some((near, schema::owner_of(near)?)))
        {
            format!("did you mean `{near}`? it belongs to `{owner}`; `{step}` takes {}", list_attrs(attrs))
        } else if attrs.is_empty() {
            format!("`{step}` takes no attributes")
        } else {
            format!("`{step}` takes {}", list_attrs(attrs))
        };
        self.errors.push(CheckError::UnknownAttribute {
            step: step.into(),
            name: name.name.clone(),
            span: name.span,
            help,
        });
    }
}

fn list_attrs(attrs: &[Attr]) -> String {
    let names: Vec<String> = attrs.iter().map(|a| format!("`{}`", a.name)).collect();
    match names.as_slice() {
        [] => "no attributes".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
