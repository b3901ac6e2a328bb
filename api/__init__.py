"""Booper: a self-hostable push-notification service."""

import os

# Piccolo finds its engine through this module; set it once for every entry point.
os.environ.setdefault("PICCOLO_CONF", "api.piccolo_conf")
