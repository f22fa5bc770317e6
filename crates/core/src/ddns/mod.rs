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
//!   address to set, unchanged means no call);
//! - [`endpoint`]: a request served: hosts loaded, decided, nonces checked
//!   once, records set through the registrar, answers in each protocol;
//! - [`manage`]: the `hosts` commands' operations (add, list, remove, rotate);
//! - [`page`]: the host owners' page (sign in, see and update a host, see
//!   its change reach Route 53's name servers).
//!
//! `ec2-ddns update`, the signed protocol's client, is the command line's
//! (`cli::client` in the root package): the function needs no HTTP client.
//!
//! A host's registry item (key `host#NAME.`) holds its settings and the
//! records it owns, like an instance's; its record is planned by
//! `plan::plan_host` and written by `Registrar::set_host_address`, with
//! the same ownership rules, write-ahead and settling as an instance's.

pub mod answer;
pub mod auth;
pub mod decide;
pub mod endpoint;
pub mod host;
pub mod manage;
pub mod page;
pub mod request;
