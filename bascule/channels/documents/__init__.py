"""Documents for people: the invoice as an HTML page and as a PDF, from one template."""
