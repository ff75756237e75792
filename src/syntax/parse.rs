//! The only file that names pest types: it runs the grammar and lowers pest's
//! pairs into the span-carrying AST of `ast.rs`.

use std::sync::Mutex;
use std::time::Duration;

use pest::iterators::Pair;
use pest::Parser as _;
use pest_derive::Parser;

use super::ast::*;
use super::error::SyntaxError;
use super::names::{is_name_char, is_reserved, KEYWORDS};
use crate::suggest;

#[derive(Parser)]
#[grammar = "../grammar/ecsflow.pest"]
struct Grammar;

/// Deeper bracket nesting than this is refused before the grammar runs, so no
/// input can exhaust the stack of the parser, the lowering or the checker.
pub const MAX_NESTING: usize = 64;

/// Parses one file. Returns the tree when the text is well-formed, and every
/// syntax error found otherwise.
pub fn parse(source: &str) -> Result<File, Vec<SyntaxError>> {
    if let Some(span) = too_deep(source) {
        return Err(vec![SyntaxError::TooDeep { limit: MAX_NESTING, span }]);
    }
    let mut pairs = match Grammar::parse(Rule::file, source) {
        Ok(pairs) => pairs,
        Err(error) => return Err(vec![from_pest(source, &parse_with_detail(source, error))]),
    };
    let file = pairs.next().expect("the file rule always yields one pair");
    let mut lower = Lower { errors: Vec::new() };
    let items = lower.items(file.into_inner(), true);
    if lower.errors.is_empty() {
        Ok(File { items })
    } else {
        Err(lower.errors)
    }
}

/// Parses a file known to be wrong again, with pest's tracking of what was
/// expected where. The tracking makes every parse several times slower, so it
/// is on only for these re-parses. The setting is process-wide and read when a
/// parse starts: the lock keeps one re-parse from switching it off under
/// another; a correct file parsed meanwhile is merely slower.
fn parse_with_detail(source: &str, plain: pest::error::Error<Rule>) -> pest::error::Error<Rule> {
    static DETAIL: Mutex<()> = Mutex::new(());
    let _guard = DETAIL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    pest::set_error_detail(true);
    let result = Grammar::parse(Rule::file, source);
    pest::set_error_detail(false);
    result.err().unwrap_or(plain)
}

/// The first opening bracket past `MAX_NESTING`, ignoring strings and comments.
fn too_deep(source: &str) -> Option<Span> {
    let bytes = source.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' | b'\n' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'#' => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b'{' | b'[' | b'(' => {
                    depth += 1;
                    if depth > MAX_NESTING {
                        return Some(Span::new(i, i + 1));
                    }
                }
                b'}' | b']' | b')' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.end())
}

struct Lower {
    errors: Vec<SyntaxError>,
}

impl Lower {
    fn items<'a>(&mut self, pairs: impl Iterator<Item = Pair<'a, Rule>>, top: bool) -> Vec<Item> {
        pairs.filter_map(|pair| self.item(pair, top)).collect()
    }

    fn item(&mut self, pair: Pair<'_, Rule>, top: bool) -> Option<Item> {
        let span = span_of(&pair);
        let rule = pair.as_rule();
        let top_only = |keyword: &'static str| SyntaxError::NotAtTopLevel {
            keyword,
            span,
            help: format!("move this `{keyword}` out of the block, before the steps that use it"),
        };
        let mut inner = pair.into_inner();
        let item = match rule {
            Rule::EOI => return None,
            Rule::pipeline_decl => {
                let keyword = span_of(&inner.next()?);
                Item::Pipeline { keyword, name: self.expr(inner.next()?) }
            }
            Rule::region_decl => {
                let keyword = span_of(&inner.next()?);
                Item::Region { keyword, value: self.expr(inner.next()?) }
            }
            Rule::cluster_decl => {
                let keyword = span_of(&inner.next()?);
                Item::Cluster { keyword, value: self.expr(inner.next()?) }
            }
            Rule::param_decl => {
                inner.next()?;
                let name = self.binding_name(inner.next()?);
                let mut ty = None;
                let mut default = None;
                for part in inner {
                    match part.as_rule() {
                        Rule::param_type => ty = Some(ident(part.into_inner().next()?)),
                        _ => default = Some(self.expr(part)),
                    }
                }
                Item::Param { name, ty, default }
            }
            Rule::service_decl => {
                inner.next()?;
                let name = self.binding_name(inner.next()?);
                Item::Service { name, value: self.expr(inner.next()?) }
            }
            Rule::repository_decl => {
                inner.next()?;
                let name = self.binding_name(inner.next()?);
                Item::Repository { name, value: self.expr(inner.next()?) }
            }
            Rule::let_stmt => {
                inner.next()?;
                let name = self.binding_name(inner.next()?);
                let value = inner.next()?;
                let value = match value.as_rule() {
                    Rule::expr => LetValue::Expr(self.expr(value)),
                    _ => {
                        let step = self.step(value)?;
                        let keyword = step.kind.keyword();
                        if !matches!(
                            step.kind,
                            StepKind::Build { .. }
                                | StepKind::Push { .. }
                                | StepKind::Register { .. }
                                | StepKind::RunTask { .. }
                        ) {
                            self.errors.push(SyntaxError::NotBindable {
                                keyword,
                                span: step.keyword,
                                help: format!("only `build`, `push`, `register` and `run-task` give values; write `{keyword} …` on its own line"),
                            });
                        }
                        LetValue::Step(step)
                    }
                };
                Item::Let { name, value }
            }
            Rule::on_failure => {
                let keyword = span_of(&inner.next()?);
                let block = inner.next()?;
                let steps = self.items(block.into_inner(), false);
                if !top {
                    self.errors.push(SyntaxError::NotAtTopLevel {
                        keyword: "on-failure",
                        span: keyword,
                        help: "a file has one `on-failure` block, at the top level; it runs after any failed step"
                            .into(),
                    });
                }
                Item::OnFailure { keyword, steps }
            }
            Rule::unknown_stmt => {
                let word = inner.next()?;
                let text = word.as_str().to_string();
                let word_span = span_of(&word);
                let help = match suggest::nearest(&text, KEYWORDS.iter().copied()) {
                    Some(keyword) => format!("did you mean `{keyword}`?"),
                    None => "a statement starts with a declaration (`param`, `service`, `repository`, `let`, …) or a step (`update`, `await-stable`, …)".into(),
                };
                self.errors.push(SyntaxError::UnknownStatement { word: text, span: word_span, help });
                return None;
            }
            _ => Item::Step(self.step_from(rule, span, inner)?),
        };
        if !top {
            let keyword = match &item {
                Item::Pipeline { .. } => Some("pipeline"),
                Item::Region { .. } => Some("region"),
                Item::Cluster { .. } => Some("cluster"),
                Item::Param { .. } => Some("param"),
                Item::Service { .. } => Some("service"),
                Item::Repository { .. } => Some("repository"),
                _ => None,
            };
            if let Some(keyword) = keyword {
                self.errors.push(top_only(keyword));
            }
        }
        Some(item)
    }

    fn step(&mut self, pair: Pair<'_, Rule>) -> Option<Step> {
        let span = span_of(&pair);
        let rule = pair.as_rule();
        self.step_from(rule, span, pair.into_inner())
    }

    fn step_from<'a>(
        &mut self,
        rule: Rule,
        span: Span,
        mut inner: impl Iterator<Item = Pair<'a, Rule>>,
    ) -> Option<Step> {
        let keyword = span_of(&inner.next()?);
        let kind = match rule {
            Rule::build_step => {
                let context = self.expr(inner.next()?);
                StepKind::Build { context, block: self.opt_block(inner.next()) }
            }
            Rule::push_step => {
                let image = self.expr(inner.next()?);
                inner.next()?; // `to`
                let repository = self.expr(inner.next()?);
                StepKind::Push { image, repository, block: self.opt_block(inner.next()) }
            }
            Rule::register_step => {
                let base = inner.next()?;
                let base_rule = base.as_rule();
                let mut base_inner = base.into_inner();
                base_inner.next()?; // `from` / `file` / `family`
                let value = self.expr(base_inner.next()?);
                let base = match base_rule {
                    Rule::base_from => RegisterBase::Service(value),
                    Rule::base_file => RegisterBase::File(value),
                    _ => RegisterBase::Family(value),
                };
                StepKind::Register { base, block: self.opt_block(inner.next()) }
            }
            Rule::suspend_step => StepKind::SuspendScaling { service: self.expr(inner.next()?) },
            Rule::resume_step => StepKind::ResumeScaling { service: self.expr(inner.next()?) },
            Rule::update_step => {
                let service = self.expr(inner.next()?);
                StepKind::Update { service, block: self.opt_block(inner.next()) }
            }
            Rule::await_step => {
                let mut services = Vec::new();
                let mut block = None;
                for part in inner {
                    match part.as_rule() {
                        Rule::block => block = Some(self.block(part)),
                        _ => services.push(self.expr(part)),
                    }
                }
                StepKind::AwaitStable { services, block }
            }
            Rule::run_task_step => {
                let task_definition = self.expr(inner.next()?);
                StepKind::RunTask { task_definition, block: self.opt_block(inner.next()) }
            }
            Rule::rollback_step => {
                let service = self.expr(inner.next()?);
                let to = match inner.next() {
                    Some(_to_keyword) => Some(self.expr(inner.next()?)),
                    None => None,
                };
                StepKind::Rollback { service, to }
            }
            Rule::continue_step => {
                let service = self.expr(inner.next()?);
                StepKind::Continue { service, block: self.opt_block(inner.next()) }
            }
            Rule::prune_step => {
                let task_definition = self.expr(inner.next()?);
                inner.next()?; // `keep`
                let keep = self.expr(inner.next()?);
                StepKind::Prune { task_definition, keep }
            }
            Rule::parallel_step => {
                let block = inner.next()?;
                StepKind::Parallel { steps: self.items(block.into_inner(), false) }
            }
            other => unreachable!("not a step rule: {other:?}"),
        };
        Some(Step { keyword, span, kind })
    }

    /// A name being defined: any word but a reserved one.
    fn binding_name(&mut self, pair: Pair<'_, Rule>) -> Ident {
        let name = ident(pair);
        if is_reserved(&name.name) {
            self.errors.push(SyntaxError::ReservedName {
                word: name.name.clone(),
                span: name.span,
                help: format!("choose another name, such as `{}_`", name.name.replace('-', "_")),
            });
        }
        name
    }

    fn opt_block(&mut self, pair: Option<Pair<'_, Rule>>) -> Option<Block> {
        pair.map(|pair| self.block(pair))
    }

    fn block(&mut self, pair: Pair<'_, Rule>) -> Block {
        let span = span_of(&pair);
        let items = pair
            .into_inner()
            .filter_map(|item| {
                let rule = item.as_rule();
                let mut inner = item.into_inner();
                match rule {
                    Rule::container_block => {
                        let keyword = span_of(&inner.next()?);
                        let name = self.expr(inner.next()?);
                        let block = self.block(inner.next()?);
                        Some(BlockItem::Container(ContainerBlock { keyword, name, block }))
                    }
                    Rule::hook_block => {
                        let keyword = span_of(&inner.next()?);
                        let target = self.expr(inner.next()?);
                        let block = self.block(inner.next()?);
                        Some(BlockItem::Hook(HookBlock { keyword, target, block }))
                    }
                    _ => {
                        let name = ident(inner.next()?);
                        let value = self.expr(inner.next()?);
                        Some(BlockItem::Attribute(Attribute { name, value }))
                    }
                }
            })
            .collect();
        Block { span, items }
    }

    fn expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        // `expr` wraps exactly one alternative.
        let pair = match pair.as_rule() {
            Rule::expr => pair.into_inner().next().expect("expr has one alternative"),
            _ => pair,
        };
        let span = span_of(&pair);
        let kind = match pair.as_rule() {
            Rule::string => ExprKind::Str(self.string_parts(pair)),
            Rule::int => match pair.as_str().parse::<i64>() {
                Ok(n) => ExprKind::Int(n),
                Err(_) => {
                    self.errors.push(SyntaxError::OutOfRange {
                        what: "integer",
                        text: pair.as_str().into(),
                        span,
                        help: format!("integers range from {} to {}", i64::MIN, i64::MAX),
                    });
                    ExprKind::Int(0)
                }
            },
            // Digits, a point, digits: always a finite f64.
            Rule::decimal => ExprKind::Decimal(pair.as_str().parse().unwrap_or_default()),
            Rule::bool => ExprKind::Bool(pair.as_str() == "true"),
            Rule::duration => match parse_duration(pair.as_str()) {
                Some(duration) => ExprKind::Duration(duration),
                None => {
                    self.errors.push(SyntaxError::OutOfRange {
                        what: "duration",
                        text: pair.as_str().into(),
                        span,
                        help: "write a duration such as `90s`, `10m` or `1h30m`".into(),
                    });
                    ExprKind::Duration(Duration::ZERO)
                }
            },
            Rule::list => ExprKind::List(pair.into_inner().map(|e| self.expr(e)).collect()),
            Rule::map => ExprKind::Map(
                pair.into_inner()
                    .filter_map(|entry| {
                        let mut inner = entry.into_inner();
                        let key = inner.next()?;
                        let key = match key.as_rule() {
                            Rule::string => {
                                let key_span = span_of(&key);
                                let parts = self.string_parts(key);
                                let name = ExprKind::Str(parts).as_literal_str().unwrap_or_default();
                                Ident { name, span: key_span }
                            }
                            _ => ident(key),
                        };
                        let value = self.expr(inner.next()?);
                        Some(MapEntry { key, value })
                    })
                    .collect(),
            ),
            Rule::call => {
                let mut inner = pair.into_inner();
                let callee = ident(inner.next().expect("a call has a callee"));
                let args = inner.map(|e| self.expr(e)).collect();
                ExprKind::Call { callee, args }
            }
            Rule::name_ref => ExprKind::Name(pair.as_str().to_string()),
            other => unreachable!("not an expression rule: {other:?}"),
        };
        Expr { span, kind }
    }

    fn string_parts(&mut self, pair: Pair<'_, Rule>) -> Vec<StrPart> {
        let mut parts: Vec<StrPart> = Vec::new();
        let push_text = |parts: &mut Vec<StrPart>, text: &str| match parts.last_mut() {
            Some(StrPart::Text(last)) => last.push_str(text),
            _ => parts.push(StrPart::Text(text.to_string())),
        };
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::text => push_text(&mut parts, part.as_str()),
                Rule::escape => {
                    let escaped = match &part.as_str()[1..] {
                        "\"" => "\"",
                        "\\" => "\\",
                        "n" => "\n",
                        "t" => "\t",
                        "$" => "$",
                        _ => {
                            self.errors.push(SyntaxError::UnknownEscape {
                                escape: part.as_str().to_string(),
                                span: span_of(&part),
                            });
                            ""
                        }
                    };
                    push_text(&mut parts, escaped);
                }
                Rule::interpolation => {
                    let word = part.into_inner().next().expect("interpolation has a name");
                    parts.push(StrPart::Interpolation(ident(word)));
                }
                _ => {}
            }
        }
        parts
    }
}

fn ident(pair: Pair<'_, Rule>) -> Ident {
    Ident { name: pair.as_str().to_string(), span: span_of(&pair) }
}

/// `1h30m`, `90s`, `500ms`: the grammar guarantees digits followed by a unit.
fn parse_duration(text: &str) -> Option<Duration> {
    humantime::parse_duration(text).ok()
}

/// Turns pest's error into a message that names what was expected in the
/// words of the language, and what was found instead.
fn from_pest(source: &str, error: &pest::error::Error<Rule>) -> SyntaxError {
    use pest::error::{ErrorVariant, InputLocation};
    let mut pos = match error.location {
        InputLocation::Pos(pos) => pos,
        InputLocation::Span((start, _)) => start,
    };
    if let ErrorVariant::CustomError { message } = &error.variant {
        if message.contains("limit reached") {
            return SyntaxError::ResourceLimit { span: Span::new(pos, pos) };
        }
    }
    let attempts = error.parse_attempts();
    // The furthest point the grammar reached is where the text went wrong.
    let furthest = attempts.as_ref().map(|a| a.max_position).filter(|p| *p > pos);
    let mut rules: Vec<Rule> = match (&error.variant, &attempts, furthest) {
        (_, Some(attempts), Some(furthest)) => {
            pos = furthest;
            attempts.call_stacks().iter().filter_map(|stack| stack.deepest.get_rule().copied()).collect()
        }
        (ErrorVariant::ParsingError { positives, .. }, ..) => positives.clone(),
        _ => Vec::new(),
    };
    // Where a `container` block could start, a name starts an attribute.
    if rules.contains(&Rule::kw_container) {
        for rule in rules.iter_mut().filter(|rule| **rule == Rule::word) {
            *rule = Rule::attribute;
        }
    }
    let mut expected: Vec<&'static str> = rules.into_iter().filter_map(describe_rule).collect();
    if let Some(attempts) = &attempts {
        for token in attempts.expected_tokens().iter().map(ToString::to_string) {
            expected.extend(describe_token(&token));
        }
    }
    let mut unique: Vec<&str> = Vec::new();
    for what in expected {
        if !unique.contains(&what) {
            unique.push(what);
        }
    }
    // Inside a string only the string's own end matters.
    if unique.contains(&CLOSING_QUOTE) {
        unique.retain(|w| *w == CLOSING_QUOTE);
    }
    if unique.contains(&"a new line") && unique.contains(&"end of file") {
        unique.retain(|w| *w != "end of file");
    }
    // `{` opens a map, which "a value" already says; `=` is what an attribute lacks.
    if unique.contains(&"a value") {
        unique.retain(|w| *w != "`{`");
    }
    if unique.contains(&"`=`") {
        unique.retain(|w| *w != "an attribute" && *w != "a name");
    }
    if unique.contains(&"`from`") {
        unique.retain(|w| matches!(*w, "`from`" | "`file`" | "`family`"));
    }
    let line_start = source[..pos.min(source.len())].rfind('\n').map_or(0, |i| i + 1);
    if unique == ["a new line"] && source[line_start..pos.min(source.len())].trim().is_empty() {
        unique = vec!["a statement"];
    }
    let expected = if unique.is_empty() { "a statement".to_string() } else { join_or(&unique) };
    // Inside a word or number (`10min`), show the whole of it.
    let at = pos.min(source.len());
    if source[at..].chars().next().is_some_and(is_name_char) {
        let start =
            source[..at].char_indices().rev().take_while(|(_, c)| is_name_char(*c)).last().map_or(at, |(i, _)| i);
        if start < at && source[start..].starts_with(|c: char| c.is_ascii_digit()) {
            pos = start;
        }
    }
    let (found, end) = found_at(source, pos);
    let help = if found == "end of line" && expected == CLOSING_QUOTE {
        Some("strings end on the line they start; close it with `\"`".to_string())
    } else if found == "end of file" && expected.contains('}') {
        Some("a block opened above is not closed; add the missing `}`".to_string())
    } else if expected.starts_with("a value")
        && found.starts_with('`')
        && found[1..].starts_with(|c: char| c.is_ascii_digit())
    {
        Some("durations are written `90s`, `10m`, `1h30m` or `500ms`".to_string())
    } else if expected == "a new line" && found.starts_with('`') {
        Some("each statement stands on its own line".to_string())
    } else {
        None
    };
    SyntaxError::Unexpected { expected, found, span: Span::new(pos, end), help }
}

const CLOSING_QUOTE: &str = "closing `\"`";

fn describe_rule(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of file",
        Rule::pipeline_decl
        | Rule::region_decl
        | Rule::cluster_decl
        | Rule::param_decl
        | Rule::service_decl
        | Rule::repository_decl
        | Rule::let_stmt
        | Rule::on_failure
        | Rule::unknown_stmt
        | Rule::build_step
        | Rule::push_step
        | Rule::register_step
        | Rule::suspend_step
        | Rule::resume_step
        | Rule::update_step
        | Rule::await_step
        | Rule::run_task_step
        | Rule::rollback_step
        | Rule::continue_step
        | Rule::prune_step
        | Rule::parallel_step => "a statement",
        Rule::expr
        | Rule::call
        | Rule::list
        | Rule::map
        | Rule::string
        | Rule::duration
        | Rule::decimal
        | Rule::int
        | Rule::bool
        | Rule::name_ref => "a value",
        Rule::text | Rule::escape | Rule::interpolation => CLOSING_QUOTE,
        Rule::block | Rule::step_block => "`{`",
        Rule::attribute | Rule::container_block | Rule::hook_block => "an attribute",
        Rule::map_entry => "a map entry (`KEY = value`)",
        Rule::param_type => "a type",
        Rule::word => "a name",
        Rule::kw_to => "`to`",
        Rule::kw_keep => "`keep`",
        Rule::kw_from => "`from`",
        Rule::kw_file => "`file`",
        Rule::kw_family => "`family`",
        _ => return None,
    })
}

/// Only the literal tokens a user acts on; letters and the insides of values
/// are described by their rule instead.
fn describe_token(token: &str) -> Option<&'static str> {
    Some(match token {
        "=" => "`=`",
        "," => "`,`",
        ":" => "`:`",
        "{" => "`{`",
        "}" => "`}`",
        "]" => "`]`",
        ")" => "`)`",
        "\n" | "\r\n" | "\r" => "a new line",
        "ms" | "h" | "m" | "s" => "a duration unit (`ms`, `s`, `m`, `h`)",
        _ => return None,
    })
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Describes the token at `pos` and where it ends.
fn found_at(source: &str, pos: usize) -> (String, usize) {
    let rest = &source[pos.min(source.len())..];
    let Some(first) = rest.chars().next() else {
        return ("end of file".into(), pos);
    };
    if first == '\n' || first == '\r' {
        return ("end of line".into(), pos);
    }
    let len = if is_name_char(first) {
        rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len())
    } else {
        first.len_utf8()
    };
    let text = &rest[..len];
    let shown: String = text.chars().take(40).collect();
    if first.is_control() {
        (format!("the control character U+{:04X}", first as u32), pos + len)
    } else {
        (format!("`{shown}`"), pos + len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::shape::Shape;

    fn kinds(source: &str) -> Vec<&'static str> {
        parse(source)
            .unwrap()
            .items
            .iter()
            .map(|item| match item {
                Item::Step(step) => step.kind.keyword(),
                Item::Let { .. } => "let",
                Item::Param { .. } => "param",
                Item::Service { .. } => "service",
                Item::OnFailure { .. } => "on-failure",
                _ => "other",
            })
            .collect()
    }

    #[test]
    fn parses_every_statement_form() {
        let source = r#"
pipeline "web"
region = "eu-west-1"
param tag = env("GITHUB_SHA", "dev")
param replicas: int = 2
service web = "web"
let td = register from web { container "web" { image = "nginx:1.25" } }
update web { task-definition = td, desired-count = replicas }
await-stable web { timeout = 1h30m }
on-failure {
  rollback web
}
"#;
        assert_eq!(
            kinds(source),
            ["other", "other", "param", "param", "service", "let", "update", "await-stable", "on-failure"]
        );
    }

    fn ident(name: &str) -> Ident {
        Ident { name: name.into(), span: Span::default() }
    }

    fn expr(kind: ExprKind) -> Expr {
        Expr { span: Span::default(), kind }
    }

    fn text(text: &str) -> Expr {
        expr(ExprKind::Str(vec![StrPart::Text(text.into())]))
    }

    #[test]
    fn strings_keep_escapes_and_interpolation_apart() {
        let source = r#"param x = "a\"b\${c}${ tag }\t""#;
        let file = parse(source).unwrap();
        let expected = Item::Param {
            name: ident("x"),
            ty: None,
            default: Some(expr(ExprKind::Str(vec![
                StrPart::Text("a\"b${c}".into()),
                StrPart::Interpolation(ident("tag")),
                StrPart::Text("\t".into()),
            ]))),
        };
        assert_eq!(file.items.clone().without_spans(), vec![expected]);
        // The interpolated name is underlined without the spaces around it.
        let Item::Param { default: Some(Expr { kind: ExprKind::Str(parts), .. }), .. } = &file.items[0] else {
            panic!()
        };
        let StrPart::Interpolation(tag) = &parts[1] else { panic!() };
        assert_eq!(&source[tag.span.start..tag.span.end], "tag");
    }

    #[test]
    fn a_step_parses_to_its_shape() {
        let file = parse("let td = register file \"td.json\" {\n  container \"web\" { image = img }\n}\nawait-stable web, worker { timeout = 10m }\n").unwrap();
        let step = |kind| Step { keyword: Span::default(), span: Span::default(), kind };
        let block = |items| Some(Block { span: Span::default(), items });
        let attribute = |name: &str, value| BlockItem::Attribute(Attribute { name: ident(name), value });
        let expected = File {
            items: vec![
                Item::Let {
                    name: ident("td"),
                    value: LetValue::Step(step(StepKind::Register {
                        base: RegisterBase::File(text("td.json")),
                        block: block(vec![BlockItem::Container(ContainerBlock {
                            keyword: Span::default(),
                            name: text("web"),
                            block: Block {
                                span: Span::default(),
                                items: vec![attribute("image", expr(ExprKind::Name("img".into())))],
                            },
                        })]),
                    })),
                },
                Item::Step(step(StepKind::AwaitStable {
                    services: vec![expr(ExprKind::Name("web".into())), expr(ExprKind::Name("worker".into()))],
                    block: block(vec![attribute("timeout", expr(ExprKind::Duration(Duration::from_secs(600))))]),
                })),
            ],
        };
        assert_eq!(file.clone().without_spans(), expected);
        assert!(file.eq_shape(&expected));
        assert!(!file.eq_shape(&parse("await-stable web\n").unwrap()));
    }

    #[test]
    fn continue_takes_a_service_and_an_optional_block_whose_rollback_is_a_bare_word() {
        let file = parse("continue web\ncontinue web { action = rollback }\n").unwrap();
        let step = |block| {
            Item::Step(Step {
                keyword: Span::default(),
                span: Span::default(),
                kind: StepKind::Continue { service: expr(ExprKind::Name("web".into())), block },
            })
        };
        let action =
            BlockItem::Attribute(Attribute { name: ident("action"), value: expr(ExprKind::Name("rollback".into())) });
        assert_eq!(
            file.without_spans().items,
            vec![step(None), step(Some(Block { span: Span::default(), items: vec![action] }))]
        );
    }

    #[test]
    fn a_hook_block_and_a_decimal_parse_in_an_update() {
        let file = parse("update web {\n  canary-percent = 0.5\n  hook pause { at = [post-scale-up] }\n}\n").unwrap();
        let Item::Step(Step { kind: StepKind::Update { block: Some(block), .. }, .. }) = &file.items[0] else {
            panic!("{file:?}")
        };
        let attribute = |name: &str, value| BlockItem::Attribute(Attribute { name: ident(name), value });
        let items = block.clone().without_spans().items;
        assert_eq!(
            items,
            vec![
                attribute("canary-percent", expr(ExprKind::Decimal(0.5))),
                BlockItem::Hook(HookBlock {
                    keyword: Span::default(),
                    target: expr(ExprKind::Name("pause".into())),
                    block: Block {
                        span: Span::default(),
                        items: vec![attribute(
                            "at",
                            expr(ExprKind::List(vec![expr(ExprKind::Name("post-scale-up".into()))]))
                        )],
                    },
                }),
            ]
        );
        // `1.` and `.5` are no decimals.
        assert!(parse("param x: number = 1.\n").is_err());
        assert!(parse("param x: number = .5\n").is_err());
    }

    #[test]
    fn the_grammar_reserves_the_keywords_and_reads_names_by_the_name_rule() {
        let whole = |rule: Rule, text: &str| Grammar::parse(rule, text).is_ok_and(|p| p.as_str() == text);
        for keyword in KEYWORDS {
            assert!(whole(Rule::keyword, keyword), "{keyword}");
        }
        for text in ["web", "_x", "web-app", "a1_b-2", "1web", "-web", "web.app", "update"] {
            assert_eq!(whole(Rule::word, text), super::super::names::is_name(text), "{text}");
        }
    }

    #[test]
    fn durations_add_up() {
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
    }

    #[test]
    fn nesting_past_the_limit_is_refused_before_parsing() {
        let source = format!("param x = {}{}", "[".repeat(50_000), "]".repeat(50_000));
        let errors = parse(&source).unwrap_err();
        assert!(matches!(errors[0], SyntaxError::TooDeep { .. }));
    }
}
