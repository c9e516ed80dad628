//! viva-interview (being built).
