"""What the operator's people work from: every request and migration, and the audit log, filtered and paged."""
