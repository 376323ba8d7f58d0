"""One module a command (asv style): each registers its subparser and its handler."""
