//! Health checkers for real servers (TCP, HTTP, TLS, SMTP, DNS, scripts) and the scheduler that runs them.
