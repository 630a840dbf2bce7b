//! The log pipeline.
