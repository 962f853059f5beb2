//! kapi-cel's integration tests: the language, compilation errors, transition rules, cost bounds, the
//! kube-apiserver recordings, and a property test.

mod compile_errors;
mod cost;
mod language;
mod properties;
mod recordings;
mod transition;
