//! Live cluster mode: the kube client side. Fetches workloads, runs the same engine as for
//! files, writes back with server-side apply, and follows rollouts. The engine never sees kube.

pub mod apply;
pub mod connect;
pub mod doctor;
pub mod error;
pub mod live;
mod migrate;
pub mod ownership;
pub mod resource;
pub mod rollout;
pub mod verify;
mod write;
