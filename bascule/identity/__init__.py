"""Who acts: business accounts and their users, operators, tokens and identity confirmation."""
