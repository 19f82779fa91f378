"""What customers owe: charge lines per account and period (invoices come with the bill run)."""
