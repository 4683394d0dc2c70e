//! A guard against answers that parse as success but are not whole. aws-sdk-ec2's XML
//! deserializer stops quietly at the first token it cannot read, so a truncated body (a proxy
//! cutting the connection, a broken middlebox) comes back as a *successful, shorter* listing —
//! exactly the "denied or broken region looks clean" failure mirrorguard exists to prevent. This
//! interceptor checks every 2xx Query-protocol body is one complete, balanced XML document and
//! not an error envelope, and fails the call otherwise (the SDK reports it as a response error,
//! which becomes a `failed` scope).

use aws_sdk_ec2::config::interceptors::AfterDeserializationInterceptorContextRef;
use aws_sdk_ec2::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;

#[derive(Debug, Default)]
pub struct WholeXmlBody;

impl Intercept for WholeXmlBody {
    fn name(&self) -> &'static str {
        "mirrorguard::WholeXmlBody"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        if !response.status().is_success() {
            return Ok(());
        }
        match response.body().bytes() {
            Some(body) => check_whole_document(body).map_err(BoxError::from),
            None => Ok(()),
        }
    }
}

/// `Ok` when `body` is one balanced XML document whose root is not an error envelope.
pub fn check_whole_document(body: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(body).map_err(|_| "response body is not UTF-8".to_string())?;
    let mut open: Vec<&str> = Vec::new();
    let mut root: Option<&str> = None;
    let mut closed_root = false;
    for token in xmlparser::Tokenizer::from(text) {
        let token = token.map_err(|e| format!("response body is not well-formed XML: {e}"))?;
        match token {
            xmlparser::Token::ElementStart { local, .. } => {
                if closed_root {
                    return Err("response body has content after its root element".into());
                }
                root.get_or_insert(local.as_str());
                open.push(local.as_str());
            }
            xmlparser::Token::ElementEnd { end, .. } => match end {
                xmlparser::ElementEnd::Open => {}
                xmlparser::ElementEnd::Empty => {
                    open.pop();
                }
                xmlparser::ElementEnd::Close(_, local) => {
                    if open.pop() != Some(local.as_str()) {
                        return Err(format!(
                            "response body is not well-formed XML: unexpected </{}>",
                            local.as_str()
                        ));
                    }
                }
            },
            _ => {}
        }
        if root.is_some() && open.is_empty() {
            closed_root = true;
        }
    }
    match root {
        None => Err("response body is empty or has no XML element".into()),
        Some(_) if !open.is_empty() => Err(format!(
            "response body was cut off: <{}> is never closed",
            open.last().copied().unwrap_or_default()
        )),
        Some("Response") | Some("ErrorResponse") => {
            Err("the service answered HTTP 2xx with an error document".into())
        }
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::check_whole_document;

    #[test]
    fn accepts_whole_documents_and_rejects_cut_or_disguised_ones() {
        let whole = br#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeTrafficMirrorSessionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><trafficMirrorSessionSet/></DescribeTrafficMirrorSessionsResponse>
"#;
        assert_eq!(check_whole_document(whole), Ok(()));
        assert!(check_whole_document(&whole[..whole.len() - 30]).is_err());
        let at_tag_boundary =
            br#"<DescribeTrafficMirrorSessionsResponse><trafficMirrorSessionSet><item>"#;
        assert!(check_whole_document(at_tag_boundary)
            .unwrap_err()
            .contains("cut off"));
        assert!(check_whole_document(b"").is_err());
        assert!(check_whole_document(b"<html><body>proxy error</html>").is_err());
        assert!(check_whole_document(
            b"<Response><Errors><Error><Code>X</Code></Error></Errors></Response>"
        )
        .unwrap_err()
        .contains("error document"));
        assert!(check_whole_document(b"<A></A><B></B>").is_err());
    }
}
