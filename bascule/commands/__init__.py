"""Running a command: one use case in one transaction, with the answer a retry will get."""
