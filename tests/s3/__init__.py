"""Tests against a real S3 server (s3s-fs) on loopback."""
