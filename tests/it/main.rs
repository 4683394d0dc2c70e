//! mirrorguard's integration tests, in one binary so the cloud SDKs are linked once.
//! Every test runs the real binary against the mock cloud (or moto) on loopback.

mod allowlist;
mod approve;
mod audit;
mod aws;
mod azure;
mod baseline;
mod cli;
mod conformance;
mod export;
mod gcp;
mod live;
mod moto;
mod organization;
mod support;
