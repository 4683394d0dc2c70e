//! mirrorguard: a posture scanner for cloud traffic mirroring (MITRE ATT&CK T1020.001).
//!
//! Data flows one way:
//! `cli` turns arguments into a [`scan::ScanRequest`]; [`providers`] list every mirror through
//! the live APIs into a provider-neutral [`model::Inventory`] (with one coverage row per scope);
//! [`allowlist`] parses the approvals; [`posture`] evaluates the inventory against them into a
//! [`posture::Report`]; [`report`] renders that as a table or JSON. [`demo`] wires the same path
//! to an in-process mock cloud.

pub mod allowlist;
pub mod approve;
pub mod audit;
pub mod baseline;
pub mod cli;
pub mod demo;
pub mod export;
pub mod model;
pub mod posture;
pub mod progress;
pub mod providers;
pub mod report;
pub mod rules;
pub mod scan;
pub mod template;
pub mod timefmt;
