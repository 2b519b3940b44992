"""A local, stateful stand-in for TikTok Shop's API and auth hosts (work in progress)."""
