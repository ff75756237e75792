//! Task definitions, in one place: how a reference to one reads
//! ([`reference`]), how one travels as RegisterTaskDefinition's JSON input
//! ([`json`]), and what a `register` starts from and changes ([`base`]).
//! `check`, `plan` and `run` all go through here, so they agree on what a
//! task definition is.

pub mod base;
pub mod json;
pub mod reference;

pub use base::{base, changes, Base, BaseError, BaseRef};
pub use json::{apply, display, file_input, register_input, shaped_like, Changes, ContainerChanges, TaskdefError};
pub use reference::{family_of, short};
