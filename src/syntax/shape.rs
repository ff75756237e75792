//! Comparing syntax trees by shape, ignoring where they were written (as
//! cedar's `eq_shape`), so a parser test states the tree it expects without
//! byte offsets. Spans keep their real equality everywhere else.

use super::ast::*;

pub trait Shape: Clone + PartialEq {
    /// Sets every span in the tree to `Span::default()`.
    fn erase_spans(&mut self);

    /// The tree without its spans: `assert_eq!` on two of these compares shapes
    /// and shows the difference.
    fn without_spans(mut self) -> Self {
        self.erase_spans();
        self
    }

    fn eq_shape(&self, other: &Self) -> bool {
        self.clone().without_spans() == other.clone().without_spans()
    }
}

impl Shape for Span {
    fn erase_spans(&mut self) {
        *self = Span::default();
    }
}

impl<T: Shape> Shape for Vec<T> {
    fn erase_spans(&mut self) {
        self.iter_mut().for_each(T::erase_spans);
    }
}

impl<T: Shape> Shape for Option<T> {
    fn erase_spans(&mut self) {
        if let Some(inner) = self {
            inner.erase_spans();
        }
    }
}

impl Shape for Ident {
    fn erase_spans(&mut self) {
        self.span.erase_spans();
    }
}

impl Shape for File {
    fn erase_spans(&mut self) {
        self.items.erase_spans();
    }
}

impl Shape for Item {
    fn erase_spans(&mut self) {
        match self {
            Item::Pipeline { keyword, name: value }
            | Item::Region { keyword, value }
            | Item::Cluster { keyword, value } => {
                keyword.erase_spans();
                value.erase_spans();
            }
            Item::Param { name, ty, default } => {
                name.erase_spans();
                ty.erase_spans();
                default.erase_spans();
            }
            Item::Service { name, value } | Item::Repository { name, value } => {
                name.erase_spans();
                value.erase_spans();
            }
            Item::Let { name, value } => {
                name.erase_spans();
                match value {
                    LetValue::Step(step) => step.erase_spans(),
                    LetValue::Expr(expr) => expr.erase_spans(),
                }
            }
            Item::Step(step) => step.erase_spans(),
            Item::OnFailure { keyword, steps } => {
                keyword.erase_spans();
                steps.erase_spans();
            }
        }
    }
}

impl Shape for Step {
    fn erase_spans(&mut self) {
        self.keyword.erase_spans();
        self.span.erase_spans();
        match &mut self.kind {
            StepKind::Build { context: operand, block }
            | StepKind::Update { service: operand, block }
            | StepKind::Continue { service: operand, block }
            | StepKind::RunTask { task_definition: operand, block } => {
                operand.erase_spans();
                block.erase_spans();
            }
            StepKind::Push { image, repository, block } => {
                image.erase_spans();
                repository.erase_spans();
                block.erase_spans();
            }
            StepKind::Register { base, block } => {
                match base {
                    RegisterBase::Service(expr) | RegisterBase::File(expr) | RegisterBase::Family(expr) => {
                        expr.erase_spans()
                    }
                }
                block.erase_spans();
            }
            StepKind::SuspendScaling { service } | StepKind::ResumeScaling { service } => service.erase_spans(),
            StepKind::AwaitStable { services, block } => {
                services.erase_spans();
                block.erase_spans();
            }
            StepKind::Rollback { service, to } => {
                service.erase_spans();
                to.erase_spans();
            }
            StepKind::Prune { task_definition, keep } => {
                task_definition.erase_spans();
                keep.erase_spans();
            }
            StepKind::Parallel { steps } => steps.erase_spans(),
        }
    }
}

impl Shape for Block {
    fn erase_spans(&mut self) {
        self.span.erase_spans();
        for item in &mut self.items {
            match item {
                BlockItem::Attribute(Attribute { name, value }) => {
                    name.erase_spans();
                    value.erase_spans();
                }
                BlockItem::Container(ContainerBlock { keyword, name, block }) => {
                    keyword.erase_spans();
                    name.erase_spans();
                    block.erase_spans();
                }
                BlockItem::Hook(HookBlock { keyword, target, block }) => {
                    keyword.erase_spans();
                    target.erase_spans();
                    block.erase_spans();
                }
            }
        }
    }
}

impl Shape for Expr {
    fn erase_spans(&mut self) {
        self.span.erase_spans();
        match &mut self.kind {
            ExprKind::Str(parts) => {
                for part in parts {
                    if let StrPart::Interpolation(ident) = part {
                        ident.erase_spans();
                    }
                }
            }
            ExprKind::Int(_) | ExprKind::Decimal(_) | ExprKind::Bool(_) | ExprKind::Duration(_) | ExprKind::Name(_) => {
            }
            ExprKind::List(items) => items.erase_spans(),
            ExprKind::Map(entries) => {
                for MapEntry { key, value } in entries {
                    key.erase_spans();
                    value.erase_spans();
                }
            }
            ExprKind::Call { callee, args } => {
                callee.erase_spans();
                args.erase_spans();
            }
        }
    }
}
