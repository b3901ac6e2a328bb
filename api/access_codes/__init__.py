"""Single-use numeric access codes that let a device join an app's private channels."""
