"""The staging Docker Compose host, driven over SSH."""
