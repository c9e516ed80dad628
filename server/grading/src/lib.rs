//! viva-grading (placeholder; being built).
