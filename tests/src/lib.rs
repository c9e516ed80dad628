//! viva-e2e
