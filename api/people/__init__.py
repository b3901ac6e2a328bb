"""People: an app's own identifiers for its users, the devices linked to them, direct sends."""
