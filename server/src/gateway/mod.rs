//! Transports that carry a candidate's audio into a session and the interviewer's back.
//! Each gateway only translates framing; the session runner is shared.

pub mod admission;
pub mod twilio;
pub mod webrtc;
pub mod ws;
