//! viva-models
