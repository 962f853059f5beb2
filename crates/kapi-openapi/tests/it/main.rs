//! Integration tests of kapi-openapi: built-in data, patch metadata, the v2/v3 documents compared with the
//! recordings of kube-apiserver v1.36, and the protobuf encoding.

mod definitions;
mod documents;
mod kubectl;
mod patch_meta;
mod proto;
mod reference;
mod sha512;
