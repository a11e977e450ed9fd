"""orderlink: a self-hosted server that speaks the Bitrix24 REST protocol for order bindings."""

__version__ = "0.1.0"
