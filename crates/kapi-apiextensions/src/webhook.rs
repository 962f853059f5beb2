//! Conversion strategy `Webhook`: the versions of a CRD converted by its conversion webhook (`kapi-webhook`).
//!
//! [`conversion_factory`] builds each served version's strategy with the converter its CRD asks for: `None`
//! ([`NoneConverter`]) or `Webhook` (a ConversionReview over HTTPS to the CRD's `clientConfig`; service
//! references resolve through a [`ServiceResolver`]). The strategy hooks are synchronous, so webhook calls run
//! on one conversion thread shared by all CRDs of a controller. A CRD whose webhook cannot be set up (a caBundle
//! without a certificate) still serves, and every conversion fails with the reason, as kube-apiserver answers
//! every request for such a CRD with it.

use std::sync::{Arc, OnceLock};

use kapi_registry::Strategy;
use kapi_webhook::{
    conversion::{converter_for_crd, BlockingConverter, ConversionThread},
    ServiceResolver, DEFAULT_TIMEOUT,
};
use serde_json::Value;

use crate::{
    controller::StrategyFactory,
    conversion::{Converter, NoneConverter},
    custom::CustomResource,
};

/// A strategy factory that converts through each CRD's `spec.conversion` (see the module docs).
pub fn conversion_factory(resolver: Arc<dyn ServiceResolver>) -> StrategyFactory {
    let converters = Arc::new(Converters {
        resolver,
        thread: OnceLock::new(),
    });
    Arc::new(move |crd: &Value, version: &str| {
        let converter = converters.converter(crd);
        CustomResource::with_converter(crd, version, converter).map(|strategy| Arc::new(strategy) as Arc<dyn Strategy>)
    })
}

/// What a factory needs to build converters: the resolver and, once a webhook CRD appears, the thread.
struct Converters {
    resolver: Arc<dyn ServiceResolver>,
    thread: OnceLock<Result<ConversionThread, String>>,
}

impl Converters {
    fn converter(&self, crd: &Value) -> Arc<dyn Converter> {
        let group = crd
            .pointer("/spec/group")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let strategy = crd.pointer("/spec/conversion/strategy").and_then(Value::as_str);
        if matches!(strategy, None | Some("None")) {
            return Arc::new(NoneConverter::new(&group));
        }
        let converter = match converter_for_crd(crd, Arc::clone(&self.resolver), DEFAULT_TIMEOUT) {
            Ok(converter) => converter,
            Err(error) => return Arc::new(Unconvertible(error.to_string())),
        };
        let thread = self
            .thread
            .get_or_init(|| ConversionThread::start().map_err(|error| format!("no conversion thread: {error}")));
        match thread {
            Ok(thread) => Arc::new(WebhookConversion {
                group,
                converter: BlockingConverter::new(thread.clone(), converter),
            }),
            Err(error) => Arc::new(Unconvertible(error.clone())),
        }
    }
}

/// A webhook converter behind the synchronous [`Converter`] seam.
struct WebhookConversion {
    group: String,
    converter: BlockingConverter,
}

impl Converter for WebhookConversion {
    fn convert(&self, object: Value, to_version: &str) -> Result<Value, String> {
        let desired = format!("{}/{to_version}", self.group);
        let mut converted = self
            .converter
            .convert(vec![object], &desired)
            .map_err(|error| error.message().to_owned())?;
        converted
            .pop()
            .ok_or_else(|| format!("conversion to {desired} returned no object"))
    }
}

/// The converter of a CRD whose conversion cannot be set up: every conversion fails with why.
struct Unconvertible(String);

impl Converter for Unconvertible {
    fn convert(&self, _object: Value, _to_version: &str) -> Result<Value, String> {
        Err(self.0.clone())
    }
}
