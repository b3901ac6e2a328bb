"""Piccolo configuration (PICCOLO_CONF=api.piccolo_conf): the engine comes from settings."""

from piccolo.conf.apps import AppRegistry

from api.db import make_engine
from api.settings import get_settings

DB = make_engine(get_settings())

APP_REGISTRY = AppRegistry(apps=["api.piccolo_app"])
