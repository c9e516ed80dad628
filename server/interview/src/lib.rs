//! viva-interview: the interviewer's mind, without IO.
pub mod analysis;
pub mod bank;
pub mod guard;
pub mod job;
pub mod text;

pub use bank::QuestionBank;
pub use job::{demo_job, JobConfig, JobErrors, JobIssue};
