//! A keepalived.conf parser to a typed model, with file:line:col diagnostics.
