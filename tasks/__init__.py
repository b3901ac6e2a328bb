"""taskiq broker and thin task wrappers around api's delivery code."""
