//! Task definitions travel as the JSON ECS speaks, not as SDK structs: what
//! `describe-task-definition` returns is what `register` sends back, with no
//! field lost in a conversion. Two interceptors make the SDK do that: one
//! keeps a response's raw body, one replaces a request's body before signing.

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;

/// Keeps the raw JSON body of the response.
#[derive(Debug, Clone, Default)]
pub struct CaptureBody(Arc<Mutex<Option<Vec<u8>>>>);

impl CaptureBody {
    pub fn json(&self) -> Option<serde_json::Value> {
        let body = self.0.lock().ok()?.take()?;
        serde_json::from_slice(&body).ok()
    }
}

impl Intercept for CaptureBody {
    fn name(&self) -> &'static str {
        "ecsflow::CaptureBody"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let (Some(bytes), Ok(mut slot)) = (context.response().body().bytes(), self.0.lock()) {
            *slot = Some(bytes.to_vec());
        }
        Ok(())
    }
}

/// Sends this JSON as the request body instead of what the SDK serialized.
#[derive(Debug, Clone)]
pub struct ReplaceBody(pub Vec<u8>);

impl Intercept for ReplaceBody {
    fn name(&self) -> &'static str {
        "ecsflow::ReplaceBody"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        request.headers_mut().insert("content-length", self.0.len().to_string());
        *request.body_mut() = SdkBody::from(self.0.clone());
        Ok(())
    }
}
