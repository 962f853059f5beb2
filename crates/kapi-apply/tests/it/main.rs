//! kapi-apply's tests: the scenario corpus, FieldsV1 encoding, the field manager's bookkeeping, property tests.

mod corpus;
mod corpus_cases;
mod corpus_shapes;
mod fields_v1;
mod fixture;
mod manager;
mod properties;
