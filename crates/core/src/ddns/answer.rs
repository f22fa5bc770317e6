//! The endpoint's answers as function URL responses: JSON for the
//! route53-dynamic-dns-with-lambda and signed protocols, plain text lines
//! for dyndns2. The response always carries `cookies` (an empty list), as
//! `aws_lambda_events`' response type does and cargo-lambda's function URL
//! emulation expects.

use super::request::{Protocol, Refusal};
use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlResponse;
use http::header::{HeaderValue, CONTENT_TYPE, WWW_AUTHENTICATE};
use serde_json::{json, Value};

/// One answer of the JSON protocols.
pub fn json_answer(status: u16, success: bool, message: &str) -> LambdaFunctionUrlResponse {
    json_answer_with(status, success, message, &[])
}

/// [`json_answer`] with more fields (a set's `change_id`, a status's
/// `change_status`): clients of the Python protocol read only the two
/// they know.
pub fn json_answer_with(
    status: u16,
    success: bool,
    message: &str,
    extra: &[(&str, &str)],
) -> LambdaFunctionUrlResponse {
    let mut body = json!({
        "return_status": if success { "success" } else { "fail" },
        "return_message": message,
    });
    for (key, value) in extra {
        body[*key] = json!(value);
    }
    response(status, "application/json", body.to_string())
}

/// The `get` answer: the caller's address and nothing else with a digit,
/// because the Python client's `dyndns.sh` reads the address out of the
/// answer with `egrep -o '[0-9\.]+'`.
pub fn json_get(source_ip: &str) -> LambdaFunctionUrlResponse {
    json_answer(200, true, source_ip)
}

/// A dyndns2 answer: one line per host name (`good 203.0.113.7`,
/// `nochg …`, `badauth`, …), always HTTP 200 except where a client must
/// see otherwise (401 asks for credentials).
pub fn dyndns2_answer(status: u16, lines: &[String]) -> LambdaFunctionUrlResponse {
    let mut response = response(status, "text/plain; charset=utf-8", lines.join("\n") + "\n");
    if status == 401 {
        response.headers.insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"ec2-ddns\""),
        );
    }
    response
}

/// A refused request, in its protocol's words.
pub fn refusal(refused: &Refusal) -> LambdaFunctionUrlResponse {
    match refused.protocol {
        Protocol::Json => json_answer(refused.status, false, &refused.reason),
        Protocol::Dyndns2 => dyndns2_answer(refused.status, std::slice::from_ref(&refused.reason)),
    }
}

fn response(status: u16, content_type: &'static str, body: String) -> LambdaFunctionUrlResponse {
    let mut response = LambdaFunctionUrlResponse::default();
    response.status_code = i64::from(status);
    response
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.body = Some(body);
    response.is_base64_encoded = false;
    response.cookies = Vec::new();
    response
}

/// The response as the invocation's answer.
pub fn to_json(response: &LambdaFunctionUrlResponse) -> Value {
    serde_json::to_value(response).unwrap_or_else(|e| {
        json!({"statusCode": 500, "body": e.to_string(), "isBase64Encoded": false, "cookies": []})
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_answers_have_the_python_clients_shape_and_cookies() {
        let answer = to_json(&json_answer(
            201,
            true,
            "host1.dyn.example.com set to 203.0.113.7",
        ));
        assert_eq!(answer["statusCode"], 201);
        assert_eq!(answer["cookies"], json!([]), "{answer}");
        assert_eq!(answer["headers"]["content-type"], "application/json");
        let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["return_status"], "success");
        assert_eq!(
            body["return_message"],
            "host1.dyn.example.com set to 203.0.113.7"
        );
    }

    #[test]
    fn the_get_answer_holds_no_digit_but_the_address() {
        let answer = to_json(&json_get("203.0.113.7"));
        let body = answer["body"].as_str().unwrap();
        let digits: String = body
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        assert_eq!(digits, "203.0.113.7", "{body}");
    }

    #[test]
    fn dyndns2_answers_are_lines_and_badauth_asks_for_credentials() {
        let answer = to_json(&dyndns2_answer(
            200,
            &["good 203.0.113.7".into(), "nochg 203.0.113.7".into()],
        ));
        assert_eq!(answer["body"], "good 203.0.113.7\nnochg 203.0.113.7\n");
        assert_eq!(
            answer["headers"]["content-type"],
            "text/plain; charset=utf-8"
        );
        assert!(answer["headers"].get("www-authenticate").is_none());
        let refused = Refusal {
            status: 401,
            protocol: Protocol::Dyndns2,
            reason: "badauth".into(),
        };
        let answer = to_json(&refusal(&refused));
        assert_eq!(answer["statusCode"], 401);
        assert_eq!(answer["body"], "badauth\n");
        assert_eq!(
            answer["headers"]["www-authenticate"],
            "Basic realm=\"ec2-ddns\""
        );
    }
}
