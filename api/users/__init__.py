"""Dashboard users: sign up, log in, JWTs."""
