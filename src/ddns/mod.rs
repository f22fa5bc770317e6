//! The dynamic DNS endpoint for hosts outside EC2 (routers, ddclient, the
//! route53-dynamic-dns-with-lambda clients): the contract is
//! `ddns-endpoint.md` in the spec. This is being built in steps; so far:
//!
//! - [`auth`]: the three protocols' proofs (legacy hash, HMAC signature,
//!   HTTP Basic), pure and constant-time;
//! - [`request`]: a Lambda function URL request (payload 2.0) parsed into
//!   one of the three asks, or refused with a 4xx and a reason;
//! - [`answer`]: answers as function URL responses, in each protocol's words;
//! - [`host`]: a host's name checked against its zone, its registry key, and
//!   new secrets from the OS;
//! - [`decide`]: one ask about one host decided (proof, abuse window, the
//!   address to set, unchanged means no call).
//!
//! The host's record is planned by `plan::plan_host`, with the same
//! ownership rules as an instance's. Not wired into `bootstrap` yet: the
//! host registry, the endpoint's handler and the `hosts` commands come next.

pub mod answer;
pub mod auth;
pub mod decide;
pub mod host;
pub mod request;
