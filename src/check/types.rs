//! The types of values, and what a position in the language accepts.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    String,
    Int,
    /// A decimal: `0.5`, `: number` params.
    Number,
    Bool,
    Duration,
    List(Box<Type>),
    Map,
    Service,
    Repository,
    /// Built locally by `build`.
    Image,
    /// In a registry, pinned by digest: what `push` yields.
    ImageRef,
    /// `family:revision`: what `register` yields.
    TaskDefinition,
    /// What `run-task` yields.
    Task,
    /// The type of something already reported as wrong; accepted everywhere so
    /// one mistake gives one diagnostic.
    Invalid,
}

impl Type {
    /// Whether a value of this type may stand where a `string` is expected.
    pub fn converts_to_string(&self) -> bool {
        matches!(self, Type::String | Type::ImageRef | Type::TaskDefinition | Type::Invalid)
    }

    /// Whether `${name}` may interpolate a value of this type.
    pub fn interpolates(&self) -> bool {
        self.converts_to_string() || matches!(self, Type::Int | Type::Number | Type::Bool | Type::Duration | Type::Task)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::String => f.write_str("string"),
            Type::Int => f.write_str("int"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::Duration => f.write_str("duration"),
            Type::List(element) if **element == Type::Invalid => f.write_str("list"),
            Type::List(element) => write!(f, "list<{element}>"),
            Type::Map => f.write_str("map<string>"),
            Type::Service => f.write_str("service"),
            Type::Repository => f.write_str("repository"),
            Type::Image => f.write_str("image"),
            Type::ImageRef => f.write_str("image-ref"),
            Type::TaskDefinition => f.write_str("task-definition"),
            Type::Task => f.write_str("task"),
            Type::Invalid => f.write_str("unknown"),
        }
    }
}

/// What a position accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    String,
    Int,
    /// A `number`, or an `int` where a number is wanted.
    Number,
    Bool,
    Duration,
    StringList,
    Map,
    Service,
    Repository,
    Image,
    /// A container's `image`: a pushed image or a reference written out.
    ImageRefOrString,
    /// A registered task definition, or `family[:revision]` / an ARN written out.
    TaskDefinitionOrString,
    /// Task-level `cpu` and `memory`: what ECS takes.
    StringOrInt,
    /// An enumerated attribute: one of these bare words.
    Word(&'static [&'static str]),
    /// A non-empty list of bare words from this set (`at = [post-scale-up]`).
    WordList(&'static [&'static str]),
    /// An `int`, or one of these bare words (`early-success = off`).
    IntOrWord(&'static [&'static str]),
}

impl Want {
    pub fn accepts(self, ty: &Type) -> bool {
        if *ty == Type::Invalid {
            return true;
        }
        match self {
            Want::String => ty.converts_to_string(),
            Want::Int | Want::IntOrWord(_) => *ty == Type::Int,
            Want::Number => matches!(ty, Type::Int | Type::Number),
            Want::Bool => *ty == Type::Bool,
            Want::Duration => *ty == Type::Duration,
            Want::StringList => match ty {
                Type::List(element) => element.converts_to_string(),
                _ => false,
            },
            Want::Map => *ty == Type::Map,
            Want::Service => *ty == Type::Service,
            Want::Repository => *ty == Type::Repository,
            Want::Image => *ty == Type::Image,
            Want::ImageRefOrString | Want::TaskDefinitionOrString => ty.converts_to_string(),
            Want::StringOrInt => ty.converts_to_string() || *ty == Type::Int,
            Want::Word(_) | Want::WordList(_) => false,
        }
    }
}

impl fmt::Display for Want {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Want::String => f.write_str("`string`"),
            Want::Int => f.write_str("`int`"),
            Want::Number => f.write_str("`number` or `int`"),
            Want::Bool => f.write_str("`bool`"),
            Want::Duration => f.write_str("`duration`"),
            Want::StringList => f.write_str("`list<string>`"),
            Want::Map => f.write_str("`map<string>`"),
            Want::Service => f.write_str("`service`"),
            Want::Repository => f.write_str("`repository`"),
            Want::Image => f.write_str("`image`"),
            Want::ImageRefOrString => f.write_str("`image-ref` or `string`"),
            Want::TaskDefinitionOrString => f.write_str("`task-definition` or `string`"),
            Want::StringOrInt => f.write_str("`string` or `int`"),
            Want::Word(words) => {
                let words: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
                write!(f, "one of {}", words.join(", "))
            }
            Want::WordList(words) => {
                let words: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
                write!(f, "a list of {}", words.join(", "))
            }
            Want::IntOrWord(words) => {
                let words: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
                write!(f, "`int` or {}", words.join(", "))
            }
        }
    }
}
