//! Go's `text/template`, as Loki's formatters run it.
