"""Domain core: no Qt, no HTTP. Everything the UI, CLI and sync do goes through Workspace."""
